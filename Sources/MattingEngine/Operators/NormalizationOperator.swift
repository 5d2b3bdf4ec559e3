/// Instance normalisation over NHWC: one task per (image, block of channels) computes the
/// mean and variance over all pixels (two passes, float accumulation in a fixed order), then
/// normalises those channels.
struct NormalizationOperator: CompiledOperator {
    let groups: Int, pixels: Int, channels: Int
    let scale: [Float], offset: [Float]
    let epsilon: Float
    static let block = 32

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let c = channels, blocks = (c + Self.block - 1) / Self.block
        scale.withUnsafeBufferPointer { scale in
            offset.withUnsafeBufferPointer { offset in
                pool.parallelFor(groups * blocks) { task in
                    let n = task / blocks, c0 = (task % blocks) * Self.block, c1 = min(c, c0 + Self.block)
                    let base = n * pixels * c
                    // Fixed-size stack storage for one block's statistics.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * Self.block) { stats in
                        let mu = stats.baseAddress!, inv = mu + Self.block
                        for k in 0..<(c1 - c0) { mu[k] = 0; inv[k] = 0 }
                        for p in 0..<pixels {
                            let row = x + base + p * c + c0
                            for k in 0..<(c1 - c0) { mu[k] += row[k] }
                        }
                        let count = Float(pixels)
                        for k in 0..<(c1 - c0) { mu[k] /= count }
                        for p in 0..<pixels {
                            let row = x + base + p * c + c0
                            for k in 0..<(c1 - c0) { let d = row[k] - mu[k]; inv[k] += d * d }
                        }
                        for k in 0..<(c1 - c0) { inv[k] = 1 / (inv[k] / count + epsilon).squareRoot() }
                        for p in 0..<pixels {
                            let src = x + base + p * c + c0, dst = y + base + p * c + c0
                            for k in 0..<(c1 - c0) {
                                dst[k] = (src[k] - mu[k]) * inv[k] * scale[c0 + k] + offset[c0 + k]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Layer normalisation: one task per row of `inner` values (two passes, fixed order).
struct LayerNormOperator: CompiledOperator {
    let rows: Int, inner: Int
    let scale: [Float], offset: [Float]
    let epsilon: Float

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        scale.withUnsafeBufferPointer { scale in
            offset.withUnsafeBufferPointer { offset in
                pool.parallelFor(rows) { r in
                    let src = x + r * inner, dst = y + r * inner
                    var mu: Float = 0
                    for k in 0..<inner { mu += src[k] }
                    mu /= Float(inner)
                    var v: Float = 0
                    for k in 0..<inner { let d = src[k] - mu; v += d * d }
                    let inv = 1 / (v / Float(inner) + epsilon).squareRoot()
                    for k in 0..<inner { dst[k] = (src[k] - mu) * inv * scale[k] + offset[k] }
                }
            }
        }
    }
}
