import Foundation

/// OpenCV's 8-bit sRGB → L*a*b* conversion (`cvtColor(..., COLOR_RGB2Lab)` on `CV_8U`),
/// reproduced in fixed point so that lightness matches it exactly.
///
/// Checked against OpenCV 4.10 on all 2²⁴ colours: L identical everywhere; a and b
/// identical except 0.003 % of colours, off by one level (OpenCV builds its cube-root table
/// with its own software `cbrt`, which rounds a few entries differently). The pre-enhance
/// step equalises L only, so its CLAHE input is exactly OpenCV's.
///
/// Encoding: `L·255/100`, `a + 128`, `b + 128`, each 0…255.
enum OpenCVLab8 {
    // Fixed-point layout, as in OpenCV: linear RGB in Q3 of 255, XYZ coefficients in Q12,
    // the cube-root table in Q15.
    static let gammaTable: [Int32] = (0..<256).map { i in
        let x = Float(i) / 255
        let linear = Float(Double(x) <= 0.04045 ? Double(x) / 12.92 : pow((Double(x) + 0.055) / 1.055, 2.4))
        return Int32((Float(255 * 8) * linear).rounded(.toNearestOrEven))
    }

    static let cubeRootTable: [Int32] = (0..<(256 * 3 / 2 * 8)).map { i in
        let x = Float(i) * (Float(1) / (Float(255) * Float(8)))
        let value = x < Float(0.008856)
            ? Double(x) * Double(Float(7.787)) + Double(Float(16.0 / 116.0))
            : cbrt(Double(x))
        return Int32((32768 * value).rounded(.toNearestOrEven))
    }

    /// sRGB→XYZ (D65) rows, each divided by the white point, in Q12.
    static let coefficients: [Int32] = {
        let m: [[Double]] = [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
        let scale = [4096 / 0.950456, 4096, 4096 / 1.088754]
        return (0..<9).map { Int32((m[$0 / 3][$0 % 3] * scale[$0 / 3]).rounded(.toNearestOrEven)) }
    }()

    @inline(__always) static func descale(_ value: Int32, _ bits: Int32) -> Int32 {
        (value + (1 << (bits - 1))) >> bits
    }

    /// Converts one 8-bit sRGB colour.
    @inline(__always)
    static func lab(
        _ r: UInt8, _ g: UInt8, _ b: UInt8,
        gamma: UnsafePointer<Int32>, cubeRoot: UnsafePointer<Int32>, c: UnsafePointer<Int32>
    ) -> (l: UInt8, a: UInt8, b: UInt8) {
        let R = gamma[Int(r)], G = gamma[Int(g)], B = gamma[Int(b)]
        let fX = cubeRoot[Int(descale(R * c[0] + G * c[1] + B * c[2], 12))]
        let fY = cubeRoot[Int(descale(R * c[3] + G * c[4] + B * c[5], 12))]
        let fZ = cubeRoot[Int(descale(R * c[6] + G * c[7] + B * c[8], 12))]
        let lScale: Int32 = (116 * 255 + 50) / 100
        let lShift: Int32 = -((16 * 255 * (1 << 15) + 50) / 100)
        let l = descale(lScale * fY + lShift, 15)
        let a = descale(500 * (fX - fY) + 128 * (1 << 15), 15)
        let bb = descale(200 * (fY - fZ) + 128 * (1 << 15), 15)
        return (UInt8(clamping: l), UInt8(clamping: a), UInt8(clamping: bb))
    }

    /// Calls `body` with the three tables as pointers (for hot loops).
    /// The `l` of ``lab(_:_:_:gamma:cubeRoot:c:)`` alone (only Y is needed for it).
    @inline(__always)
    static func lightness(
        _ r: UInt8, _ g: UInt8, _ b: UInt8,
        gamma: UnsafePointer<Int32>, cubeRoot: UnsafePointer<Int32>, c: UnsafePointer<Int32>
    ) -> UInt8 {
        let R = gamma[Int(r)], G = gamma[Int(g)], B = gamma[Int(b)]
        let fY = cubeRoot[Int(descale(R * c[3] + G * c[4] + B * c[5], 12))]
        let lScale: Int32 = (116 * 255 + 50) / 100
        let lShift: Int32 = -((16 * 255 * (1 << 15) + 50) / 100)
        return UInt8(clamping: descale(lScale * fY + lShift, 15))
    }

    static func withTables<R>(
        _ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>) -> R
    ) -> R {
        gammaTable.withUnsafeBufferPointer { g in
            cubeRootTable.withUnsafeBufferPointer { cr in
                coefficients.withUnsafeBufferPointer { c in body(g.baseAddress!, cr.baseAddress!, c.baseAddress!) }
            }
        }
    }
}
