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
        let (mr, nr, kc, mc, nc) = (blocking.mr, blocking.nr, blocking.kc, blocking.mc, blocking.nc)
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
                        let panels = (p1 - p0 + nr - 1) / nr
                        var k0 = 0
                        while k0 < C {
                            let kLen = min(kc, C - k0)
                            // Panel j holds kLen rows of nr pixels (zeros past p1).
                            for j in 0..<panels {
                                let panel = packed + j * kLen * nr, q0 = p0 + j * nr, width = min(nr, p1 - q0)
                                for kk in 0..<kLen {
                                    let row = panel + kk * nr
                                    row.update(from: xn + (k0 + kk) * P + q0, count: width)
                                    if width < nr { (row + width).update(repeating: 0, count: nr - width) }
                                }
                            }
                            let flags: UInt32 = k0 == 0 ? 0 : MK_GEMM_ACCUMULATE
                            var m0 = 0
                            while m0 < O {
                                let m1 = min(O, m0 + mc)
                                for j in 0..<panels {
                                    let q0 = p0 + j * nr
                                    var i = m0
                                    while i < m1 {
                                        ukernel(min(mr, m1 - i), min(nr, p1 - q0), kLen, w.baseAddress! + i * C + k0, C,
                                                packed + j * kLen * nr, nil, yn + i * P + q0, P, flags, act)
                                        i += mr
                                    }
                                }
                                m0 = m1
                            }
                            k0 += kLen
                        }
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
