import MattingImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Separable Gaussian blur of a matte, used by feathering.
enum GaussianKernel {
    /// Normalised 1-D taps for `sigma`, radius `ceil(3σ)`.
    static func taps(sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var taps = (-radius...radius).map { i -> Float in
            let x = Float(i)
            return expf(-x * x / (2 * sigma * sigma))
        }
        let sum = taps.reduce(0, +)
        for i in taps.indices { taps[i] /= sum }
        return taps
    }

    /// `matte` blurred with a Gaussian of standard deviation `sigma`; borders replicate.
    static func blurred(_ matte: FloatImage, sigma: Float) -> FloatImage {
        let taps = taps(sigma: sigma), r = taps.count / 2
        var plane = Plane(matte)
        let w = plane.width, h = plane.height
        var tmp = Plane(width: w, height: h)
        plane.data.withUnsafeMutableBufferPointer { p in
            tmp.data.withUnsafeMutableBufferPointer { t in
                // Vertical: row vectors, clamped row index.
                for y in 0..<h {
                    let d = t.baseAddress! + y * w
                    for x in 0..<w { d[x] = 0 }
                    for (i, tap) in taps.enumerated() {
                        let s = p.baseAddress! + min(max(y + i - r, 0), h - 1) * w
                        for x in 0..<w { d[x] = d[x] + tap * s[x] }
                    }
                }
                // Horizontal, with a clamped column index.
                for y in 0..<h {
                    let s = t.baseAddress! + y * w, d = p.baseAddress! + y * w
                    for x in 0..<w {
                        var acc: Float = 0
                        for (i, tap) in taps.enumerated() { acc = acc + tap * s[min(max(x + i - r, 0), w - 1)] }
                        d[x] = acc
                    }
                }
            }
        }
        return clampedToUnit(plane.grayImage)
    }
}

