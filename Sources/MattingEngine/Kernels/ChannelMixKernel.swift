import CMattingKernels

/// A 1×1 convolution on channel-major (NCHW) data as one GEMM with the weights on the left:
/// `Y[o][p] = act(Σ_c W[o][c] · X[c][p] + bias[o])` per image, `p` over the pixels.
///
/// The weights are the microkernel's A, read in place (`[O][C]` row-major is exactly the
/// ONNX OIHW layout of a 1×1 kernel); the image is its B, packed per task into panels in the
/// worker's scratch, one K block at a time; the output rows are the output channels with a
/// stride of one image plane. So an NCHW model's pointwise convolution needs no layout
/// transpose before or after it. Tasks own column blocks of pixels; every output sums over c
/// in increasing order, block after block, so results do not depend on the thread count.
struct ChannelMixOperator: CompiledOperator {
    let batch: Int, inputChannels: Int, outputChannels: Int, pixels: Int
    /// `[O][C]` row-major, and `O` biases.
    let weights: [Float], bias: [Float]
    let activation: Activation
    let isa: KernelISA
    let threads: Int

    /// One packed B block per worker: `kc × nc` floats.
    var scratchByteCount: Int { max(1, threads) * blockBytes }
    private var blockBytes: Int { isa.gemmBlocking.kc * isa.gemmBlocking.nc * 4 }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        guard let scratch = io.scratch?.assumingMemoryBound(to: Float.self) else {
            preconditionFailure("ChannelMixOperator needs scratch")
        }
        let blocking = isa.gemmBlocking
        let nc = blocking.nc
        let (C, O, P) = (inputChannels, outputChannels, pixels)
        let columnTasks = (P + nc - 1) / nc
        let ukernel = isa.gemmMicrokernel
        let blockFloats = blockBytes / 4
        // Bias and activation come after the last K block (the microkernel's bias is per column).
        var identity = Activation.identity.microkernelParameters.parameters
        let activation = self.activation
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { bias in
                withUnsafePointer(to: &identity) { act in
                    pool.parallelFor(batch * columnTasks) { task, worker in
                        let n = task / columnTasks, p0 = (task % columnTasks) * nc, p1 = min(P, p0 + nc)
                        let xn = x + n * C * P, yn = y + n * O * P
                        let packed = scratch + worker * blockFloats
                        multiplyPackingB(
                            rows: 0, O, columns: p0, p1, depth: C, a: w.baseAddress!, lda: C, b: xn, ldb: P, y: yn, ldy: P,
                            bias: nil, activates: false, parameters: act, packed: packed, blocking: blocking,
                            microkernel: ukernel)
                        for o in 0..<O {
                            let row = yn + o * P + p0, b = bias[o]
                            for p in 0..<(p1 - p0) { row[p] = row[p] + b }
                            applyActivation(activation, row, row, count: p1 - p0)
                        }
                    }
                }
            }
        }
    }
}
