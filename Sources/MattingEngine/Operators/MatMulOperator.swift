/// A matrix product with a run-time right-hand side: one task per output row, eight output
/// columns at a time, summing over K in order (so any thread count gives the same bits).
struct MatMulOperator: CompiledOperator {
    /// Rows of `a` over all batches, and the per-batch row count (to find the batch's `b`).
    let rows: Int, m: Int
    let k: Int, n: Int
    /// Whether `b` has a matrix per batch (else one `[K, N]` matrix for every row).
    let batchedB: Bool
    let bias: [Float]?
    let activation: Activation

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let a = io.input(0), b = io.input(1), y = io.output(0)
        pool.parallelFor(rows) { r in
            let bm = batchedB ? b + (r / max(m, 1)) * k * n : b
            let ar = a + r * k, yr = y + r * n
            var j = 0
            while j + 8 <= n {
                var acc = SIMD8<Float>(repeating: 0)
                if let bias { for t in 0..<8 { acc[t] = bias[j + t] } }
                for i in 0..<k {
                    let v = UnsafeRawPointer(bm + i * n + j).loadUnaligned(as: SIMD8<Float>.self)
                    acc = acc + SIMD8(repeating: ar[i]) * v
                }
                UnsafeMutableRawPointer(yr + j).storeBytes(of: acc, as: SIMD8<Float>.self)
                j += 8
            }
            while j < n {
                var acc: Float = bias?[j] ?? 0
                for i in 0..<k { acc = acc + ar[i] * bm[i * n + j] }
                yr[j] = acc
                j += 1
            }
            applyActivation(activation, yr, yr, count: n)
        }
    }
}
