import Foundation

/// Scaled dot-product attention, one task per query row: the row's scores (N floats, on the
/// task's stack) are computed, soft-maxed and used to sum the value rows at once, so the
/// M×N score matrix never exists. Every output element has one writer and a fixed summation
/// order, so results do not depend on the thread count.
struct AttentionOperator: CompiledOperator {
    let m: Int, n: Int, d: Int, dv: Int
    let scale: Float
    /// Keys stored `[D, N]` (already transposed) instead of `[N, D]`.
    let keyTransposed: Bool
    /// Element offsets of each batch's q, k and v matrices.
    let qOffsets: [Int], kOffsets: [Int], vOffsets: [Int]

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let q = io.input(0), k = io.input(1), v = io.input(2), y = io.output(0)
        let (m, n, d, dv, scale, keyTransposed) = (self.m, self.n, self.d, self.dv, self.scale, self.keyTransposed)
        qOffsets.withUnsafeBufferPointer { qo in
            kOffsets.withUnsafeBufferPointer { ko in
                vOffsets.withUnsafeBufferPointer { vo in
                    pool.parallelFor(qo.count * m) { r in
                        let batch = r / m, row = r - batch * m
                        let qr = q + qo[batch] + row * d, kb = k + ko[batch], vb = v + vo[batch], yr = y + r * dv
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(n, 1)) { buffer in
                            let s = buffer.baseAddress!
                            if keyTransposed {
                                s.update(repeating: 0, count: n)
                                for t in 0..<d { axpy(qr[t], kb + t * n, s, count: n) }
                                for j in 0..<n { s[j] = s[j] * scale }
                            } else {
                                for j in 0..<n { s[j] = dot(qr, kb + j * d, count: d) * scale }
                            }
                            var top = -Float.infinity
                            for j in 0..<n { top = Swift.max(top, s[j]) }
                            var sum: Float = 0
                            for j in 0..<n { let e = Foundation.exp(s[j] - top); s[j] = e; sum += e }
                            yr.update(repeating: 0, count: dv)
                            let inv = 1 / sum
                            for j in 0..<n { axpy(s[j] * inv, vb + j * dv, yr, count: dv) }
                        }
                    }
                }
            }
        }
    }
}
