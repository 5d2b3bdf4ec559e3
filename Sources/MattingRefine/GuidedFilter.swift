import MattingThreads
import MattingImage

/// The guided filter (He, Sun & Tang, "Guided Image Filtering", ECCV 2010 / TPAMI 2013):
/// an edge-preserving smoothing of an input that follows the edges of a guide picture.
///
/// In every `(2r+1)²` window the output is modelled as a linear function of the guide,
/// `q = a·I + b`, fitted to the input `p` by ridge regression with strength `epsilon`; the
/// per-window coefficients are averaged over the windows covering each pixel. A gray guide
/// uses the scalar formula; a colour guide (RGB, or RGBA with alpha ignored) uses the
/// 3×3 covariance `Σ + εU` and its inverse. All means are box means with windows clipped at
/// the borders (`boxFiltered(radius:pool:)`), so the cost is O(1) per pixel
/// whatever the radius, and a constant input stays constant.
///
/// ```swift
/// let refined = try GuidedFilter(radius: 8, epsilon: 1e-4).filtered(matte, guide: photo)
/// ```
public struct GuidedFilter: Sendable, Hashable {
    /// Window half-size in pixels (≥ 0; 0 is the identity).
    public var radius: Int
    /// Regularisation on the 0…1 value scale (> 0; larger is smoother). Typical: 1e-4…1e-2.
    public var epsilon: Float

    /// A filter with window radius `radius` (≥ 0) and regularisation `epsilon` (> 0);
    /// checked when filtering.
    public init(radius: Int, epsilon: Float) {
        self.radius = radius
        self.epsilon = epsilon
    }

    /// Filters every channel of `input` with `guide`.
    ///
    /// - Parameters:
    ///   - input: any layout; each channel is filtered independently.
    ///   - guide: gray/gray+alpha (scalar guide) or RGB/RGBA (colour guide), same size as `input`.
    ///   - pool: the threads to work on; the result does not depend on their number.
    /// - Returns: a picture of `input`'s size and layout (values are not clamped).
    /// - Throws: `ImageError.invalidArgument` for a negative radius, a non-positive
    ///   epsilon or a size mismatch.
    public func filtered(_ input: FloatImage, guide: FloatImage, pool: ThreadPool = .serial) throws -> FloatImage {
        guard radius >= 0 else { throw ImageError.invalidArgument("guided filter radius \(radius) is negative") }
        guard epsilon > 0, epsilon.isFinite else {
            throw ImageError.invalidArgument("guided filter epsilon \(epsilon) must be positive")
        }
        try requireSameSize(input, guide, "guided filter input and guide")
        if radius == 0 || input.isEmpty { return input }
        let guidePlanes = guide.layout.isColor
            ? Plane.planes(of: guide.rgbImage) : [Plane(guide, channel: 0)]
        let outputs = Plane.planes(of: input).map {
            Self.filter($0, guide: guidePlanes, radius: radius, epsilon: epsilon, pool: pool)
        }
        return Plane.image(outputs, layout: input.layout)
    }

    /// One input plane through the filter.
    static func filter(_ p: Plane, guide I: [Plane], radius r: Int, epsilon: Float, pool: ThreadPool) -> Plane {
        apply(coefficients(p, guide: I, radius: r, epsilon: epsilon, pool: pool), guide: I)
    }

    /// `q = Σ_c A_c·I_c + B` for box-averaged coefficients (A_c…, B) and a guide.
    static func apply(_ coefficients: [Plane], guide I: [Plane]) -> Plane {
        var q = coefficients[coefficients.count - 1]
        for c in 0..<I.count {
            for k in 0..<q.count { q.data[k] += coefficients[c].data[k] * I[c].data[k] }
        }
        return q
    }

    /// ``coefficients(_:guide:radius:epsilon:threads:)`` computed in horizontal bands of
    /// `bandRows` rows, each with a `2r`-row halo (two box means of radius r deep), so only one
    /// band's intermediate planes are alive at a time: at 2048×1536 the whole-plane version
    /// keeps 13 means + 4 coefficients + 4 of their means (~270 MB); banded, the peak is the
    /// 4 output planes plus ~one band's worth. Windows are clipped at the picture's borders
    /// only (a band's halo rows are real rows), so each output row sees the same windows as
    /// in the whole-plane version; only the order of the Double running sums differs.
    static func bandedCoefficients(
        _ p: Plane, guide I: [Plane], radius r: Int, epsilon: Float, pool: ThreadPool, bandRows: Int = 256
    ) -> [Plane] {
        let w = p.width, h = p.height
        if h <= bandRows + 4 * r { return coefficients(p, guide: I, radius: r, epsilon: epsilon, pool: pool) }
        var out = [Plane](repeating: Plane(width: w, height: h), count: I.count + 1)
        var y0 = 0
        while y0 < h {
            let y1 = min(h, y0 + bandRows)
            let a0 = max(0, y0 - 2 * r), a1 = min(h, y1 + 2 * r)
            func rows(_ plane: Plane) -> Plane {
                Plane(width: w, height: a1 - a0, data: Array(plane.data[a0 * w..<a1 * w]))
            }
            let band = coefficients(rows(p), guide: I.map(rows), radius: r, epsilon: epsilon, pool: pool)
            for c in 0..<out.count {
                out[c].data.withUnsafeMutableBufferPointer { dst in
                    band[c].data.withUnsafeBufferPointer { src in
                        (dst.baseAddress! + y0 * w).update(from: src.baseAddress! + (y0 - a0) * w, count: (y1 - y0) * w)
                    }
                }
            }
            y0 = y1
        }
        return out
    }

    /// The sources of means 4–12 of the colour guide (`I` channels 0–2, `p` as 3): I·p, then I·Iᵀ.
    static let colourPairs = [(0, 3), (1, 3), (2, 3), (0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]

    /// The box-averaged linear coefficients: one plane per guide channel, then the offset.
    static func coefficients(_ p: Plane, guide I: [Plane], radius r: Int, epsilon: Float, pool: ThreadPool) -> [Plane] {
        let n = p.count
        if I.count == 1 {
            let g = I[0]
            var ip = Plane(width: p.width, height: p.height), ii = ip
            for k in 0..<n {
                ip.data[k] = g.data[k] * p.data[k]
                ii.data[k] = g.data[k] * g.data[k]
            }
            let m = BoxKernel.means([g, p, ip, ii], radius: r, pool: pool)
            var a = Plane(width: p.width, height: p.height), b = a
            for k in 0..<n {
                let mi = Double(m[0].data[k]), mp = Double(m[1].data[k])
                let cov = Double(m[2].data[k]) - mi * mp
                let variance = Double(m[3].data[k]) - mi * mi
                let ak = cov / (variance + Double(epsilon))
                a.data[k] = Float(ak)
                b.data[k] = Float(mp - ak * mi)
            }
            return BoxKernel.means([a, b], radius: r, pool: pool)
        }
        // Colour guide: 3 means of I, 1 of p, 3 of I·p, 6 of I·Iᵀ.
        // Each of the 13 means is made by its own task, which builds its product plane,
        // box-filters it and drops it: at most one temporary per thread is alive next to the
        // outputs (instead of 13 product planes plus 13 means: 330 MB at 2048×1536).
        let pairs = colourPairs
        let sources = I + [p]
        var m = [Plane](repeating: Plane(width: 0, height: 0), count: 13)
        m.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            parallelFor(13, pool: pool) { i in
                if i < 4 {
                    out.value[i] = BoxKernel.mean(sources[i], radius: r)
                    return
                }
                let (u, v) = pairs[i - 4]
                var product = Plane(width: p.width, height: p.height)
                sources[u].data.withUnsafeBufferPointer { a in
                    sources[v].data.withUnsafeBufferPointer { b in
                        product.data.withUnsafeMutableBufferPointer { d in
                            for k in 0..<n { d[k] = a[k] * b[k] }
                        }
                    }
                }
                out.value[i] = BoxKernel.mean(product, radius: r)
            }
        }
        // m: 0-2 mean I, 3 mean p, 4-6 mean I·p, 7-12 mean I·Iᵀ (pairs order).
        var coefficients = [Plane](repeating: Plane(width: p.width, height: p.height), count: 4)
        let e = Double(epsilon)
        withPlanePointers(m) { m in
            let m = UncheckedSendable(m)
            withMutablePlanePointers(&coefficients) { out in
                let out = UncheckedSendable(out)
                parallelChunks(n, pool: pool) { range in
                    colourCoefficients(m.value, out.value, range, epsilon: e)
                }
            }
        }
        return BoxKernel.means(coefficients, radius: r, pool: pool)
    }

    /// The colour guide's coefficients at indices `range` from the 13 box means `m` (0–2 mean
    /// I, 3 mean p, 4–6 mean I·p, 7–12 mean I·Iᵀ in `pairs` order): `out[0…2]` the A of each
    /// channel, `out[3]` the offset B. Shared by the whole-plane and row-streaming filters.
    @inline(__always)
    static func colourCoefficients(
        _ m: [UnsafePointer<Float>], _ out: [UnsafeMutablePointer<Float>], _ range: Range<Int>, epsilon e: Double
    ) {
        for k in range {
            let mr = Double(m[0][k]), mg = Double(m[1][k]), mb = Double(m[2][k])
            let mp = Double(m[3][k])
            let c0 = Double(m[4][k]) - mr * mp
            let c1 = Double(m[5][k]) - mg * mp
            let c2 = Double(m[6][k]) - mb * mp
            let s00 = Double(m[7][k]) - mr * mr + e
            let s01 = Double(m[8][k]) - mr * mg
            let s02 = Double(m[9][k]) - mr * mb
            let s11 = Double(m[10][k]) - mg * mg + e
            let s12 = Double(m[11][k]) - mg * mb
            let s22 = Double(m[12][k]) - mb * mb + e
            let (a0, a1, a2) = solveSymmetric3(s00, s01, s02, s11, s12, s22, c0, c1, c2)
            out[0][k] = Float(a0)
            out[1][k] = Float(a1)
            out[2][k] = Float(a2)
            out[3][k] = Float(mp - a0 * mr - a1 * mg - a2 * mb)
        }
    }
}

/// The adjugate (upper triangle, as 00, 01, 02, 11, 12, 22) and determinant of the symmetric
/// 3×3 matrix with upper triangle `s`: its inverse is `adjugate / det`. Shared by the guided
/// filter's solve and the matting Laplacian's window inverse.
@inline(__always)
func symmetric3Adjugate(
    _ s00: Double, _ s01: Double, _ s02: Double, _ s11: Double, _ s12: Double, _ s22: Double
) -> (i00: Double, i01: Double, i02: Double, i11: Double, i12: Double, i22: Double, det: Double) {
    let i00 = s11 * s22 - s12 * s12
    let i01 = s02 * s12 - s01 * s22
    let i02 = s01 * s12 - s02 * s11
    let i11 = s00 * s22 - s02 * s02
    let i12 = s01 * s02 - s00 * s12
    let i22 = s00 * s11 - s01 * s01
    return (i00, i01, i02, i11, i12, i22, s00 * i00 + s01 * i01 + s02 * i02)
}

/// Solves the symmetric 3×3 system `S x = c` by the adjugate (S is positive definite here:
/// a covariance plus a positive ridge).
@inline(__always)
func solveSymmetric3(
    _ s00: Double, _ s01: Double, _ s02: Double, _ s11: Double, _ s12: Double, _ s22: Double,
    _ c0: Double, _ c1: Double, _ c2: Double
) -> (Double, Double, Double) {
    let (i00, i01, i02, i11, i12, i22, det) = symmetric3Adjugate(s00, s01, s02, s11, s12, s22)
    let inv = 1 / det
    return (
        (i00 * c0 + i01 * c1 + i02 * c2) * inv,
        (i01 * c0 + i11 * c1 + i12 * c2) * inv,
        (i02 * c0 + i12 * c1 + i22 * c2) * inv
    )
}
