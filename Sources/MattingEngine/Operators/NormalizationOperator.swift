import CMattingKernels

/// Instance normalisation over NHWC: one task per (image, block of channels) computes the
/// mean and variance over all pixels (``instanceStatistics``), then each image's rows go
/// through `(x − μ) · (σ⁻¹ · scale) + offset`, a run of rows per task.
struct NormalizationOperator: CompiledOperator {
    let groups: Int, pixels: Int, channels: Int
    let scale: [Float], offset: [Float]
    let epsilon: Float
    static let block = 32

    /// Each image's means, then its per-channel factors `σ⁻¹ · scale`.
    var scratchByteCount: Int { groups * channels * 2 * 4 }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        guard let scratch = io.scratch?.assumingMemoryBound(to: Float.self) else {
            preconditionFailure("NormalizationOperator needs scratch")
        }
        let (c, pixels, epsilon) = (channels, pixels, epsilon)
        let blocks = (c + Self.block - 1) / Self.block
        pool.parallelFor(groups * blocks) { task in
            let n = task / blocks, c0 = (task % blocks) * Self.block, c1 = min(c, c0 + Self.block)
            let stats = scratch + n * c * 2
            instanceStatistics(x + n * pixels * c, pixels: pixels, channels: c, c0..<c1, epsilon: epsilon,
                               mean: stats + c0, inverse: stats + c + c0)
        }
        for n in 0..<groups {
            let factors = scratch + n * c * 2 + c
            for j in 0..<c { factors[j] *= scale[j] }
        }
        offset.withUnsafeBufferPointer { offset in
            guard let offset = offset.baseAddress else { return }
            let rowsPerTask = max(1, 16_384 / max(c, 1)), tasksPerImage = (pixels + rowsPerTask - 1) / rowsPerTask
            pool.parallelFor(groups * tasksPerImage) { task in
                let n = task / tasksPerImage, p0 = (task % tasksPerImage) * rowsPerTask
                let stats = scratch + n * c * 2, base = (n * pixels + p0) * c
                mk_f32_center_scale_shift_rows(min(rowsPerTask, pixels - p0), c, x + base, y + base, stats, stats + c, offset)
            }
        }
    }
}

/// The mean and `1 / √(σ² + ε)` of channels `range` of one NHWC image (`pixels` rows of
/// `channels` values) over its pixels, into `mean[0…]` and `inverse[0…]`: two passes, float
/// accumulation in pixel order (`mk_f32_channel_moments`).
@inline(__always)
func instanceStatistics(
    _ x: UnsafePointer<Float>, pixels: Int, channels c: Int, _ range: Range<Int>, epsilon: Float,
    mean mu: UnsafeMutablePointer<Float>, inverse inv: UnsafeMutablePointer<Float>
) {
    mk_f32_channel_moments(pixels, c, x + range.lowerBound, range.count, epsilon, mu, inv)
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

    /// Each image's per-channel centre, factor and shift (the affine channels' centre 0).
    var scratchByteCount: Int { images * channels * 3 * 4 }

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
            let terms = scratch + n * c * 3
            instanceStatistics(x + n * pixels * c, pixels: pixels, channels: c, (k + b0)..<(k + b1), epsilon: epsilon,
                               mean: terms + k + b0, inverse: terms + c + k + b0)
        }
        for n in 0..<images {
            let center = scratch + n * c * 3, factor = center + c, shift = factor + c
            for j in 0..<k { (center[j], factor[j], shift[j]) = (0, affineScale[j], affineShift[j]) }
            for j in 0..<normed { factor[k + j] *= normScale[j]; shift[k + j] = normOffset[j] }
        }
        let rows = images * pixels
        let rowsPerTask = max(1, 4096 / max(c, 1))
        pool.parallelFor((rows + rowsPerTask - 1) / rowsPerTask) { task in
            var row = task * rowsPerTask
            let end = min(rows, row + rowsPerTask)
            while row < end {
                // Rows of one image at a time (they share its terms).
                let n = row / pixels, count = min(end, (n + 1) * pixels) - row
                let center = scratch + n * c * 3
                mk_f32_center_scale_shift_rows(count, c, x + row * c, y + row * c, center, center + c, center + 2 * c)
                applyActivation(activation, y + row * c, y + row * c, count: count * c)
                row += count
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
