import CMattingKernels

/// A transposed convolution ("deconvolution") with prepared weights, over NHWC tensors.
///
/// `output[oy][ox][oc] = bias[oc] + Σ input[iy][ix][ic] · w[oc][ky][kx][ic]` over all
/// `oy = iy·strideH + ky·dilationH − padTop`, `ox = ix·strideW + kx·dilationW − padLeft`
/// inside the output (see `ConvolutionGeometry.transposedOutputSize`); then `activation`.
/// This is TFLite's TRANSPOSE_CONV and MediaPipe's `Convolution2DTransposeBias`.
/// Groups are supported; weights are `[outC][kh][kw][inC / groups]`.
///
/// Lowering: phase decomposition. Output pixels with the same `(oy + padTop) mod strideH`
/// and `(ox + padLeft) mod strideW` receive the same subset of taps, each from an input pixel
/// at a fixed offset, so every phase is an ordinary stride-1 convolution with a sub-kernel
/// (a 2×2 stride-2 decoder layer becomes four 1×1 GEMMs). Each phase's weights are packed
/// once; one task computes one output row's pixels of one phase (a strided run of C).
final class TransposedConvolutionKernel: Sendable {
    let geometry: ConvolutionGeometry
    let activation: Activation
    let isa: KernelISA

    private struct Phase: Sendable {
        var groups: [PackedGEMMWeights]
        var dy: [Int32]
        var dx: [Int32]
    }
    /// `phases[ry * strideW + rx]`.
    private let phases: [Phase]
    /// For few output channels per group (`directPathMaxChannels` or fewer, e.g. a decoder's
    /// final 16 → 1 layer): each phase's weights as `[group][oc][tap][ic]`, read by a direct
    /// per-pixel dot product. A 16-column GEMM panel would waste 15 of 16 columns there and
    /// its per-row packing and masked stores cost more than the arithmetic.
    private let directWeights: [[Float]]?
    private let bias: [Float]
    static let directPathMaxChannels = 4

    convenience init(geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation) {
        self.init(geometry: geometry, weights: weights, bias: bias, activation: activation, isa: .current)
    }

    init(geometry g: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation, isa: KernelISA) {
        g.checkKernelArguments(weights: weights, bias: bias, isa: isa)
        self.geometry = g
        self.activation = activation
        self.isa = isa
        let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
        let taps = g.kernelHeight * g.kernelWidth
        var phases: [Phase] = []
        var direct: [[Float]] = []
        for ry in 0..<g.strideHeight {
            for rx in 0..<g.strideWidth {
                // Taps that land on this phase, and the input offset each reads from:
                // iy = (oy + padTop) / strideH − (ky·dilationH − ry) / strideH.
                let kys = (0..<g.kernelHeight).filter { ($0 * g.dilationHeight) % g.strideHeight == ry }
                let kxs = (0..<g.kernelWidth).filter { ($0 * g.dilationWidth) % g.strideWidth == rx }
                var dy: [Int32] = [], dx: [Int32] = [], tapIndex: [Int] = []
                for ky in kys {
                    for kx in kxs {
                        dy.append(Int32(-(ky * g.dilationHeight - ry) / g.strideHeight))
                        dx.append(Int32(-(kx * g.dilationWidth - rx) / g.strideWidth))
                        tapIndex.append(ky * g.kernelWidth + kx)
                    }
                }
                let K = tapIndex.count * icg
                let packed = (0..<g.groups).map { grp in
                    PackedGEMMWeights(k: K, n: ocg, nr: isa.gemmBlocking.nr, bias: bias.map { b in { b[grp * ocg + $0] } }) { k, j in
                        weights[((grp * ocg + j) * taps + tapIndex[k / icg]) * icg + k % icg]
                    }
                }
                phases.append(Phase(groups: packed, dy: dy, dx: dx))
                if ocg <= Self.directPathMaxChannels {
                    var w: [Float] = []
                    w.reserveCapacity(g.groups * ocg * tapIndex.count * icg)
                    for grp in 0..<g.groups {
                        for j in 0..<ocg {
                            for t in tapIndex {
                                let start: Int = ((grp * ocg + j) * taps + t) * icg
                                w.append(contentsOf: weights[start ..< start + icg])
                            }
                        }
                    }
                    direct.append(w)
                }
            }
        }
        self.phases = phases
        self.directWeights = ocg <= Self.directPathMaxChannels ? direct : nil
        self.bias = bias ?? [Float](repeating: 0, count: g.outputChannels)
    }

    /// Scratch memory `run` needs (bytes): one A tile per worker; `threadCount` must be at
    /// least the `threadCount` of the pool later passed to `run`.
    func scratchByteCount(inputHeight: Int, inputWidth: Int, threadCount: Int) -> Int {
        max(1, threadCount) * isa.gemmBlocking.aTileBytes
    }

    func run(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?, threads: ThreadPool
    ) {
        let g = geometry
        let (outH, outW) = g.transposedOutputSize(height: inputHeight, width: inputWidth)
        if batch <= 0 || outH <= 0 || outW <= 0 { return }
        if let directWeights {
            runDirect(input: input, batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                      output: output, outH: outH, outW: outW, weights: directWeights, threads: threads)
            return
        }
        precondition(scratch != nil, "a transposed convolution needs scratch memory")
        let (parameters, needsPost) = activation.microkernelParameters
        let post: Activation? = needsPost ? activation : nil
        var act = parameters
        let sh = g.strideHeight, sw = g.strideWidth
        let OC = g.outputChannels, ocg = g.outputChannelsPerGroup, icg = g.inputChannelsPerGroup
        let blocking = isa.gemmBlocking
        let mc = blocking.mc, nc = blocking.nc
        let nTasks = (ocg + nc - 1) / nc
        let ukernel = isa.gemmMicrokernel
        let scratchFloats = scratch!.assumingMemoryBound(to: Float.self)
        let tileFloats = isa.gemmBlocking.aTileBytes / 4
        withUnsafePointer(to: &act) { act in
            // Task: (image, output row, x phase, group); inside, blocks of mc pixels × nc channels.
            threads.parallelFor(batch * outH * sw * g.groups) { task, worker in
                let grp = task % g.groups
                let rx = (task / g.groups) % sw
                let rowIndex = task / (g.groups * sw)
                let oy = rowIndex % outH, n = rowIndex / outH
                let ry = (oy + g.padTop) % sh, qy = (oy + g.padTop) / sh
                let ox0 = ((rx - g.padLeft) % sw + sw) % sw
                if ox0 >= outW { return }
                let count = (outW - 1 - ox0) / sw + 1
                let qx0 = (ox0 + g.padLeft) / sw
                let phase = phases[ry * sw + rx]
                let image = input + n * inputHeight * inputWidth * g.inputChannels
                let tile = scratchFloats + worker * tileFloats
                phase.dy.withUnsafeBufferPointer { dy in
                    phase.dx.withUnsafeBufferPointer { dx in
                        var m0 = 0
                        while m0 < count {
                            let rows = min(mc, count - m0)
                            let c = output + ((n * outH + oy) * outW + ox0 + m0 * sw) * OC + grp * ocg
                            for nt in 0..<nTasks {
                                let n0 = nt * nc, n1 = min(ocg, n0 + nc)
                                runGEMMTask(
                                    microkernel: ukernel, blocking: blocking, isa: isa, rows: rows, n0: n0, n1: n1, weights: phase.groups[grp],
                                    c: c, ldc: sw * OC, activation: act, postActivation: post
                                ) { k0, k1 in
                                    // One tap whose input run lies inside the image (the common
                                    // 2×2 stride-2 case): the input pixels are A already.
                                    if dy.count == 1 {
                                        let iy = qy + Int(dy[0]), ix = qx0 + m0 + Int(dx[0])
                                        if iy >= 0 && iy < inputHeight && ix >= 0 && ix + rows <= inputWidth {
                                            return (image + (iy * inputWidth + ix) * g.inputChannels + grp * icg + k0,
                                                    g.inputChannels)
                                        }
                                    }
                                    let kLen = k1 - k0
                                    mk_f32_im2col_segment(
                                        tile, kLen, rows, image, Int32(inputHeight), Int32(inputWidth),
                                        g.inputChannels, grp * icg, icg, Int32(qy), Int32(qx0 + m0), 1,
                                        dy.count, dy.baseAddress, dx.baseAddress, k0, k1)
                                    return (UnsafePointer(tile), kLen)
                                }
                            }
                            m0 += rows
                        }
                    }
                }
            }
        }
    }

    /// The few-output-channels path: one task per (image, output row); each output value is
    /// `bias + Σ taps Σ ic` in a fixed order (so any thread count gives the same bits).
    private func runDirect(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
        output: UnsafeMutablePointer<Float>, outH: Int, outW: Int, weights: [[Float]], threads: ThreadPool
    ) {
        let g = geometry
        let sh = g.strideHeight, sw = g.strideWidth
        let C = g.inputChannels, OC = g.outputChannels, ocg = g.outputChannelsPerGroup, icg = g.inputChannelsPerGroup
        let activation = activation
        let ukernel = isa.transposedDotMicrokernel
        var params = mk_tconv_dot_params(
            input_height: Int32(inputHeight), input_width: Int32(inputWidth), channels: Int32(C),
            groups: Int32(g.groups), group_input_channels: Int32(icg), group_output_channels: Int32(ocg))
        threads.parallelFor(batch * outH) { rowIndex, _ in
            let oy = rowIndex % outH, n = rowIndex / outH
            let ry = (oy + g.padTop) % sh, qy = (oy + g.padTop) / sh
            let image = input + n * inputHeight * inputWidth * C
            let out = output + rowIndex * outW * OC
            for rx in 0..<sw {
                let ox0 = ((rx - g.padLeft) % sw + sw) % sw
                if ox0 >= outW { continue }
                let phase = phases[ry * sw + rx]
                // Pixels ox0, ox0 + sw, …: input column (ox + padLeft) / sw = qx0 + j.
                let count = (outW - 1 - ox0) / sw + 1
                weights[ry * sw + rx].withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { bias in
                        phase.dy.withUnsafeBufferPointer { dy in
                            phase.dx.withUnsafeBufferPointer { dx in
                                dotConvolutionRow(
                                    image: image, params: &params, qy: qy, qx0: (ox0 + g.padLeft) / sw, count: count,
                                    out: out + ox0 * OC, outPixelStride: sw * OC, dy: dy, dx: dx,
                                    weights: w.baseAddress!, bias: bias.baseAddress!, ukernel: ukernel)
                            }
                        }
                    }
                }
            }
            activateRow(activation, out, count: outW * OC, isa: isa)
        }
    }
}
