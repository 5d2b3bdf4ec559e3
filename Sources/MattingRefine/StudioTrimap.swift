import MattingImage


/// A trimap for a subject on a plain or near-uniform backdrop, from colour distance alone.
///
/// 1. The backdrop colour is the per-channel median of a border strip
///    (``borderFraction`` of the short side, at least 2 px).
/// 2. Its noise level `s` is the median colour distance of the border pixels to it.
/// 3. Pixels at distance ≥ `max(minimumBackgroundDistance, 3 s)` + ``subjectMargin`` are
///    subject. A strong subject colour makes even a faint edge pixel pass that test, so only
///    subject pixels at least ``bandRadius`` inside the subject region (an erosion) are
///    surely subject — unless that leaves none, as for a subject made only of thin
///    structures, when every subject pixel is kept.
/// 4. A pixel is surely backdrop if its distance is ≤ `max(minimumBackgroundDistance, 3 s)`
///    and no subject pixel lies within ``bandRadius`` of it. Everything else is unknown —
///    soft edges, shadows and fine structure are left to the solver.
public struct StudioTrimap: Sendable, Hashable {
    /// Width of the border strip the backdrop is sampled from, as a fraction of the short side.
    public var borderFraction: Float = 0.02
    /// Smallest colour distance (RGB, 0…1 per channel) still counted as backdrop.
    public var minimumBackgroundDistance: Float = 0.06
    /// How much farther than the backdrop threshold a pixel must be to count as subject.
    public var subjectMargin: Float = 0.12
    /// Unknown ring kept around the subject, in pixels.
    public var bandRadius: Int = 3

    public init() {}

    /// The trimap of `image` (RGB/RGBA or gray, values 0…1).
    public func trimap(for image: FloatImage) throws -> Trimap {
        let rgb = image.layout.isColor ? image.converted(to: .rgb) : image.converted(to: .rgb)
        let w = rgb.width, h = rgb.height
        guard w > 0, h > 0 else { throw ImageError.invalidArgument("cannot make a trimap of an empty image") }
        let border = max(2, Int(borderFraction * Float(min(w, h))))
        let pixels = rgb.packedComponents
        var samples: [[Float]] = [[], [], []]
        for y in 0..<h {
            for x in 0..<w where x < border || y < border || x >= w - border || y >= h - border {
                for c in 0..<3 { samples[c].append(pixels[3 * (y * w + x) + c]) }
            }
        }
        let backdrop = samples.map { median($0) }
        func distance(_ i: Int) -> Float {
            let dr = pixels[3 * i] - backdrop[0], dg = pixels[3 * i + 1] - backdrop[1], db = pixels[3 * i + 2] - backdrop[2]
            return (dr * dr + dg * dg + db * db).squareRoot()
        }
        var borderDistances: [Float] = []
        for y in 0..<h {
            for x in 0..<w where x < border || y < border || x >= w - border || y >= h - border {
                borderDistances.append(distance(y * w + x))
            }
        }
        let backgroundThreshold = max(minimumBackgroundDistance, 3 * median(borderDistances))
        let subjectThreshold = backgroundThreshold + subjectMargin
        var subject = [Float](repeating: 0, count: w * h)
        var backdropMask = [Bool](repeating: false, count: w * h)
        for i in 0..<w * h {
            let d = distance(i)
            if d >= subjectThreshold { subject[i] = 1 }
            backdropMask[i] = d <= backgroundThreshold
        }
        let subjectImage = try FloatImage(width: w, height: h, layout: .gray, components: subject)
        let nearValues = try subjectImage.dilated(radius: bandRadius).packedComponents
        var sure = try subjectImage.eroded(radius: bandRadius).packedComponents
        if !sure.contains(1) { sure = subject }
        var trimap = Image(width: w, height: h, layout: .gray, repeating: Trimap.unknownValue)
        trimap.withUnsafeMutableBufferPointer { t, stride in
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    if sure[i] == 1 { t[y * stride + x] = 255 } else if backdropMask[i] && nearValues[i] == 0 { t[y * stride + x] = 0 }
                }
            }
        }
        return Trimap(trimap)
    }

    private func median(_ values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
