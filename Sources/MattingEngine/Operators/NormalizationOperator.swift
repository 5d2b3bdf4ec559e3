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
                        instanceStatistics(x + base, pixels: pixels, channels: c, c0..<c1, epsilon: epsilon, mean: mu, inverse: inv)
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

/// The mean and `1 / √(σ² + ε)` of channels `range` of one NHWC image (`pixels` rows of
/// `channels` values) over its pixels, into `mean[0…]` and `inverse[0…]`: two passes, float
/// accumulation in pixel order.
@inline(__always)
func instanceStatistics(
    _ x: UnsafePointer<Float>, pixels: Int, channels c: Int, _ range: Range<Int>, epsilon: Float,
    mean mu: UnsafeMutablePointer<Float>, inverse inv: UnsafeMutablePointer<Float>
) {
    let c0 = range.lowerBound, n = range.count
    for k in 0..<n { mu[k] = 0; inv[k] = 0 }
    for p in 0..<pixels {
        let row = x + p * c + c0
        for k in 0..<n { mu[k] += row[k] }
    }
    let count = Float(pixels)
    for k in 0..<n { mu[k] /= count }
    for p in 0..<pixels {
        let row = x + p * c + c0
        for k in 0..<n { let d = row[k] - mu[k]; inv[k] += d * d }
    }
    for k in 0..<n { inv[k] = 1 / (inv[k] / count + epsilon).squareRoot() }
}

/// `splitNorm` (MODNet's IBNorm) over NHWC: channels below `split` through a per-channel
/// affine, the rest through an instance norm, then the activation, in one pass over the
/// pixels after the instance norm's statistics (one task per image and block of channels).
/// May run in place.
struct SplitNormOperator: CompiledOperator {
    let images: Int, pixels: Int, channels: Int, split: Int
    let affineScale: [Float], affineShift: [Float]
    let normScale: [Float], normOffset: [Float]
    let epsilon: Float
    let activation: Activation
    static let block = 32

    /// Each image's mean and inverse deviation of the normalised channels.
    var scratchByteCount: Int { images * (channels - split) * 2 * 4 }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        guard let scratch = io.scratch?.assumingMemoryBound(to: Float.self) else {
            preconditionFailure("SplitNormOperator needs scratch")
        }
        let c = channels, k = split, normed = channels - split
        let blocks = (normed + Self.block - 1) / Self.block
        let (pixels, epsilon, activation) = (pixels, epsilon, activation)
        pool.parallelFor(images * blocks) { task in
            let n = task / blocks, b0 = (task % blocks) * Self.block, b1 = min(normed, b0 + Self.block)
            let stats = scratch + n * normed * 2
            instanceStatistics(x + n * pixels * c, pixels: pixels, channels: c, (k + b0)..<(k + b1), epsilon: epsilon,
                               mean: stats + b0, inverse: stats + normed + b0)
        }
        affineScale.withUnsafeBufferPointer { s in
            affineShift.withUnsafeBufferPointer { t in
                normScale.withUnsafeBufferPointer { g in
                    normOffset.withUnsafeBufferPointer { o in
                        let rows = images * pixels
                        let rowsPerTask = max(1, 4096 / max(c, 1))
                        pool.parallelFor((rows + rowsPerTask - 1) / rowsPerTask) { task in
                            for row in (task * rowsPerTask)..<min(rows, (task + 1) * rowsPerTask) {
                                let stats = scratch + (row / pixels) * normed * 2
                                let mu = stats, inv = stats + normed
                                let xi = x + row * c, yi = y + row * c
                                for j in 0..<k { yi[j] = xi[j] * s[j] + t[j] }
                                for j in 0..<normed {
                                    yi[k + j] = (xi[k + j] - mu[j]) * inv[j] * g[j] + o[j]
                                }
                                applyActivation(activation, yi, yi, count: c)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Layer normalisation over rows of `inner` values (``KernelISA/layerNormMicrokernel``: two
/// passes, sums in a fixed order per ISA path), a run of rows per task.
struct LayerNormOperator: CompiledOperator {
    let rows: Int, inner: Int
    let scale: [Float], offset: [Float]
    let epsilon: Float
    var isa: KernelISA = .current

    /// Rows per task: about 16 K values, so a task's call outweighs its dispatch.
    var rowsPerTask: Int { max(1, 16_384 / max(1, inner)) }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let (rows, inner, epsilon, rowsPerTask) = (self.rows, self.inner, self.epsilon, self.rowsPerTask)
        let kernel = isa.layerNormMicrokernel
        scale.withUnsafeBufferPointer { scale in
            offset.withUnsafeBufferPointer { offset in
                guard let scale = scale.baseAddress, let offset = offset.baseAddress else { return }
                pool.parallelFor((rows + rowsPerTask - 1) / rowsPerTask) { task in
                    let r0 = task * rowsPerTask, count = min(rowsPerTask, rows - r0)
                    kernel(count, inner, x + r0 * inner, y + r0 * inner, scale, offset, epsilon)
                }
            }
        }
    }
}
