#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 8-bit sRGB encoding of a linear component, `CLAHE.saturatedRound(LabColor.encoded(c) * 255)`,
/// without its `powf`: by the 255 thresholds where the result steps up.
///
/// That function of a `Float` never decreases (the sRGB curve rises, and the clamp and the
/// rounding keep order), so its value at `c` is the number of thresholds `t[k]` (the smallest
/// `Float` whose value is at least `k`, for `k` in 1…255) at or below `c`: eight comparisons.
/// The thresholds are found once by bisection over the `Float` bit patterns, evaluating the
/// function itself, so the table holds its exact steps (whatever `powf`'s last-bit rounding).
/// The tests check every `Float` within thousands of units in the last place of each step,
/// where a `powf` off by a unit could otherwise make it step back.
enum SRGBEncoding8 {
    /// The reference: `LabColor.encoded` then `CLAHE.saturatedRound` of 255 times it.
    @inline(__always) static func reference(_ c: Float) -> UInt8 {
        CLAHE.saturatedRound(LabColor.encoded(c) * 255)
    }

    /// `t[0] = −∞`, then `t[k]` for `k` in 1…255: the smallest `Float` whose ``reference(_:)`` is at least `k`.
    static let thresholds: [Float] = {
        var table = [Float](repeating: -.infinity, count: 256)
        // Every threshold lies in (0, 1]: reference(0) is 0, reference(1) is 255.
        for k in 1...255 {
            var low = Float(0).bitPattern, high = Float(1).bitPattern  // reference(low) < k ≤ reference(high)
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if Int(reference(Float(bitPattern: middle))) >= k { high = middle } else { low = middle }
            }
            table[k] = Float(bitPattern: high)
        }
        return table
    }()

    /// ``reference(_:)`` of `c`, from `thresholds` (``thresholds``' storage).
    @inline(__always) static func encode(_ c: Float, thresholds t: UnsafePointer<Float>) -> UInt8 {
        var k = 0
        if t[k + 128] <= c { k += 128 }
        if t[k + 64] <= c { k += 64 }
        if t[k + 32] <= c { k += 32 }
        if t[k + 16] <= c { k += 16 }
        if t[k + 8] <= c { k += 8 }
        if t[k + 4] <= c { k += 4 }
        if t[k + 2] <= c { k += 2 }
        if t[k + 1] <= c { k += 1 }
        return UInt8(truncatingIfNeeded: k)
    }
}
