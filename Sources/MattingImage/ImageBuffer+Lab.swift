import Foundation

// sRGB (D65) <-> CIE L*a*b*, with the constants OpenCV's cvtColor uses, so results agree
// with COLOR_RGB2Lab / COLOR_Lab2RGB to within one 8-bit level (OpenCV's 8-bit path is
// fixed-point; ours is float, rounded once at the end).

/// CIE L*a*b* values of an sRGB colour: `L` in 0…100, `a` and `b` roughly −128…127.
public struct LabColor: Sendable, Hashable {
    public var l: Float
    public var a: Float
    public var b: Float

    public init(l: Float, a: Float, b: Float) {
        self.l = l
        self.a = a
        self.b = b
    }

    /// Converts an sRGB colour with components in 0…1 (gamma-encoded, D65 white).
    public init(red: Float, green: Float, blue: Float) {
        let r = Self.linearized(red), g = Self.linearized(green), bl = Self.linearized(blue)
        let x = (0.412453 * r + 0.357580 * g + 0.180423 * bl) / 0.950456
        let y = 0.212671 * r + 0.715160 * g + 0.072169 * bl
        let z = (0.019334 * r + 0.119193 * g + 0.950227 * bl) / 1.088754
        let fx = Self.f(x), fy = Self.f(y), fz = Self.f(z)
        l = y > 0.008856 ? 116 * fy - 16 : 903.3 * y
        a = 500 * (fx - fy)
        b = 200 * (fy - fz)
    }

    /// The sRGB colour (components clamped to 0…1).
    public var rgb: (red: Float, green: Float, blue: Float) {
        let linear = linearRGB
        return (Self.encoded(linear.red), Self.encoded(linear.green), Self.encoded(linear.blue))
    }

    /// The linear (not gamma-encoded, not clamped) sRGB components ``rgb`` encodes.
    @inline(__always) var linearRGB: (red: Float, green: Float, blue: Float) {
        let fy: Float, y: Float
        if l <= 8 {
            y = l / 903.3
            fy = 7.787 * y + 16 / 116
        } else {
            fy = (l + 16) / 116
            y = fy * fy * fy
        }
        let fx = a / 500 + fy, fz = fy - b / 200
        let x = Self.finverse(fx) * 0.950456
        let z = Self.finverse(fz) * 1.088754
        let r = 3.240479 * x - 1.53715 * y - 0.498535 * z
        let g = -0.969256 * x + 1.875991 * y + 0.041556 * z
        let bl = 0.055648 * x - 0.204043 * y + 1.057311 * z
        return (r, g, bl)
    }

    @inline(__always) static func linearized(_ c: Float) -> Float {
        c <= 0.04045 ? c / 12.92 : powf((c + 0.055) / 1.055, 2.4)
    }

    @inline(__always) static func encoded(_ c: Float) -> Float {
        let v = c <= 0.0031308 ? 12.92 * c : 1.055 * powf(c, 1 / 2.4) - 0.055
        return min(max(v, 0), 1)
    }

    @inline(__always) static func f(_ t: Float) -> Float {
        t > 0.008856 ? cbrtf(t) : 7.787 * t + 16 / 116
    }

    @inline(__always) static func finverse(_ t: Float) -> Float {
        t > 0.206893 ? t * t * t : (t - 16 / 116) / 7.787
    }
}

extension ImageBuffer {
    /// The picture in CIE L*a*b*, one `FloatImage` with channels (L, a, b) in `.rgb` layout:
    /// L in 0…100, a and b roughly −128…127. Alpha, if any, is dropped; gray counts as
    /// R = G = B.
    public func labComponents() -> FloatImage {
        var result = FloatImage(width: width, height: height, layout: .rgb)
        let channels = channelCount, color = layout.isColor, width = self.width, height = self.height
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let s = src + y * srcStride, d = dst + y * dstStride
                    for x in 0..<width {
                        let p = s + x * channels
                        let lab = color
                            ? LabColor(red: p[0].unitValue, green: p[1].unitValue, blue: p[2].unitValue)
                            : LabColor(red: p[0].unitValue, green: p[0].unitValue, blue: p[0].unitValue)
                        d[3 * x] = lab.l
                        d[3 * x + 1] = lab.a
                        d[3 * x + 2] = lab.b
                    }
                }
            }
        }
        return result
    }

    /// An RGB picture from L*a*b* channels as produced by ``labComponents()``.
    ///
    /// - Precondition: `lab` has the `.rgb` layout (holding L, a, b).
    public init(labComponents lab: FloatImage) {
        precondition(lab.layout == .rgb, "Lab components come in a 3-channel image")
        self.init(width: lab.width, height: lab.height, layout: .rgb)
        let width = lab.width, height = lab.height
        lab.withUnsafeBufferPointer { src, srcStride in
            withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let s = src + y * srcStride, d = dst + y * dstStride
                    for x in 0..<width {
                        let rgb = LabColor(l: s[3 * x], a: s[3 * x + 1], b: s[3 * x + 2]).rgb
                        d[3 * x] = Component(unitValue: rgb.red)
                        d[3 * x + 1] = Component(unitValue: rgb.green)
                        d[3 * x + 2] = Component(unitValue: rgb.blue)
                    }
                }
            }
        }
    }
}
