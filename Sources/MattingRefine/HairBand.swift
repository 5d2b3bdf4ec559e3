import MattingThreads
import MattingImage

/// Where a trimap's unknown band widens for hair (``Trimap/Options/hairBand``).
///
/// Closed-form matting degrades in a wide band over a busy background, so a uniformly wider
/// band makes mattes worse; hair needs one anyway, because strands reach well past the
/// segmenter's soft contour. So the band is ``widthFactor`` times its usual radius only where
/// the edge looks like hair, and keeps its usual radius along smooth edges (shoulders,
/// clothes). A pixel of the wide band is made unknown when, in the window of the wide radius
/// around it (evaluated on blocks of half a band radius):
///
/// - **partial alpha over a broad zone**: the coarse alpha's partial pixels (0.1 < α < 0.9),
///   divided by the length of the 0.5 contour in the window, give the width of the soft zone
///   across the contour; at or above ``partialWidth`` band radii it is hair-like (the
///   256×256 selfie model's edge, upsampled, is about one to two band radii soft along most
///   of a person, so the threshold sits there);
/// - **high-frequency texture along the edge** (needs the photo): the mean of
///   |luminance − mean of its four neighbours| over the foreground side of the narrow band
///   (coarse α ≥ 0.5) is at or above ``texture`` while the soft zone is at least
///   ``textureGate`` × ``partialWidth`` wide; the background side does not count, so a busy
///   background alone does not widen the band;
/// - or it lies in one of the caller's regions (around and above a detected head).
///
/// Pixels of the narrow trimap are only ever made unknown: a known pixel never changes to
/// the other known value, and the band is never narrower than without the option.
public struct HairBand: Sendable, Hashable, Codable {
    /// The wide band's radius as a multiple of the narrow one (1…8). Default 3.
    public var widthFactor: Int = 3
    /// Soft-zone width across the contour, in band radii, at or above which the band widens.
    /// Default 1.5.
    public var partialWidth: Float = 1.5
    /// Mean high-frequency luminance (0…1 scale) along the foreground side of the edge at or
    /// above which the band widens. Default 0.04. `.infinity` turns the texture cue off.
    public var texture: Float = 0.04
    /// The fraction of ``partialWidth`` the soft zone must reach for the texture cue to count
    /// (0…1). Default 0.5.
    public var textureGate: Float = 0.5

    /// The defaults above.
    public init() {}

    /// Throws `ImageError.invalidArgument` for settings out of range.
    func validate() throws {
        guard (1...8).contains(widthFactor) else {
            throw ImageError.invalidArgument("hair band widthFactor \(widthFactor) must be 1…8")
        }
        guard partialWidth >= 0, !partialWidth.isNaN, texture >= 0, !texture.isNaN, (0...1).contains(textureGate) else {
            throw ImageError.invalidArgument(
                "hair band partialWidth \(partialWidth), texture \(texture) must be ≥ 0 and textureGate \(textureGate) 0…1")
        }
    }
}

extension Trimap {
    /// Makes unknown the pixels of the `widthFactor × radius` band that look like hair
    /// (``HairBand``); `values` is the narrow trimap and only its known pixels change, to unknown.
    ///
    /// Cost: one pass over the picture gathering four sums per block of `b = max(1, radius / 2)`
    /// pixels (rows of blocks on the pool), box sums over the small block grid, one more pass
    /// over the picture, and the wide classification. Deterministic for any thread count: every
    /// sum is made by one thread in a fixed order.
    static func widenForHair(
        _ values: inout [UInt8], alpha: UnsafePointer<Float>, rowStride: Int, width w: Int, height h: Int,
        guide: FloatImage?, regions: [ImageRect], radius r: Int, hair: HairBand, options: Options, pool: ThreadPool
    ) {
        if w == 0 || h == 0 || hair.widthFactor <= 1 { return }
        let wideRadius = hair.widthFactor * r
        let wide = classify(alpha, rowStride: rowStride, width: w, height: h, radius: wideRadius, options: options, pool: pool)
        let b = max(1, r / 2)
        let gw = (w + b - 1) / b, gh = (h + b - 1) / b
        // Per block: partial pixels, contour steps, high-frequency sum and count on the foreground side.
        var partial = [Float](repeating: 0, count: gw * gh), contour = partial, texture = partial, sides = partial
        let useTexture = guide != nil && hair.texture.isFinite
        // The guide's luminance is read only where the texture cue looks (the foreground side
        // of the narrow band): mean of its first three channels, or its one channel.
        let guideImage = useTexture ? guide : nil
        let channels = min(3, guide?.channelCount ?? 1), step = guide?.channelCount ?? 1
        let scale = 1 / Float(channels)
        func gather(_ g: UnsafePointer<Float>?, _ gStride: Int) {
            values.withUnsafeBufferPointer { narrow in
                partial.withUnsafeMutableBufferPointer { P in
                    contour.withUnsafeMutableBufferPointer { C in
                        texture.withUnsafeMutableBufferPointer { T in
                            sides.withUnsafeMutableBufferPointer { N in
                                let shared = UncheckedSendable(
                                    (narrow.baseAddress!, g, P.baseAddress!, C.baseAddress!, T.baseAddress!, N.baseAddress!))
                                parallelChunks(gh, pool: pool) { blockRows in
                                    let (narrow, g, P, C, T, N) = shared.value
                                    @inline(__always) func luma(_ x: Int, _ y: Int) -> Float {
                                        guard let g else { return 0 }
                                        let p = g + y * gStride + x * step
                                        var sum: Float = 0
                                        for c in 0..<channels { sum += p[c] }
                                        return sum * scale
                                    }
                                    // Per column, counts over the block row's rows (whole-row loops that
                                    // vectorise), then reduced to blocks once per block row.
                                    let columnP = UnsafeMutablePointer<Int32>.allocate(capacity: w)
                                    let columnC = UnsafeMutablePointer<Int32>.allocate(capacity: w)
                                    defer { columnP.deallocate(); columnC.deallocate() }
                                    for by in blockRows {
                                        columnP.initialize(repeating: 0, count: w)
                                        columnC.initialize(repeating: 0, count: w)
                                        for y in (by * b)..<min(h, by * b + b) {
                                            let a = alpha + y * rowStride
                                            let below = y + 1 < h ? alpha + (y + 1) * rowStride : a
                                            for x in 0..<w {
                                                let v = a[x]
                                                columnP[x] &+= (v > 0.1 && v < 0.9) ? 1 : 0
                                                columnC[x] &+= ((below[x] >= 0.5) != (v >= 0.5)) ? 1 : 0
                                            }
                                            for x in 0..<(w - 1) {
                                                columnC[x] &+= ((a[x + 1] >= 0.5) != (a[x] >= 0.5)) ? 1 : 0
                                            }
                                            guard g != nil else { continue }
                                            let known = narrow + y * w
                                            for x in 0..<w where known[x] == Trimap.unknownValue && a[x] >= 0.5 {
                                                let around = luma(max(0, x - 1), y) + luma(min(w - 1, x + 1), y)
                                                    + luma(x, max(0, y - 1)) + luma(x, min(h - 1, y + 1))
                                                T[by * gw + x / b] += abs(luma(x, y) - 0.25 * around)
                                                N[by * gw + x / b] += 1
                                            }
                                        }
                                        for bx in 0..<gw {
                                            var sumP: Int32 = 0, sumC: Int32 = 0
                                            for x in (bx * b)..<min(w, bx * b + b) {
                                                sumP &+= columnP[x]
                                                sumC &+= columnC[x]
                                            }
                                            P[by * gw + bx] = Float(sumP)
                                            C[by * gw + bx] = Float(sumC)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let guideImage {
            guideImage.withUnsafeBufferPointer { g, stride in gather(g, stride) }
        } else {
            gather(nil, 0)
        }
        // Window sums over blocks: the wide radius in blocks.
        let blockRadius = (wideRadius + b - 1) / b
        func boxed(_ plane: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: plane.count)
            plane.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { d in
                    BoxKernel.boxSum(s.baseAddress!, d.baseAddress!, width: gw, height: gh, radius: blockRadius)
                }
            }
            return out
        }
        let sumP = boxed(partial), sumC = boxed(contour)
        let sumT = useTexture ? boxed(texture) : [], sumN = useTexture ? boxed(sides) : []
        // Per block: does the edge look like hair?
        var hairy = [Bool](repeating: false, count: gw * gh)
        let unit = 1 / Float(r)
        for i in 0..<(gw * gh) {
            let width = sumP[i] / max(sumC[i], 1) * unit
            var yes = sumC[i] > 0 && width >= hair.partialWidth
            if !yes && useTexture && sumN[i] > 0 && width >= hair.textureGate * hair.partialWidth {
                yes = sumT[i] / sumN[i] >= hair.texture
            }
            hairy[i] = yes
        }
        values.withUnsafeMutableBufferPointer { out in
            wide.withUnsafeBufferPointer { wide in
                hairy.withUnsafeBufferPointer { hairy in
                    let shared = UncheckedSendable((out.baseAddress!, wide.baseAddress!, hairy.baseAddress!))
                    parallelChunks(h, pool: pool) { rows in
                        let (out, wide, hairy) = shared.value
                        for y in rows {
                            let o = out + y * w, wv = wide + y * w, blockRow = hairy + (y / b) * gw
                            for x in 0..<w where wv[x] == Trimap.unknownValue && o[x] != Trimap.unknownValue {
                                if blockRow[x / b] || regions.contains(where: { $0.contains(x: x, y: y) }) {
                                    o[x] = Trimap.unknownValue
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

