extension Lowering {
    private func convolutionWeights() throws -> (weights: Tensor, bias: Tensor?) {
        try requireFloat(0); try requireRank(0, 4)
        let w = try constant(1)
        if w.dataType != .float32 || w.rank != 4 { throw fail("weights must be float32 [outC, kh, kw, inC/groups], are \(w.shape)") }
        var bias: Tensor?
        if inputs.count > 2 {
            let b = try constant(2)
            if b.count != w.shape[0] { throw fail("bias has \(b.count) values for \(w.shape[0]) output channels") }
            bias = b
        }
        return (w, bias)
    }

    func lowerConvolution(_ p: Conv2DParameters) throws -> LoweredNode {
        let (w, bias) = try convolutionWeights()
        let s = inputs[0].shape
        if w.shape[3] * p.groups != s[3] {
            throw fail("input has \(s[3]) channels; weights \(w.shape) with \(p.groups) groups expect \(w.shape[3] * p.groups)")
        }
        if p.strideHeight < 1 || p.strideWidth < 1 || p.dilationHeight < 1 || p.dilationWidth < 1 {
            throw EngineError.unsupported(node: node.name, reason: "strides and dilations must be ≥ 1")
        }
        let ph = resolvePadding(p.padding, axis: 0, input: s[1], kernel: w.shape[1], stride: p.strideHeight, dilation: p.dilationHeight)
        let pw = resolvePadding(p.padding, axis: 1, input: s[2], kernel: w.shape[2], stride: p.strideWidth, dilation: p.dilationWidth)
        let g = ConvolutionGeometry(
            inputChannels: s[3], outputChannels: w.shape[0], kernelHeight: w.shape[1], kernelWidth: w.shape[2],
            strideHeight: p.strideHeight, strideWidth: p.strideWidth, dilationHeight: p.dilationHeight,
            dilationWidth: p.dilationWidth, groups: p.groups, padTop: ph.before, padLeft: pw.before,
            padBottom: ph.after, padRight: pw.after)
        if let reason = g.validationFailure() { throw EngineError.unsupported(node: node.name, reason: reason) }
        let (oh, ow) = g.convolutionOutputSize(height: s[1], width: s[2])
        if oh < 1 || ow < 1 { throw fail("output would be \(oh)×\(ow) for input \(s)") }
        var lowered = LoweredNode(
            outputs: [([s[0], oh, ow, g.outputChannels], .float32)],
            flops: 2 * s[0] * oh * ow * g.outputChannels * g.kernelHeight * g.kernelWidth * g.inputChannelsPerGroup)
        if instantiate {
            let k = ConvolutionKernel(geometry: g, weights: w.floats, bias: bias?.floats, activation: p.activation)
            lowered.op = ConvolutionOperator(
                kernel: k, batch: s[0], inputHeight: s[1], inputWidth: s[2],
                scratchByteCount: k.scratchByteCount(inputHeight: s[1], inputWidth: s[2], threadCount: threads))
        }
        return lowered
    }

    func lowerTransposedConvolution(_ p: TransposedConv2DParameters) throws -> LoweredNode {
        let (w, bias) = try convolutionWeights()
        let s = inputs[0].shape
        if w.shape[3] * p.groups != s[3] {
            throw fail("input has \(s[3]) channels; weights \(w.shape) with \(p.groups) groups expect \(w.shape[3] * p.groups)")
        }
        if p.strideHeight < 1 || p.strideWidth < 1 || p.dilationHeight < 1 || p.dilationWidth < 1
            || p.outputPaddingHeight < 0 || p.outputPaddingWidth < 0 {
            throw EngineError.unsupported(node: node.name, reason: "strides and dilations must be ≥ 1, output padding ≥ 0")
        }
        // Returns (crop before, crop after, extra output padding) for one axis.
        func crop(_ input: Int, _ k: Int, _ stride: Int, _ dilation: Int, _ axis: Int) -> (Int, Int, Int) {
            switch p.padding {
            case .valid: return (0, 0, 0)
            case let .explicit(top, left, bottom, right): return axis == 0 ? (top, bottom, 0) : (left, right, 0)
            case .same, .sameLower:
                let total = (input - 1) * stride + dilation * (k - 1) + 1 - input * stride
                if total < 0 { return (0, 0, -total) }
                let small = total / 2, large = total - small
                return p.padding == .same ? (small, large, 0) : (large, small, 0)
            }
        }
        let ch = crop(s[1], w.shape[1], p.strideHeight, p.dilationHeight, 0)
        let cw = crop(s[2], w.shape[2], p.strideWidth, p.dilationWidth, 1)
        let g = ConvolutionGeometry(
            inputChannels: s[3], outputChannels: w.shape[0], kernelHeight: w.shape[1], kernelWidth: w.shape[2],
            strideHeight: p.strideHeight, strideWidth: p.strideWidth, dilationHeight: p.dilationHeight,
            dilationWidth: p.dilationWidth, groups: p.groups, padTop: ch.0, padLeft: cw.0, padBottom: ch.1,
            padRight: cw.1, outputPaddingHeight: p.outputPaddingHeight + ch.2,
            outputPaddingWidth: p.outputPaddingWidth + cw.2)
        if let reason = g.validationFailure() { throw EngineError.unsupported(node: node.name, reason: reason) }
        let (oh, ow) = g.transposedOutputSize(height: s[1], width: s[2])
        if oh < 1 || ow < 1 { throw fail("output would be \(oh)×\(ow) for input \(s)") }
        var lowered = LoweredNode(
            outputs: [([s[0], oh, ow, g.outputChannels], .float32)],
            flops: 2 * s[0] * s[1] * s[2] * g.outputChannels * g.kernelHeight * g.kernelWidth * g.inputChannelsPerGroup)
        if instantiate {
            let k = TransposedConvolutionKernel(geometry: g, weights: w.floats, bias: bias?.floats, activation: p.activation)
            lowered.op = TransposedConvolutionOperator(
                kernel: k, batch: s[0], inputHeight: s[1], inputWidth: s[2],
                scratchByteCount: k.scratchByteCount(inputHeight: s[1], inputWidth: s[2], threadCount: threads))
        }
        return lowered
    }
}
