import MattingEngine

/// Shape computations (Shape, Gather, Cast, Constant, ConstantOfShape, Range, Expand) and the
/// operator table. The converter only wires these up; the compiler folds them once input
/// sizes are known.
extension ONNXConverter {
    mutating func convertShape(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        var out = emit(.shape, [t.value], name: t.nhwc ? engineName("nhwc") : nil)
        if t.nhwc {
            // The shape of the NHWC value, reordered to NCHW.
            let order = emitConstant(Tensor(shape: [4], int64s: nhwcAxis.map(Int64.init)), name: "#nchw-order")
            out = emit(.gather(axis: 0), [out, order])
        }
        var length = rank
        let start = attrInt(node, "start", 0), end = attrInt(node, "end", rank)
        if node.attribute("start") != nil || node.attribute("end") != nil {
            let s = max(0, min(rank, normalizedAxis(start, rank: rank))), e = max(0, min(rank, normalizedAxis(end, rank: rank)))
            length = max(0, e - s)
            out = emit(.slice(SliceParameters(starts: [s], ends: [e])), [out], name: engineName("slice"))
            values[node.outputs[0]] = TrackedValue(value: out, nhwc: false, dims: [length])
            return
        }
        define(node, 0, out, nhwc: false, dims: [length])
    }

    mutating func convertGather(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let axis = try engineAxis(attrInt(node, "axis", 0), rank: rank, nhwc: false)
        let indicesName = try requiredInput(node, 1)
        let indices = try tracked(indicesName)
        var dims: [Int?]? = nil
        if let d = t.dims, let q = indices.dims { dims = Array(d[..<axis]) + q + Array(d[(axis + 1)...]) }
        define(node, 0, emit(.gather(axis: axis), [try nchw(name), try nchw(indicesName)]), nhwc: false, dims: dims)
    }

    mutating func convertCast(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let type = try engineType(attrInt(node, "to", 1))
        if let c = constants[name] {
            // Folded here so that weights stored as fp16 and widened by Cast stay constants.
            let folded: Tensor
            switch (c.dataType, type) {
            case (.float32, .int64): folded = Tensor(shape: c.shape, int64s: try integers(c, "Cast input").map { Int64($0) })
            case (.int64, .float32): folded = Tensor(shape: c.shape, floats: c.int64s.map { Float($0) })
            default: folded = c
            }
            constants[node.outputs[0]] = folded
            return
        }
        let t = try tracked(name)
        define(node, 0, emit(.cast(to: type), [t.value]), nhwc: t.nhwc, dims: t.dims)
    }

    mutating func convertConstant(_ node: ONNXNode) throws {
        let tensor: Tensor
        if case let .tensor(t)? = node.attribute("value") {
            guard let e = try engineTensor(t) else { throw unsupported("a constant of data type \(t.dataType)") }
            tensor = e
        } else if let v = node.attribute("value_float")?.floatValue {
            tensor = Tensor(scalar: v)
        } else if case let .floats(v)? = node.attribute("value_floats") {
            tensor = Tensor(shape: [v.count], floats: v)
        } else if let v = node.attribute("value_int")?.intValue {
            tensor = Tensor(shape: [], int64s: [v])
        } else if let v = node.attribute("value_ints")?.intsValue {
            tensor = Tensor(shape: [v.count], int64s: v)
        } else {
            throw unsupported("Constant without a value, value_float(s) or value_int(s) attribute")
        }
        constants[node.outputs[0]] = tensor
    }

    mutating func convertConstantOfShape(_ node: ONNXNode) throws {
        let shapeName = try requiredInput(node, 0)
        let s = try tracked(shapeName)
        var value = 0.0, type = DataType.float32
        if case let .tensor(t)? = node.attribute("value") {
            guard let e = try engineTensor(t), e.count == 1 else { throw unsupported("value of type \(t.dataType)") }
            type = e.dataType
            value = e.dataType == .int64 ? Double(e.int64s[0]) : Double(e.floats[0])
        }
        let rank = s.dims?.first ?? nil
        define(node, 0, emit(.constantOfShape(value: value, dataType: type), [s.value]), nhwc: false,
               dims: rank.map { [Int?](repeating: nil, count: $0) })
    }

    mutating func convertRange(_ node: ONNXNode) throws {
        let ins = try (0..<3).map { try nchw(try requiredInput(node, $0)) }
        define(node, 0, emit(.range, ins), nhwc: false, dims: [nil])
    }

    mutating func convertExpand(_ node: ONNXNode) throws {
        let x = try nchw(try requiredInput(node, 0))
        let s = try tracked(try requiredInput(node, 1))
        let rank = s.dims?.first ?? nil
        define(node, 0, emit(.expand, [x, s.value]), nhwc: false, dims: rank.map { [Int?](repeating: nil, count: $0) })
    }

    /// ONNX operator → conversion.
    static let handlers: [String: Handler] = {
        var h: [String: Handler] = [
            "Conv": { try $0.convertConv($1) },
            "ConvTranspose": { try $0.convertConvTranspose($1) },
            "BatchNormalization": { try $0.convertBatchNorm($1) },
            "InstanceNormalization": { try $0.convertInstanceNorm($1) },
            "MaxPool": { try $0.convertPool($1, kind: .max) },
            "AveragePool": { try $0.convertPool($1, kind: .average) },
            "GlobalAveragePool": { try $0.convertGlobalPool($1, average: true) },
            "GlobalMaxPool": { try $0.convertGlobalPool($1, average: false) },
            "Resize": { try $0.convertResize($1) },
            "Upsample": { try $0.convertUpsample($1) },
            "Relu": { try $0.convertActivation($1, .relu) },
            "Sigmoid": { try $0.convertActivation($1, .sigmoid) },
            "Tanh": { try $0.convertActivation($1, .tanh) },
            "HardSwish": { try $0.convertActivation($1, .hardSwish) },
            "LeakyRelu": { c, n in try c.convertActivation(n, .leakyRelu(alpha: c.attrFloat(n, "alpha", 0.01))) },
            "HardSigmoid": { c, n in
                try c.convertActivation(n, .hardSigmoid(alpha: c.attrFloat(n, "alpha", 0.2), beta: c.attrFloat(n, "beta", 0.5)))
            },
            "Clip": { try $0.convertClip($1) },
            "PRelu": { try $0.convertPRelu($1) },
            "Add": { try $0.convertBinary($1, .add) },
            "Sub": { try $0.convertBinary($1, .subtract) },
            "Mul": { try $0.convertBinary($1, .multiply) },
            "Div": { try $0.convertBinary($1, .divide) },
            "Pow": { try $0.convertBinary($1, .power) },
            "Max": { try $0.convertBinary($1, .maximum) },
            "Min": { try $0.convertBinary($1, .minimum) },
            "Sum": { try $0.convertBinary($1, .add) },
            "Concat": { try $0.convertConcat($1) },
            "Split": { try $0.convertSplit($1) },
            "Slice": { try $0.convertSlice($1) },
            "Pad": { try $0.convertPad($1) },
            "ReduceMean": { try $0.convertReduce($1, .mean, axesInputSince: 18) },
            "ReduceMax": { try $0.convertReduce($1, .max, axesInputSince: 18) },
            "ReduceMin": { try $0.convertReduce($1, .min, axesInputSince: 18) },
            "ReduceSum": { try $0.convertReduce($1, .sum, axesInputSince: 13) },
            "Softmax": { try $0.convertSoftmax($1) },
            "Reshape": { try $0.convertReshape($1) },
            "Flatten": { try $0.convertFlatten($1) },
            "Transpose": { try $0.convertTranspose($1) },
            "Squeeze": { try $0.convertSqueeze($1, unsqueeze: false) },
            "Unsqueeze": { try $0.convertSqueeze($1, unsqueeze: true) },
            "Identity": { try $0.convertIdentity($1) },
            "Dropout": { try $0.convertIdentity($1) },
            "Shape": { try $0.convertShape($1) },
            "Gather": { try $0.convertGather($1) },
            "Cast": { try $0.convertCast($1) },
            "Constant": { try $0.convertConstant($1) },
            "ConstantOfShape": { try $0.convertConstantOfShape($1) },
            "Range": { try $0.convertRange($1) },
            "Expand": { try $0.convertExpand($1) },
        ]
        let unary: [String: UnaryFunction] = [
            "Exp": .exp, "Log": .log, "Sqrt": .sqrt, "Reciprocal": .reciprocal, "Neg": .negate, "Abs": .abs,
            "Erf": .erf, "Floor": .floor, "Ceil": .ceil, "Round": .round,
        ]
        for (op, f) in unary { h[op] = { try $0.convertUnary($1, f) } }
        h.merge(transformerHandlers) { old, _ in old }
        return h
    }()
}
