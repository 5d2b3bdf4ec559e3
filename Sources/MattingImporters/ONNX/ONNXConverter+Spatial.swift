import MattingEngine

/// Convolution, normalisation and pooling: the operators that run on NHWC.
extension ONNXConverter {
    /// 2-D kernel attributes shared by Conv, ConvTranspose and pooling.
    struct Window {
        var kernel: (Int, Int)
        var strides: (Int, Int)
        var dilations: (Int, Int)
        /// ONNX `pads`: [top, left, bottom, right].
        var pads: [Int]
        var autoPad: String
    }

    func window(_ node: ONNXNode, kernel fallback: (Int, Int)?) throws -> Window {
        func pair(_ name: String, _ d: Int) throws -> (Int, Int) {
            guard let v = attrInts(node, name) else { return (d, d) }
            guard v.count == 2 else { throw unsupported("\(name) \(v): only 2-D (NCHW) windows are supported") }
            return (v[0], v[1])
        }
        let kernel: (Int, Int)
        if let k = attrInts(node, "kernel_shape") {
            guard k.count == 2 else { throw unsupported("kernel_shape \(k): only 2-D (NCHW) windows are supported") }
            kernel = (k[0], k[1])
        } else if let fallback {
            kernel = fallback
        } else {
            throw invalid("kernel_shape is required")
        }
        let pads = attrInts(node, "pads") ?? [0, 0, 0, 0]
        guard pads.count == 4 else { throw unsupported("pads \(pads): only 2-D windows are supported") }
        return Window(kernel: kernel, strides: try pair("strides", 1), dilations: try pair("dilations", 1),
                      pads: pads, autoPad: attrString(node, "auto_pad", "NOTSET"))
    }

    func padding(_ w: Window) throws -> Padding {
        switch w.autoPad {
        case "NOTSET", "": return .explicit(top: w.pads[0], left: w.pads[1], bottom: w.pads[2], right: w.pads[3])
        case "SAME_UPPER": return .same
        case "SAME_LOWER": return .sameLower
        case "VALID": return .valid
        default: throw unsupported("auto_pad '\(w.autoPad)'")
        }
    }

    mutating func convertConv(_ node: ONNXNode) throws {
        let xName = try requiredInput(node, 0)
        guard let w = try constantInput(node, 1, "weights"), w.rank == 4 else {
            throw unsupported("only 2-D convolutions with constant OIHW weights are supported")
        }
        let win = try window(node, kernel: (w.shape[2], w.shape[3]))
        let groups = attrInt(node, "group", 1)
        let p = Conv2DParameters(
            strideHeight: win.strides.0, strideWidth: win.strides.1, dilationHeight: win.dilations.0,
            dilationWidth: win.dilations.1, groups: groups, padding: try padding(win))
        let n = try peek(xName).dims?.first ?? nil
        if try keepsChannelMajor(node, xName, w, p) {
            var ins = [try nchw(xName), emitConstant(w.reshaped([w.shape[0], w.shape[1]]), name: "\(node.inputs[1])#oc")]
            if let b = input(node, 2) { ins.append(try nchw(b)) }
            define(node, 0, emit(.channelMix(activation: .identity), ins), nhwc: false, dims: [n, w.shape[0], nil, nil])
            return
        }
        let x = try nhwc(xName)
        let weights = emitConstant(w.convolutionWeightsFromOIHW(), name: "\(node.inputs[1])#ohwi")
        var ins = [x, weights]
        if let b = input(node, 2) { ins.append(try nchw(b)) }
        define(node, 0, emit(.conv2d(p), ins), nhwc: true, dims: [n, w.shape[0], nil, nil])
    }

    /// Whether a pointwise convolution runs on channel-major data (`channelMix`, weights on
    /// the left of one GEMM) instead of NHWC: when its input is held NCHW (a graph input, or
    /// after a layout-sensitive operator) and every reader of its output is content with NCHW
    /// too — graph outputs, activations, and further such pointwise convolutions. Then the
    /// transposes into and out of NHWC are not needed at all; otherwise NHWC pays one
    /// transpose and its readers none.
    func keepsChannelMajor(_ node: ONNXNode, _ xName: String, _ w: Tensor, _ p: Conv2DParameters) throws -> Bool {
        guard w.shape[2] == 1, w.shape[3] == 1, p.groups == 1, p.strideHeight == 1, p.strideWidth == 1,
              try !peek(xName).nhwc, try peek(xName).rank == 4 else { return false }
        switch p.padding {
        case .valid, .same, .sameLower: break
        case let .explicit(t, l, b, r): guard t == 0, l == 0, b == 0, r == 0 else { return false }
        }
        let neutral: Set<String> = ["Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid"]
        var pending = [node.outputs[0]], seen = Set<String>()
        while let value = pending.popLast() {
            guard seen.insert(value).inserted else { continue }
            for reader in model.graph.nodes where reader.inputs.contains(value) {
                if neutral.contains(reader.opType) {
                    pending.append(reader.outputs[0])
                } else if reader.opType == "Conv", reader.inputs.first == value,
                          let rw = constants[reader.inputs.count > 1 ? reader.inputs[1] : ""], rw.rank == 4,
                          rw.shape[2] == 1, rw.shape[3] == 1 {
                    continue
                } else {
                    return false
                }
            }
        }
        return true
    }

    mutating func convertConvTranspose(_ node: ONNXNode) throws {
        let xName = try requiredInput(node, 0)
        guard let w = try constantInput(node, 1, "weights"), w.rank == 4 else {
            throw unsupported("only 2-D transposed convolutions with constant IOHW weights are supported")
        }
        if node.attribute("output_shape") != nil {
            throw unsupported("the output_shape attribute (give pads and output_padding instead)")
        }
        let win = try window(node, kernel: (w.shape[2], w.shape[3]))
        let groups = attrInt(node, "group", 1)
        guard groups >= 1, w.shape[0] % groups == 0 else { throw invalid("group \(groups) does not divide \(w.shape[0]) input channels") }
        let outPad = attrInts(node, "output_padding") ?? [0, 0]
        guard outPad.count == 2 else { throw unsupported("output_padding \(outPad)") }
        // ONNX auto_pad for ConvTranspose: output = input · stride, so the total crop
        // `output_padding + dilation·(k − 1) + 1 − stride` is independent of the input size and
        // becomes explicit padding (SAME_UPPER puts the odd pixel at the end, as the ONNX
        // specification says; the engine's `.same` follows TFLite instead).
        var pads = win.pads
        switch win.autoPad {
        case "NOTSET", "": break
        case "VALID": pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            let kernels = [win.kernel.0, win.kernel.1], strides = [win.strides.0, win.strides.1]
            let dilations = [win.dilations.0, win.dilations.1]
            for axis in 0..<2 {
                let total = outPad[axis] + dilations[axis] * (kernels[axis] - 1) + 1 - strides[axis]
                guard total >= 0 else { throw unsupported("auto_pad \(win.autoPad) with stride larger than the kernel") }
                let small = total / 2, large = total - small
                pads[axis] = win.autoPad == "SAME_UPPER" ? small : large
                pads[axis + 2] = win.autoPad == "SAME_UPPER" ? large : small
            }
        default: throw unsupported("auto_pad '\(win.autoPad)'")
        }
        let p = TransposedConv2DParameters(
            strideHeight: win.strides.0, strideWidth: win.strides.1, dilationHeight: win.dilations.0,
            dilationWidth: win.dilations.1, groups: groups,
            padding: .explicit(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3]),
            outputPaddingHeight: outPad[0], outputPaddingWidth: outPad[1])
        let x = try nhwc(xName)
        let weights = emitConstant(w.transposedConvolutionWeightsFromIOHW(groups: groups), name: "\(node.inputs[1])#ohwi")
        var ins = [x, weights]
        if let b = input(node, 2) { ins.append(try nchw(b)) }
        let n = try peek(xName).dims?.first ?? nil
        define(node, 0, emit(.transposedConv2d(p), ins), nhwc: true, dims: [n, w.shape[1] * groups, nil, nil])
    }

    mutating func convertBatchNorm(_ node: ONNXNode) throws {
        if attrInt(node, "training_mode", 0) != 0 { throw unsupported("training_mode = 1") }
        try requireOnlyFirstOutput(node)
        let xName = try requiredInput(node, 0)
        let t = try peek(xName)
        var ins: [Value]
        switch t.rank {
        case 4?: ins = [try nhwc(xName)]
        case 2?: ins = [try nchw(xName)]  // [N, C]: the channel is already the last axis
        default: throw unsupported("BatchNormalization of a rank-\(t.rank.map(String.init) ?? "?") tensor (2-D and 4-D only)")
        }
        for i in 1...4 { ins.append(try nchw(try requiredInput(node, i))) }
        let out = emit(.batchNorm(epsilon: attrFloat(node, "epsilon", 1e-5)), ins)
        define(node, 0, out, nhwc: t.rank == 4, dims: t.dims)
    }

    mutating func convertInstanceNorm(_ node: ONNXNode) throws {
        let xName = try requiredInput(node, 0)
        let t = try peek(xName)
        guard t.rank == 4 else { throw unsupported("InstanceNormalization of a non-4-D tensor") }
        let ins = [try nhwc(xName), try nchw(try requiredInput(node, 1)), try nchw(try requiredInput(node, 2))]
        define(node, 0, emit(.instanceNorm(epsilon: attrFloat(node, "epsilon", 1e-5)), ins), nhwc: true, dims: t.dims)
    }

    mutating func convertPool(_ node: ONNXNode, kind: PoolParameters.Kind) throws {
        try requireOnlyFirstOutput(node)
        let xName = try requiredInput(node, 0)
        let win = try window(node, kernel: nil)
        if win.dilations != (1, 1) { throw unsupported("dilated pooling") }
        if attrInt(node, "storage_order", 0) != 0 { throw unsupported("storage_order = 1") }
        let p = PoolParameters(
            kind: kind, kernelHeight: win.kernel.0, kernelWidth: win.kernel.1, strideHeight: win.strides.0,
            strideWidth: win.strides.1, padding: try padding(win),
            countIncludesPadding: attrInt(node, "count_include_pad", 0) != 0, ceilMode: attrInt(node, "ceil_mode", 0) != 0)
        let dims = try peek(xName).dims
        define(node, 0, emit(.pool(p), [try nhwc(xName)]), nhwc: true, dims: dims.map { [$0[0], $0[1], nil, nil] })
    }

    mutating func convertGlobalPool(_ node: ONNXNode, average: Bool) throws {
        let xName = try requiredInput(node, 0)
        let x = try nhwc(xName)
        let out = average
            ? emit(.globalAveragePool, [x])
            : emit(.reduce(ReduceParameters(kind: .max, axes: [1, 2], keepDimensions: true)), [x])
        let dims = try peek(xName).dims
        define(node, 0, out, nhwc: true, dims: dims.map { [$0[0], $0[1], 1, 1] })
    }
}
