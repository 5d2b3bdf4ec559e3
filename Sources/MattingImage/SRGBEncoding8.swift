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
/// `Float` whose value is at least `k`, for `k` in 1…255) at or below `c`. The thresholds are
/// found once by bisection over the `Float` bit patterns, evaluating the function itself, so
/// the table holds its exact steps (whatever `powf`'s last-bit rounding). To find the count
/// quickly, a second table gives it at the start of each cell of 2¹⁷ consecutive bit patterns
/// below 1 (the exponent and the top 6 bits of the mantissa), and the count is stepped up from
/// there: a cell spans about one step of the curve at most, so usually no step at all. The
/// tests check every `Float` within thousands of units in the last place of each step, where
/// a `powf` off by a unit could otherwise make the encoding step back.
enum SRGBEncoding8 {
    /// The reference: `LabColor.encoded` then `CLAHE.saturatedRound` of 255 times it.
    @inline(__always) static func reference(_ c: Float) -> UInt8 {
        CLAHE.saturatedRound(LabColor.encoded(c) * 255)
    }

    /// `t[0] = −∞`, then `t[k]` for `k` in 1…255: the smallest `Float` whose ``reference(_:)``
    /// is at least `k`; then `t[256] = +∞`.
    static let thresholds: [Float] = {
        var table = [Float](repeating: -.infinity, count: 257)
        table[256] = .infinity
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

    /// Bit patterns per cell of ``cellStarts``: `1 << cellShift`.
    static let cellShift: UInt32 = 17

    /// For each cell of bit patterns of `Float`s in [0, 1): the count of thresholds at or below
    /// its first value.
    static let cellStarts: [UInt8] = {
        let t = thresholds
        let cells = Int(Float(1).bitPattern >> cellShift)
        var starts = [UInt8](repeating: 0, count: cells)
        var k = 0
        for cell in 0..<cells {
            let first = Float(bitPattern: UInt32(cell) << cellShift)
            while t[k + 1] <= first { k += 1 }
            starts[cell] = UInt8(k)
        }
        return starts
    }()

    /// Runs `body` with ``thresholds`` and ``cellStarts``.
    @inline(__always) static func withTables<R>(_ body: (UnsafePointer<Float>, UnsafePointer<UInt8>) -> R) -> R {
        thresholds.withUnsafeBufferPointer { t in cellStarts.withUnsafeBufferPointer { s in body(t.baseAddress!, s.baseAddress!) } }
    }

    /// ``reference(_:)`` of `c`, from the tables (``withTables(_:)``).
    @inline(__always) static func encode(_ c: Float, thresholds t: UnsafePointer<Float>, cellStarts: UnsafePointer<UInt8>) -> UInt8 {
        guard c > 0 else { return 0 }  // (also NaN)
        guard c < 1 else { return 255 }
        var k = Int(cellStarts[Int(c.bitPattern >> cellShift)])
        while t[k + 1] <= c { k += 1 }
        return UInt8(truncatingIfNeeded: k)
    }
}
