import MattingEngine

extension TFLiteModel {
    /// The model's first subgraph as an engine ``Graph``.
    ///
    /// TFLite is NHWC like the engine, so tensors keep their layout and axes. Inputs and
    /// outputs keep the model's tensor names. Constant tensors (buffers with data) become
    /// graph constants; fp16 weights behind `DEQUANTIZE` are widened to float32 here, once.
    /// Fused activations become the engine's fused activations.
    ///
    /// Supported operators: ADD, SUB, MUL, DIV, CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV,
    /// AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, RESIZE_BILINEAR, CONCATENATION, PAD, RESHAPE, DEPTH_TO_SPACE,
    /// SOFTMAX, RELU, RELU6, LOGISTIC, TANH, HARD_SWISH, DEQUANTIZE (fp16 constants), DENSIFY
    /// (sparse constants, expanded at load time), and MediaPipe's custom `Convolution2DTransposeBias`.
    ///
    /// - Throws: ``ModelImportError`` naming the operator (index and type) for an
    ///   unsupported operator, option or tensor type, or inconsistent shapes.
    package func makeGraph() throws -> Graph {
        guard let subgraph = subgraphs.first else {
            throw ModelImportError(file: fileName, format: .tflite, kind: .invalidModel, message: "the model has no subgraph")
        }
        var converter = TFLiteGraphConverter(model: self, subgraph: subgraph)
        return try converter.convert()
    }

    /// The operators ``makeGraph()`` converts, by name.
    package static let supportedOperatorNames: [String] = [
        "ADD", "SUB", "MUL", "DIV", "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "AVERAGE_POOL_2D",
        "MAX_POOL_2D", "MEAN", "RESIZE_BILINEAR", "CONCATENATION", "PAD", "RESHAPE", "DEPTH_TO_SPACE", "SOFTMAX", "RELU",
        "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "DEQUANTIZE", "DENSIFY", "CUSTOM(Convolution2DTransposeBias)",
    ]
}

/// Walks one TFLite subgraph in operator order and emits engine nodes.
struct TFLiteGraphConverter {
    let model: TFLiteModel
    let subgraph: TFLiteSubgraph
    var builder = GraphBuilder()
    /// The engine value holding each TFLite tensor, once produced.
    var values: [Int: Value] = [:]
    /// Tensors whose contents are known at load time (buffers and dequantised constants).
    var constants: [Int: Tensor] = [:]
    /// The operator being converted, for error messages.
    var current = ""

    init(model: TFLiteModel, subgraph: TFLiteSubgraph) {
        self.model = model
        self.subgraph = subgraph
    }

    mutating func convert() throws -> Graph {
        for index in subgraph.inputs {
            let tensor = try tensorInfo(index)
            guard tensor.type == .float32 else {
                throw error(.unsupported, "input \(tensor.name) is \(tensor.type); only float32 inputs are supported")
            }
            let signature = tensor.shapeSignature ?? tensor.shape
            let shape: [Int?] = zip(tensor.shape, signature).map { $1 < 0 ? nil : Int($0) }
            values[index] = builder.input(tensor.name, shape: shape)
        }
        for (i, op) in subgraph.operators.enumerated() {
            let code = model.operatorCode(of: op)
            current = "operator \(i) (\(code.builtin == .custom ? code.customCode ?? "CUSTOM" : code.builtin.description))"
            try convert(op, code: code)
        }
        var outputs: [String: Value] = [:]
        for index in subgraph.outputs {
            let tensor = try tensorInfo(index)
            guard let value = values[index] else {
                throw error(.invalidModel, "output \(tensor.name) is never produced")
            }
            outputs[tensor.name] = value
        }
        do {
            return try builder.build(outputs: outputs)
        } catch {
            throw ModelImportError(
                file: model.fileName, format: .tflite, kind: .invalidModel, message: "graph is invalid: \(error)")
        }
    }

    // MARK: Operators

    mutating func convert(_ op: TFLiteOperator, code: TFLiteOperatorCode) throws {
        switch code.builtin {
        case .dequantize, .densify:
            // Both only change how a constant is stored (fp16 → float32, sparse → dense); the
            // typed readers already widen and expand, so the output is the input's values.
            let source = try input(op, 0, constant: true)
            guard let tensor = constants[source] else { throw error(.unsupported, "\(code.builtin) of a non-constant tensor") }
            try define(op.outputs, 0, constant: tensor)
        case .depthToSpace:
            guard case let .depthToSpace(blockSize) = op.options else { throw missingOptions() }
            guard blockSize >= 1 else { throw error(.invalidModel, "block size \(blockSize)") }
            // TFLite's NHWC DEPTH_TO_SPACE is the engine's (DCR order).
            try emit(.depthToSpace(blockSize: Int(blockSize)), inputs: [try value(op, 0)], op)
        case .conv2D:
            guard case let .conv2D(o) = op.options else { throw missingOptions() }
            let weights = try constantInput(op, 1)
            let bias = try optionalBias(op, 2)
            let p = Conv2DParameters(
                strideHeight: Int(o.strideHeight), strideWidth: Int(o.strideWidth),
                dilationHeight: Int(o.dilationHeight), dilationWidth: Int(o.dilationWidth),
                groups: 1, padding: padding(o.padding), activation: try activation(o.activation))
            try emit(.conv2d(p), inputs: [try value(op, 0), constantValue(weights)] + bias, op)
        case .depthwiseConv2D:
            guard case let .depthwiseConv2D(o) = op.options else { throw missingOptions() }
            let raw = try constantInput(op, 1)
            guard raw.shape.count == 4, raw.shape[0] == 1 else {
                throw error(.invalidModel, "depthwise weights must be [1, kh, kw, C·multiplier], got \(raw.shape)")
            }
            let inputChannels = try channels(of: op.inputs[0])
            let p = Conv2DParameters(
                strideHeight: Int(o.strideHeight), strideWidth: Int(o.strideWidth),
                dilationHeight: Int(o.dilationHeight), dilationWidth: Int(o.dilationWidth),
                groups: inputChannels, padding: padding(o.padding), activation: try activation(o.activation))
            let bias = try optionalBias(op, 2)
            try emit(.conv2d(p), inputs: [try value(op, 0), constantValue(raw.depthwiseWeightsFromTFLite())] + bias, op)
        case .transposeConv:
            guard case let .transposeConv(o) = op.options else { throw missingOptions() }
            // Inputs: output_shape, weights [O, kh, kw, I], input, (bias).
            let weights = try constantInput(op, 1)
            let bias = op.inputs.count > 3 ? try optionalBias(op, 3) : []
            let p = try transposedParameters(
                input: op.inputs[2], output: op.outputs[0], weights: weights,
                strideHeight: Int(o.strideHeight), strideWidth: Int(o.strideWidth),
                same: o.padding == .same, activation: try activation(o.activation))
            try emit(.transposedConv2d(p), inputs: [try value(op, 2), constantValue(weights)] + bias, op)
        case .custom where model.operatorCode(of: op).customCode == "Convolution2DTransposeBias":
            // MediaPipe's op: inputs (input, weights [O, kh, kw, I], bias); options are a raw
            // C struct of three little-endian int32: padding (1 SAME, 2 VALID), stride w, stride h.
            guard let raw = op.customOptions, raw.count >= 12 else {
                throw error(.invalidModel, "Convolution2DTransposeBias needs 12 bytes of options")
            }
            func int32(_ at: Int) -> Int {
                Int(Int32(bitPattern: UInt32(raw[at]) | UInt32(raw[at + 1]) << 8 | UInt32(raw[at + 2]) << 16 | UInt32(raw[at + 3]) << 24))
            }
            let paddingCode = int32(0), strideWidth = int32(4), strideHeight = int32(8)
            guard paddingCode == 1 || paddingCode == 2, strideWidth > 0, strideHeight > 0 else {
                throw error(.invalidModel, "Convolution2DTransposeBias options padding \(paddingCode), strides \(strideWidth)×\(strideHeight)")
            }
            let weights = try constantInput(op, 1)
            let bias = try optionalBias(op, 2)
            let p = try transposedParameters(
                input: op.inputs[0], output: op.outputs[0], weights: weights,
                strideHeight: strideHeight, strideWidth: strideWidth, same: paddingCode == 1, activation: .identity)
            try emit(.transposedConv2d(p), inputs: [try value(op, 0), constantValue(weights)] + bias, op)
        case .averagePool2D, .maxPool2D:
            guard case let .pool2D(o) = op.options else { throw missingOptions() }
            let p = PoolParameters(
                kind: code.builtin == .maxPool2D ? .max : .average,
                kernelHeight: Int(o.filterHeight), kernelWidth: Int(o.filterWidth),
                strideHeight: Int(o.strideHeight), strideWidth: Int(o.strideWidth),
                padding: padding(o.padding), countIncludesPadding: false)
            try emitWithActivation(.pool(p), inputs: [try value(op, 0)], activation: try activation(o.activation), op)
        case .mean:
            guard case let .reducer(keepDims) = op.options else { throw missingOptions() }
            let axes = try int32Constant(op, 1).map(Int.init)
            try emit(.reduce(ReduceParameters(kind: .mean, axes: axes, keepDimensions: keepDims)), inputs: [try value(op, 0)], op)
        case .add, .sub, .mul, .div:
            let (binary, fused): (BinaryOperator, TFLiteActivation)
            switch op.options {
            case let .add(a): (binary, fused) = (.add, a)
            case let .sub(a): (binary, fused) = (.subtract, a)
            case let .mul(a): (binary, fused) = (.multiply, a)
            case let .div(a): (binary, fused) = (.divide, a)
            default: (binary, fused) = ([.add: .add, .sub: .subtract, .mul: .multiply][code.builtin] ?? .divide, .none)
            }
            try emit(.binary(binary, activation: try activation(fused)), inputs: [try value(op, 0), try value(op, 1)], op)
        case .concatenation:
            guard case let .concatenation(axis, fused) = op.options else { throw missingOptions() }
            let rank = try tensorInfo(op.outputs[0]).shape.count
            let inputs = try (0..<op.inputs.count).map { try value(op, $0) }
            try emitWithActivation(.concat(axis: axis < 0 ? Int(axis) + rank : Int(axis)), inputs: inputs,
                                   activation: try activation(fused), op)
        case .resizeBilinear:
            let options: TFLiteResizeBilinearOptions
            if case let .resizeBilinear(o) = op.options { options = o } else {
                options = TFLiteResizeBilinearOptions(alignCorners: false, halfPixelCenters: false)
            }
            let size = try int32Constant(op, 1)
            guard size.count == 2 else { throw error(.invalidModel, "RESIZE_BILINEAR size must have 2 values") }
            let transform: CoordinateTransform = options.alignCorners ? .alignCorners : (options.halfPixelCenters ? .halfPixel : .asymmetric)
            let p = ResizeParameters(mode: .bilinear, coordinateTransform: transform,
                                     target: .size(height: Int(size[0]), width: Int(size[1])))
            try emit(.resize(p), inputs: [try value(op, 0)], op)
        case .pad:
            let paddings = try int32Constant(op, 1)
            guard paddings.count % 2 == 0 else { throw error(.invalidModel, "PAD paddings must be [rank, 2]") }
            let before = stride(from: 0, to: paddings.count, by: 2).map { Int(paddings[$0]) }
            let after = stride(from: 1, to: paddings.count, by: 2).map { Int(paddings[$0]) }
            try emit(.pad(before: before, after: after, mode: .constant(0)), inputs: [try value(op, 0)], op)
        case .reshape:
            var shape: [Int]? = nil
            if case let .reshape(newShape?) = op.options, !newShape.isEmpty { shape = newShape.map(Int.init) }
            if shape == nil, op.inputs.count > 1, op.inputs[1] >= 0 { shape = try int32Constant(op, 1).map(Int.init) }
            if shape == nil { shape = try tensorInfo(op.outputs[0]).shape.map(Int.init) }
            try emit(.reshape(shape: shape), inputs: [try value(op, 0)], op)
        case .softmax:
            var beta: Float = 1
            if case let .softmax(b) = op.options { beta = b }
            var x = try value(op, 0)
            if beta != 1 {
                let scale = builder.constant([beta], shape: [1])
                x = builder.add(.binary(.multiply, activation: .identity), inputs: [x, scale])[0]
            }
            let rank = try tensorInfo(op.inputs[0]).shape.count
            try emit(.softmax(axis: rank - 1), inputs: [x], op)
        case .relu: try emit(.activation(.relu), inputs: [try value(op, 0)], op)
        case .relu6: try emit(.activation(.relu6), inputs: [try value(op, 0)], op)
        case .logistic: try emit(.activation(.sigmoid), inputs: [try value(op, 0)], op)
        case .tanh: try emit(.activation(.tanh), inputs: [try value(op, 0)], op)
        case .hardSwish: try emit(.activation(.hardSwish), inputs: [try value(op, 0)], op)
        default:
            throw error(.unsupported, "is not supported; supported operators: \(TFLiteModel.supportedOperatorNames.joined(separator: ", "))")
        }
    }

    /// Transposed-convolution parameters whose output is exactly the model's declared output
    /// size, padded the way TFLite (and MediaPipe's kernel) pad: the crop before is
    /// `⌊total / 2⌋` where `total = (in − 1)·stride + k − out`.
    func transposedParameters(
        input: Int, output: Int, weights: Tensor, strideHeight: Int, strideWidth: Int, same: Bool, activation: Activation
    ) throws -> TransposedConv2DParameters {
        let inShape = try tensorInfo(input).shape.map(Int.init), outShape = try tensorInfo(output).shape.map(Int.init)
        guard inShape.count == 4, outShape.count == 4, weights.shape.count == 4 else {
            throw error(.invalidModel, "transposed convolution needs 4-D input, output and weights")
        }
        let kh = weights.shape[1], kw = weights.shape[2]
        func crop(_ inSize: Int, _ outSize: Int, _ stride: Int, _ k: Int) -> (before: Int, after: Int, extra: Int) {
            let natural = (inSize - 1) * stride + k
            let target = same ? outSize : max(outSize, natural)
            let total = natural - target
            if total < 0 { return (0, 0, -total) }
            return (total / 2, total - total / 2, 0)
        }
        let h = crop(inShape[1], outShape[1], strideHeight, kh), w = crop(inShape[2], outShape[2], strideWidth, kw)
        return TransposedConv2DParameters(
            strideHeight: strideHeight, strideWidth: strideWidth,
            padding: .explicit(top: h.before, left: w.before, bottom: h.after, right: w.after),
            outputPaddingHeight: h.extra, outputPaddingWidth: w.extra, activation: activation)
    }

    // MARK: Helpers

    func tensorInfo(_ index: Int) throws -> TFLiteTensor {
        guard index >= 0, index < subgraph.tensors.count else {
            throw error(.outOfBounds, "refers to tensor \(index) but the subgraph has \(subgraph.tensors.count)")
        }
        return subgraph.tensors[index]
    }

    /// The tensor index of input `i`, loading it as a constant first if it has data.
    mutating func input(_ op: TFLiteOperator, _ i: Int, constant: Bool = false) throws -> Int {
        guard i < op.inputs.count, op.inputs[i] >= 0 else { throw error(.invalidModel, "input \(i) is missing") }
        let index = op.inputs[i]
        if constants[index] == nil, values[index] == nil { try loadConstant(index) }
        return index
    }

    /// Input `i` as an engine value (a graph constant if its data is in the file).
    mutating func value(_ op: TFLiteOperator, _ i: Int) throws -> Value {
        let index = try input(op, i)
        if let v = values[index] { return v }
        if let c = constants[index] {
            let v = builder.constant(c)
            values[index] = v
            return v
        }
        throw error(.invalidModel, "reads tensor \(index) (\(subgraph.tensors[index].name)) before it is produced")
    }

    mutating func constantInput(_ op: TFLiteOperator, _ i: Int) throws -> Tensor {
        let index = try input(op, i)
        guard let tensor = constants[index] else {
            throw error(.unsupported, "needs constant weights in input \(i) (tensor \(subgraph.tensors[index].name))")
        }
        return tensor
    }

    mutating func optionalBias(_ op: TFLiteOperator, _ i: Int) throws -> [Value] {
        guard i < op.inputs.count, op.inputs[i] >= 0 else { return [] }
        let bias = try constantInput(op, i)
        return [builder.constant(bias.reshaped([bias.count]))]
    }

    mutating func int32Constant(_ op: TFLiteOperator, _ i: Int) throws -> [Int32] {
        let index = try input(op, i)
        let tensor = try tensorInfo(index)
        guard tensor.type == .int32 else { throw error(.unsupported, "input \(i) must be an int32 constant") }
        do { return try model.int32Values(of: tensor) } catch {
            throw self.error(.invalidModel, "input \(i) must be an int32 constant: \(error)")
        }
    }

    mutating func constantValue(_ tensor: Tensor) -> Value { builder.constant(tensor) }

    mutating func loadConstant(_ index: Int) throws {
        let tensor = try tensorInfo(index)
        guard model.constantBytes(of: tensor) != nil else { return }
        let shape = tensor.shape.map(Int.init)
        do {
            switch tensor.type {
            case .float32: constants[index] = Tensor(shape: shape, floats: try model.float32Values(of: tensor))
            case .float16: constants[index] = Tensor(shape: shape, float16Bits: try model.float16Bits(of: tensor))
            case .int32: constants[index] = Tensor(shape: shape, int64s: try model.int32Values(of: tensor).map(Int64.init))
            default: break  // read where needed (int32 shapes) or rejected by the op
            }
        } catch let e as ModelImportError {
            throw e
        } catch {
            throw self.error(.invalidModel, "tensor \(tensor.name): \(error)")
        }
    }

    mutating func define(_ outputs: [Int], _ i: Int, constant tensor: Tensor) throws {
        guard i < outputs.count, outputs[i] >= 0 else { throw error(.invalidModel, "output \(i) is missing") }
        constants[outputs[i]] = tensor
    }

    mutating func emit(_ operation: Operation, inputs: [Value], _ op: TFLiteOperator) throws {
        guard let out = op.outputs.first, out >= 0 else { throw error(.invalidModel, "has no output") }
        let name = try tensorInfo(out).name
        let produced = builder.add(operation, inputs: inputs, name: name.isEmpty ? nil : name)
        values[out] = produced[0]
    }

    mutating func emitWithActivation(_ operation: Operation, inputs: [Value], activation: Activation, _ op: TFLiteOperator) throws {
        if activation == .identity { return try emit(operation, inputs: inputs, op) }
        let x = builder.add(operation, inputs: inputs)[0]
        try emit(.activation(activation), inputs: [x], op)
    }

    func channels(of index: Int) throws -> Int {
        let shape = try tensorInfo(index).shape
        guard shape.count == 4, shape[3] > 0 else { throw error(.invalidModel, "expects a 4-D NHWC input, got \(shape)") }
        return Int(shape[3])
    }

    func padding(_ p: TFLitePadding) -> Padding { p == .same ? .same : .valid }

    func activation(_ a: TFLiteActivation) throws -> Activation {
        switch a {
        case .none: return .identity
        case .relu: return .relu
        case .relu6: return .relu6
        case .reluN1To1: return .clip(min: -1, max: 1)
        case .tanh: return .tanh
        case .signBit: throw error(.unsupported, "fused activation SIGN_BIT is not supported")
        }
    }

    func missingOptions() -> ModelImportError { error(.invalidModel, "has missing or mismatched options") }

    func error(_ kind: ModelImportError.Kind, _ message: String) -> ModelImportError {
        ModelImportError(file: model.fileName, format: .tflite, kind: kind, message: "\(current) \(message)")
    }
}
