import CMattingKernels

/// A convolution with its weights prepared once, run many times over NHWC float tensors.
///
/// Input is `[batch][inputHeight][inputWidth][inputChannels]`, output
/// `[batch][outputHeight][outputWidth][outputChannels]`, both dense. Padding is implicit
/// zeros. The bias (if any) is added and then `activation` applied to every output.
///
/// Lowering (chosen at init, see Docs/Kernels.md):
/// - 1×1, stride 1, no padding: the NHWC input already is the GEMM's A (`pixels × inC`);
/// - depthwise (groups == inC == outC): a row microkernel vectorised across channels;
/// - anything else (K×K, strides, dilation, groups) with at least `indirectMinChannels` input
///   channels per group, on every path (6×16 tiles on AVX2 and portable, 8×32 on AVX-512): indirect GEMM — per task, a table
///   of pointers to each output pixel's input pixel per tap (a zero row for padding), read by
///   the indirect microkernel straight from the image, with no im2col copy;
/// - anything else: implicit GEMM, packing bounded im2col tiles (`mc × kc`) per task into the
///   worker's scratch — never a whole-image buffer.
///
/// Results are bit-identical for any thread count: tasks own disjoint output tiles and
/// each output's k order is fixed.
///
/// CONTRACT (shared by the graph runtime): this type's initialiser and `run` signature are
/// the interface; the implementation behind them is free to change.
final class ConvolutionKernel: Sendable {
    let geometry: ConvolutionGeometry
    let activation: Activation
    /// The instruction-set path this kernel runs on.
    let isa: KernelISA

    private enum Lowering: Sendable {
        case direct(groups: [PackedGEMMWeights])
        case im2col(groups: [PackedGEMMWeights], dy: [Int32], dx: [Int32])
        /// Indirect GEMM: K blocks are whole taps (`taps` taps of all channels) or, past `kc`
        /// channels, one tap's channel range; `zero` is the padding row.
        case indirect(groups: [PackedGEMMWeights], dy: [Int32], dx: [Int32], blocks: [IndirectBlock],
                      zero: AlignedFloats, microkernel: mk_f32_igemm_ukernel_fn)
        case depthwise(weights: AlignedFloats, bias: AlignedFloats, channelStride: Int)
        /// Few output channels per group, stride 1: per-pixel dot products (`dotConvolutionRow`);
        /// OHWI weights are already `[group][oc][tap][ic]`.
        case dot(weights: [Float], bias: [Float], dy: [Int32], dx: [Int32])
        /// Few input channels (an RGB first layer): straight from NHWC pixels, weights packed
        /// per block of the path's vector width (`mk_conv_hwc_params` in cmk.h).
        case fewInputChannels(weights: AlignedFloats, bias: AlignedFloats, microkernel: mk_f32_conv_hwc_ukernel_fn)
    }
    private let lowering: Lowering

    /// - Parameters:
    ///   - weights: `geometry.weightCount` values in OHWI order.
    ///   - bias: `outputChannels` values, or `nil` for none.
    convenience init(geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation) {
        self.init(geometry: geometry, weights: weights, bias: bias, activation: activation, isa: .current)
    }

    /// As the contract initialiser, on a chosen instruction-set path (tests, comparisons).
    /// `allowsIndirect: false` keeps K×K convolutions on the im2col lowering (tests and
    /// benchmarks compare the two).
    init(geometry g: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation, isa: KernelISA,
         allowsIndirect: Bool = true) {
        g.checkKernelArguments(weights: weights, bias: bias, isa: isa)
        self.geometry = g
        self.activation = activation
        self.isa = isa
        let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
        let taps = g.kernelHeight * g.kernelWidth
        if g.isDepthwise {
            let channels = g.outputChannels
            let block = isa.depthwiseChannelPadding
            let cpad = (channels + block - 1) / block * block
            let w = AlignedFloats(count: taps * cpad), b = AlignedFloats(count: cpad)
            for c in 0..<channels {
                for t in 0..<taps { w.pointer[t * cpad + c] = weights[c * taps + t] }
                b.pointer[c] = bias?[c] ?? 0
            }
            lowering = .depthwise(weights: w, bias: b, channelStride: cpad)
            return
        }
        var dy: [Int32] = [], dx: [Int32] = []
        for ky in 0..<g.kernelHeight {
            for kx in 0..<g.kernelWidth {
                dy.append(Int32(ky * g.dilationHeight))
                dx.append(Int32(kx * g.dilationWidth))
            }
        }
        if ocg <= Self.dotPathMaxChannels && g.strideHeight == 1 && g.strideWidth == 1 {
            lowering = .dot(weights: weights, bias: bias ?? [Float](repeating: 0, count: g.outputChannels), dy: dy, dx: dx)
            return
        }
        // B[k][j] of group grp, k = (ky·kw + kx)·icg + ic: OHWI rows are already K-contiguous.
        let K = taps * icg
        if g.groups == 1, icg <= Self.fewInputChannelsMax, taps > 1, let (ukernel, lanes, maxOutputs) = isa.fewInputChannels,
           ocg <= maxOutputs {
            let blocks = (ocg + lanes - 1) / lanes
            let w = AlignedFloats(count: blocks * K * lanes), b = AlignedFloats(count: blocks * lanes)
            for oc in 0..<ocg {
                let (block, lane) = oc.quotientAndRemainder(dividingBy: lanes)
                for k in 0..<K { w.pointer[(block * K + k) * lanes + lane] = weights[oc * K + k] }
                b.pointer[oc] = bias?[oc] ?? 0
            }
            lowering = .fewInputChannels(weights: w, bias: b, microkernel: ukernel)
            return
        }
        let packed = (0..<g.groups).map { grp in
            PackedGEMMWeights(k: K, n: ocg, nr: isa.gemmBlocking.nr, bias: bias.map { b in { b[grp * ocg + $0] } }) { k, j in
                weights[(grp * ocg + j) * K + k]
            }
        }
        let isPointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1
            && g.strideWidth == 1 && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
        if isPointwise {
            lowering = .direct(groups: packed)
        } else if allowsIndirect, icg >= Self.indirectMinChannels, let ukernel = isa.indirectGEMMMicrokernel {
            let kc = isa.gemmBlocking.kc
            var blocks: [IndirectBlock] = []
            if icg <= kc {
                // As few K blocks as kc allows, with the taps spread evenly among them.
                let count = (taps * icg + kc - 1) / kc
                let perBlock = (taps + count - 1) / count
                for t0 in stride(from: 0, to: taps, by: perBlock) {
                    blocks.append(IndirectBlock(tap: t0, taps: min(perBlock, taps - t0), channel: 0, channels: icg))
                }
            } else {
                let count = (icg + kc - 1) / kc
                let perBlock = (icg + count - 1) / count
                for t in 0..<taps {
                    for c0 in stride(from: 0, to: icg, by: perBlock) {
                        blocks.append(IndirectBlock(tap: t, taps: 1, channel: c0, channels: min(perBlock, icg - c0)))
                    }
                }
            }
            lowering = .indirect(groups: packed, dy: dy, dx: dx, blocks: blocks,
                                 zero: AlignedFloats(count: min(icg, kc)), microkernel: ukernel)
        } else {
            lowering = .im2col(groups: packed, dy: dy, dx: dx)
        }
    }

    /// One K block of the indirect lowering: taps `tap ..< tap + taps`, channels
    /// `channel ..< channel + channels` of each (all channels when `taps > 1`).
    struct IndirectBlock: Sendable {
        let tap: Int, taps: Int, channel: Int, channels: Int
    }

    /// From this many input channels per group, K×K convolutions take the indirect lowering
    /// (where the path has an indirect microkernel): each tap then feeds the microkernel a run
    /// of at least this many k steps between pointer switches.
    static let indirectMinChannels = 8

    /// Whether this kernel runs the few-input-channels microkernel.
    var isFewInputChannels: Bool { if case .fewInputChannels = lowering { true } else { false } }

    /// Whether this kernel gathers its input through pointers (indirect GEMM).
    var isIndirect: Bool { if case .indirect = lowering { true } else { false } }

    /// Up to this many output channels per group (stride 1) take the dot path: below about
    /// a quarter of a GEMM panel's columns, the panel's wasted lanes cost more than the dot
    /// products (the transposed convolution draws the same line).
    static let dotPathMaxChannels = TransposedConvolutionKernel.directPathMaxChannels

    /// Up to this many input channels (one group, a K×K kernel), convolutions run straight
    /// from NHWC pixels where the path has a kernel for it: an im2col GEMM over K = 9·3 = 27
    /// spent as long gathering its rows as multiplying them (the selfie model's 3→16 stem).
    static let fewInputChannelsMax = 4

    /// Scratch memory `run` needs for an input of this size (bytes; 0 if none).
    ///
    /// `threadCount` must be at least the `threadCount` of the pool later passed to `run`
    /// (each worker uses its own slice). The size is bounded by the tile, not the image.
    func scratchByteCount(inputHeight: Int, inputWidth: Int, threadCount: Int) -> Int {
        switch lowering {
        case .im2col: max(1, threadCount) * isa.gemmBlocking.aTileBytes
        case .indirect: max(1, threadCount) * indirectionBytes
        case .direct, .depthwise, .dot, .fewInputChannels: 0
        }
    }

    /// One worker's pointer table: `mc` rows (rounded up to `mr`) × taps, 64-byte rounded.
    private var indirectionBytes: Int {
        let b = isa.gemmBlocking
        let rows = (b.mc + b.mr - 1) / b.mr * b.mr
        return (rows * geometry.kernelHeight * geometry.kernelWidth * MemoryLayout<UnsafeRawPointer>.stride + 63) / 64 * 64
    }

    /// Computes the convolution. `scratch` must hold `scratchByteCount(...)` bytes, 64-byte aligned.
    func run(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?, threads: ThreadPool
    ) {
        let g = geometry
        let (outH, outW) = g.convolutionOutputSize(height: inputHeight, width: inputWidth)
        if batch <= 0 || outH <= 0 || outW <= 0 { return }
        let (parameters, needsPost) = activation.microkernelParameters
        let post: Activation? = needsPost ? activation : nil
        var act = parameters
        withUnsafePointer(to: &act) { act in
            switch lowering {
            case let .depthwise(weights, bias, channelStride):
                var params = mk_dwconv_params(
                    input_height: Int32(inputHeight), input_width: Int32(inputWidth),
                    channels: Int32(g.inputChannels),
                    kernel_height: Int32(g.kernelHeight), kernel_width: Int32(g.kernelWidth),
                    stride_height: Int32(g.strideHeight), stride_width: Int32(g.strideWidth),
                    dilation_height: Int32(g.dilationHeight), dilation_width: Int32(g.dilationWidth),
                    pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft),
                    output_width: Int32(outW), channel_stride: Int32(channelStride))
                let ukernel = isa.depthwiseMicrokernel
                withUnsafePointer(to: &params) { params in
                    runOutputRows(input: input, batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                                  outH: outH, outW: outW, output: output, post: post, threads: threads) { image, oy, out in
                        ukernel(image, oy, out, weights.pointer, bias.pointer, params, act)
                    }
                }
            case let .dot(weights, bias, dy, dx):
                let C = g.inputChannels, OC = g.outputChannels
                var params = mk_tconv_dot_params(
                    input_height: Int32(inputHeight), input_width: Int32(inputWidth), channels: Int32(C),
                    groups: Int32(g.groups), group_input_channels: Int32(g.inputChannelsPerGroup),
                    group_output_channels: Int32(g.outputChannelsPerGroup))
                let ukernel = isa.transposedDotMicrokernel, activation = self.activation, isa = self.isa
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { bias in
                        dy.withUnsafeBufferPointer { dy in
                            dx.withUnsafeBufferPointer { dx in
                                runOutputRows(input: input, batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                                              outH: outH, outW: outW, output: output, post: nil, threads: threads) { image, oy, out in
                                    dotConvolutionRow(
                                        image: image, params: &params,
                                        qy: Int(oy) - g.padTop, qx0: -g.padLeft, count: outW, out: out, outPixelStride: OC,
                                        dy: dy, dx: dx, weights: w.baseAddress!, bias: bias.baseAddress!, ukernel: ukernel)
                                    activateRow(activation, out, count: outW * OC, isa: isa)
                                }
                            }
                        }
                    }
                }
            case let .fewInputChannels(weights, bias, ukernel):
                var params = mk_conv_hwc_params(
                    input_height: Int32(inputHeight), input_width: Int32(inputWidth), input_channels: Int32(g.inputChannels),
                    kernel_height: Int32(g.kernelHeight), kernel_width: Int32(g.kernelWidth),
                    stride_height: Int32(g.strideHeight), stride_width: Int32(g.strideWidth),
                    dilation_height: Int32(g.dilationHeight), dilation_width: Int32(g.dilationWidth),
                    pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft),
                    output_width: Int32(outW), output_channels: Int32(g.outputChannels))
                withUnsafePointer(to: &params) { params in
                    runOutputRows(input: input, batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                                  outH: outH, outW: outW, output: output, post: post, threads: threads) { image, oy, out in
                        ukernel(image, oy, out, weights.pointer, bias.pointer, params, act)
                    }
                }
            case let .direct(groups):
                let M = batch * outH * outW
                runGroupedGEMM(rows: M, groups: groups, output: output, activation: act, post: post,
                               threads: threads) { m0, _, grp, _, k0, _ in
                    (input + m0 * g.inputChannels + grp * g.inputChannelsPerGroup + k0, g.inputChannels)
                }
            case let .indirect(groups, dy, dx, blocks, zero, ukernel):
                precondition(scratch != nil, "this convolution needs scratch memory")
                runIndirect(input: input, batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                            outH: outH, outW: outW, output: output, scratch: scratch!, groups: groups, dy: dy, dx: dx,
                            blocks: blocks, zero: zero, microkernel: ukernel, activation: act, post: post, threads: threads)
            case let .im2col(groups, dy, dx):
                precondition(scratch != nil, "this convolution needs scratch memory")
                let M = batch * outH * outW
                let scratchFloats = scratch!.assumingMemoryBound(to: Float.self)
                let tileFloats = isa.gemmBlocking.aTileBytes / 4
                dy.withUnsafeBufferPointer { dy in
                    dx.withUnsafeBufferPointer { dx in
                        runGroupedGEMM(rows: M, groups: groups, output: output, activation: act, post: post,
                                       threads: threads) { m0, rows, grp, worker, k0, k1 in
                            let tile = scratchFloats + worker * tileFloats
                            let kLen = k1 - k0
                            // Walk the block's rows as runs along one output row each.
                            var m = m0, r = 0
                            while r < rows {
                                let ox = m % outW, rowIndex = m / outW
                                let oy = rowIndex % outH, n = rowIndex / outH
                                let count = min(rows - r, outW - ox)
                                mk_f32_im2col_segment(
                                    tile + r * kLen, kLen, count,
                                    input + n * inputHeight * inputWidth * g.inputChannels,
                                    Int32(inputHeight), Int32(inputWidth), g.inputChannels,
                                    grp * g.inputChannelsPerGroup, g.inputChannelsPerGroup,
                                    Int32(oy * g.strideHeight - g.padTop), Int32(ox * g.strideWidth - g.padLeft),
                                    Int32(g.strideWidth), dy.count, dy.baseAddress, dx.baseAddress, k0, k1)
                                m += count
                                r += count
                            }
                            return (UnsafePointer(tile), kLen)
                        }
                    }
                }
            }
        }
    }

    /// The row microkernels' driver (depthwise, few input channels, the dot path): `row(image, oy, out)` for
    /// every output row, in runs of consecutive rows per task (``parallelRowRuns``), then the
    /// activation's post-pass (sigmoid, tanh) on the row while it is in cache.
    private func runOutputRows(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int, outH: Int, outW: Int,
        output: UnsafeMutablePointer<Float>, post: Activation?, threads: ThreadPool,
        _ row: (_ image: UnsafePointer<Float>, _ oy: Int32, _ out: UnsafeMutablePointer<Float>) -> Void
    ) {
        let C = geometry.inputChannels, OC = geometry.outputChannels, isa = self.isa
        parallelRowRuns(batch * outH, pool: threads) { rows in
            for r in rows {
                let n = r / outH, out = output + r * outW * OC
                row(input + n * inputHeight * inputWidth * C, Int32(r % outH), out)
                if let post { post.applyPostPass(out, count: outW * OC, isa: isa) }
            }
        }
    }

    /// The indirect lowering: tasks of `mc` output pixels × `nc` output channels (per group), as
    /// `runGroupedGEMM`; each task fills its worker's pointer table (micro-tile by tap by row,
    /// rows past the last repeating it), then runs every K block against every panel.
    private func runIndirect(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int, outH: Int, outW: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer,
        groups: [PackedGEMMWeights], dy: [Int32], dx: [Int32], blocks: [IndirectBlock], zero: AlignedFloats,
        microkernel ukernel: mk_f32_igemm_ukernel_fn,
        activation: UnsafePointer<mk_activation>, post: Activation?, threads: ThreadPool
    ) {
        let g = geometry
        let ocg = g.outputChannelsPerGroup, icg = g.inputChannelsPerGroup, C = g.inputChannels
        let blocking = isa.gemmBlocking
        let mr = blocking.mr, nr = blocking.nr, mc = blocking.mc, nc = blocking.nc
        let taps = dy.count
        let M = batch * outH * outW
        let mTasks = (M + mc - 1) / mc, nTasks = (ocg + nc - 1) / nc
        let tableStride = indirectionBytes
        let zeroRow = UnsafePointer(zero.pointer)
        let isa = self.isa
        dy.withUnsafeBufferPointer { dy in
            dx.withUnsafeBufferPointer { dx in
                threads.parallelFor(mTasks * g.groups * nTasks) { task, worker in
                    let nt = task % nTasks, grp = (task / nTasks) % g.groups, mt = task / (nTasks * g.groups)
                    let m0 = mt * mc, rows = min(mc, M - m0)
                    let n0 = nt * nc, n1 = min(ocg, n0 + nc)
                    let table = (scratch + worker * tableStride).bindMemory(
                        to: UnsafePointer<Float>?.self, capacity: tableStride / MemoryLayout<UnsafeRawPointer>.stride)
                    let tiles = (rows + mr - 1) / mr
                    mk_f32_conv_indirection(
                        table, mr, tiles, rows, m0, input + grp * icg, inputHeight * inputWidth * C,
                        Int32(inputHeight), Int32(inputWidth), C, Int32(outH), Int32(outW),
                        Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.padTop), Int32(g.padLeft),
                        taps, dy.baseAddress, dx.baseAddress, zeroRow)
                    let weights = groups[grp]
                    let c = output + m0 * g.outputChannels + grp * ocg
                    let ldc = g.outputChannels
                    for (b, block) in blocks.enumerated() {
                        var flags: UInt32 = b == 0 ? 0 : MK_GEMM_ACCUMULATE
                        if b == blocks.count - 1 { flags |= MK_GEMM_ACTIVATE }
                        let k0 = block.tap * icg + block.channel
                        for panel in (n0 / nr)..<((n1 + nr - 1) / nr) {
                            let w = weights.panel(panel, k0: k0)
                            let bias = weights.bias(panel: panel)
                            let col = panel * nr
                            let ncols = min(nr, n1 - col)
                            for tile in 0..<tiles {
                                ukernel(min(mr, rows - tile * mr), ncols, block.channels, block.taps,
                                        table + (tile * taps + block.tap) * mr, block.channel, zeroRow,
                                        w, bias, c + tile * mr * ldc + col, ldc, flags, activation)
                            }
                        }
                    }
                    if let post {
                        for i in 0..<rows { post.applyPostPass(c + i * ldc + n0, count: n1 - n0, isa: isa) }
                    }
                }
            }
        }
    }

    /// Splits `rows × outputChannels` (per group) into tasks of `mc × nc` and runs them.
    /// `packA(m0, rows, group, worker, k0, k1)` provides each task's A block.
    private func runGroupedGEMM(
        rows M: Int, groups: [PackedGEMMWeights], output: UnsafeMutablePointer<Float>,
        activation: UnsafePointer<mk_activation>, post: Activation?, threads: ThreadPool,
        packA: (_ m0: Int, _ rows: Int, _ group: Int, _ worker: Int, _ k0: Int, _ k1: Int) -> (UnsafePointer<Float>, Int)
    ) {
        let g = geometry
        let ocg = g.outputChannelsPerGroup
        let blocking = isa.gemmBlocking
        let mc = blocking.mc, nc = blocking.nc
        let mTasks = (M + mc - 1) / mc, nTasks = (ocg + nc - 1) / nc
        let ukernel = isa.gemmMicrokernel
        threads.parallelFor(mTasks * g.groups * nTasks) { task, worker in
            let nt = task % nTasks, grp = (task / nTasks) % g.groups, mt = task / (nTasks * g.groups)
            let m0 = mt * mc, rows = min(mc, M - m0)
            let n0 = nt * nc, n1 = min(ocg, n0 + nc)
            runGEMMTask(
                microkernel: ukernel, blocking: blocking, isa: isa, rows: rows, n0: n0, n1: n1, weights: groups[grp],
                c: output + m0 * g.outputChannels + grp * ocg, ldc: g.outputChannels,
                activation: activation, postActivation: post
            ) { k0, k1 in packA(m0, rows, grp, worker, k0, k1) }
        }
    }
}
