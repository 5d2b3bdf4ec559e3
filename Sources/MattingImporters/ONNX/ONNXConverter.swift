import MattingEngine

extension ONNXModel {
    /// Converts the model's main graph to the engine's graph IR.
    ///
    /// The graph's declared inputs and outputs keep the model's own layout (NCHW for images),
    /// so callers feed the same tensors they would give onnxruntime. Inside, spatial operators
    /// run on NHWC: the converter inserts a transpose after each 4-D input that reaches one, and
    /// before each 4-D output held in NHWC, and remaps the axes of concat, split, slice, pad,
    /// softmax and reductions instead of transposing back. Symbolic input dimensions become
    /// `nil` in ``InputDeclaration/shape`` and are chosen at compile time; Shape/Gather/Cast/
    /// ConstantOfShape/Range chains are left to the compiler's constant folding.
    ///
    /// ```swift
    /// let graph = try ONNXModel(contentsOf: url).makeGraph()
    /// let compiled = try graph.compile(inputShapes: ["image": [1, 3, 320, 320]], threads: 2)
    /// ```
    ///
    /// - Throws: ``ModelImportError`` with kind `.unsupported` naming the operator, the node
    ///   and the supported operators for anything the engine cannot run exactly (an unknown
    ///   operator, cubic resize, `tf_crop_and_resize`, ...); `.invalidModel` for inconsistent
    ///   models. Never returns a graph that would silently compute something else.
    package func makeGraph() throws -> Graph {
        var converter = ONNXConverter(model: self)
        return try converter.convert()
    }

    /// The ONNX operators ``makeGraph()`` converts, sorted.
    package static var supportedOperators: [String] { ONNXConverter.handlers.keys.sorted() }
}

/// What the converter knows about one ONNX value.
struct TrackedValue {
    /// The engine value holding it.
    var value: Value
    /// `true` when the engine value holds the 4-D tensor in NHWC order (the ONNX value is NCHW).
    var nhwc: Bool
    /// The ONNX (not engine) shape as far as known: `nil` for an unknown rank, `nil` entries
    /// for sizes that depend on the input size.
    var dims: [Int?]?

    var rank: Int? { dims?.count }
}

/// Converts one `ONNXModel` into a `Graph`; one instance per conversion.
struct ONNXConverter {
    typealias Handler = @Sendable (inout ONNXConverter, ONNXNode) throws -> Void

    let model: ONNXModel
    let opset: Int
    var builder = GraphBuilder()
    /// ONNX value name → how it is held.
    var values: [String: TrackedValue] = [:]
    /// ONNX value name → its data, for initializers, `Constant` nodes and casts of them.
    var constants: [String: Tensor] = [:]
    /// Engine value names already emitted (constants are emitted lazily, on first use).
    var emitted: Set<String> = []
    /// Engine value name → the same data in the other layout, so each transpose exists once.
    var relayoutCache: [String: Value] = [:]
    /// Initializers of a data type the engine has no equivalent for: an error if used.
    var unsupportedInitializers: [String: ONNXDataType] = [:]
    /// The node being converted, for error messages.
    var current: ONNXNode?

    init(model: ONNXModel) {
        self.model = model
        self.opset = Int(model.defaultOpsetVersion ?? 13)
    }

    mutating func convert() throws -> Graph {
        let g = model.graph
        for t in g.initializers {
            if let tensor = try engineTensor(t) { constants[t.name] = tensor } else { unsupportedInitializers[t.name] = t.dataType }
        }
        for input in g.inputs where constants[input.name] == nil && unsupportedInitializers[input.name] == nil {
            guard let shape = input.shape else {
                throw invalid("graph input '\(input.name)' has no declared shape")
            }
            let dataType: DataType
            switch input.elementType {
            case .float, .none: dataType = .float32
            case .int64: dataType = .int64
            case let other?:
                throw ModelImportError(file: model.fileName, format: .onnx, kind: .unsupported,
                                       message: "graph input '\(input.name)' has element type \(other); only float and int64 inputs are supported")
            }
            let dims: [Int?] = shape.map { if case let .value(v) = $0, v >= 0 { return Int(v) } else { return nil } }
            let v = builder.input(input.name, shape: dims, dataType: dataType)
            emitted.insert(input.name)
            values[input.name] = TrackedValue(value: v, nhwc: false, dims: dims)
        }
        for node in g.nodes {
            current = node
            if node.outputs.isEmpty { throw invalid("the node has no outputs") }
            if !node.domain.isEmpty && node.domain != "ai.onnx" {
                throw unsupportedOperator(node, reason: "domain '\(node.domain)'")
            }
            guard let handler = Self.handlers[node.opType] else { throw unsupportedOperator(node, reason: nil) }
            try handler(&self, node)
        }
        current = nil
        var outputs: [String: Value] = [:]
        for output in g.outputs {
            guard values[output.name] != nil || constants[output.name] != nil else {
                throw invalid("graph output '\(output.name)' is produced by no node")
            }
            outputs[output.name] = try nchw(output.name)
        }
        do {
            return try builder.build(outputs: outputs)
        } catch {
            throw invalid("the converted graph is inconsistent: \(error)")
        }
    }

    // MARK: - Values

    /// The tracked value of an ONNX name, emitting a constant on first use.
    mutating func tracked(_ name: String) throws -> TrackedValue {
        if let t = values[name] { return t }
        if let c = constants[name] {
            let v = builder.constant(c, name: name)
            emitted.insert(name)
            let t = TrackedValue(value: v, nhwc: false, dims: c.shape.map { $0 })
            values[name] = t
            return t
        }
        if let type = unsupportedInitializers[name] {
            throw unsupported("initializer '\(name)' has data type \(type), which the engine does not support")
        }
        throw invalid("reads '\(name)', which no node, input or initializer defines")
    }

    /// What is known about a value without emitting it (constants are emitted on first use).
    func peek(_ name: String) throws -> TrackedValue {
        if let t = values[name] { return t }
        if let c = constants[name] { return TrackedValue(value: Value(name), nhwc: false, dims: c.shape.map { $0 }) }
        if let type = unsupportedInitializers[name] {
            throw unsupported("initializer '\(name)' has data type \(type), which the engine does not support")
        }
        throw invalid("reads '\(name)', which no node, input or initializer defines")
    }

    /// The value in the model's own (NCHW) layout.
    mutating func nchw(_ name: String) throws -> Value {
        let t = try tracked(name)
        guard t.nhwc else { return t.value }
        return relayout(t.value, [0, 3, 1, 2], suffix: "#nchw")
    }

    /// The value of a 4-D ONNX tensor in NHWC order (transposed once, then cached).
    mutating func nhwc(_ name: String) throws -> Value {
        let t = try peek(name)
        if t.nhwc { return t.value }
        guard t.rank == 4 else { throw unsupported("input '\(name)' must be 4-D (NCHW), has rank \(t.rank.map(String.init) ?? "unknown")") }
        // A constant is permuted once at load time (and its NCHW form never emitted).
        if values[name] == nil, let c = constants[name] { return emitConstant(c.nhwcFromNCHW(), name: "\(name)#nhwc") }
        return relayout(try tracked(name).value, [0, 2, 3, 1], suffix: "#nhwc")
    }

    private mutating func relayout(_ v: Value, _ permutation: [Int], suffix: String) -> Value {
        // Keyed by direction too: after a layout-only Transpose one engine value can stand for
        // two ONNX values held in different layouts.
        if let cached = relayoutCache[v.name + suffix] { return cached }
        let out = builder.add(.transpose(permutation: permutation), inputs: [v], name: v.name + suffix)[0]
        relayoutCache[v.name + suffix] = out
        relayoutCache[out.name + (suffix == "#nhwc" ? "#nchw" : "#nhwc")] = v
        return out
    }

    /// Emits a derived constant once under `name`.
    mutating func emitConstant(_ tensor: Tensor, name: String) -> Value {
        if emitted.contains(name) { return Value(name) }
        emitted.insert(name)
        return builder.constant(tensor, name: name)
    }

    /// Emits an engine node named after the ONNX node's first output.
    mutating func emit(_ operation: Operation, _ inputs: [Value], name: String? = nil) -> Value {
        builder.add(operation, inputs: inputs, name: name ?? engineName())[0]
    }

    /// A unique engine name derived from the current node's first output.
    func engineName(_ suffix: String = "") -> String {
        let base = current?.outputs.first ?? "node"
        return suffix.isEmpty ? base : "\(base)#\(suffix)"
    }

    /// Records the current node's output `index`.
    mutating func define(_ node: ONNXNode, _ index: Int = 0, _ value: Value, nhwc: Bool, dims: [Int?]?) {
        guard index < node.outputs.count, !node.outputs[index].isEmpty else { return }
        values[node.outputs[index]] = TrackedValue(value: value, nhwc: nhwc, dims: dims)
    }

    // MARK: - Node inputs and attributes

    /// The name of input `index`, or `nil` when absent (missing or the empty name).
    func input(_ node: ONNXNode, _ index: Int) -> String? {
        index < node.inputs.count && !node.inputs[index].isEmpty ? node.inputs[index] : nil
    }

    func requiredInput(_ node: ONNXNode, _ index: Int) throws -> String {
        guard let name = input(node, index) else { throw invalid("input \(index) is missing") }
        return name
    }

    /// The constant data of input `index`, or `nil` when absent or empty (a 0-element tensor
    /// stands for "absent" in opset-11 Resize); throws if present but computed at run time.
    func constantInput(_ node: ONNXNode, _ index: Int, _ what: String) throws -> Tensor? {
        guard let name = input(node, index) else { return nil }
        guard let c = constants[name] else {
            throw unsupported("\(what) (input \(index), '\(name)') must be a constant or initializer")
        }
        return c.count == 0 ? nil : c
    }

    func constantInts(_ node: ONNXNode, _ index: Int, _ what: String) throws -> [Int]? {
        guard let c = try constantInput(node, index, what) else { return nil }
        return try integers(c, what)
    }

    /// A constant's values as integers; float values must be finite whole-number-sized
    /// (file data: `Int(Float.nan)` would trap).
    func integers(_ c: Tensor, _ what: String) throws -> [Int] {
        if c.dataType == .int64 { return c.int64s.map { Int(clamping: $0) } }
        return try c.floats.map { v in
            guard v.isFinite, abs(v) < 0x1p62 else { throw invalid("\(what) holds \(v), not an integer") }
            return Int(v)
        }
    }

    func attrInts(_ node: ONNXNode, _ name: String) -> [Int]? {
        node.attribute(name)?.intsValue.map { $0.map { Int(clamping: $0) } }
    }

    func attrInt(_ node: ONNXNode, _ name: String, _ defaultValue: Int) -> Int {
        node.attribute(name)?.intValue.map { Int(clamping: $0) } ?? defaultValue
    }

    func attrFloat(_ node: ONNXNode, _ name: String, _ defaultValue: Float) -> Float {
        node.attribute(name)?.floatValue ?? defaultValue
    }

    func attrString(_ node: ONNXNode, _ name: String, _ defaultValue: String) -> String {
        node.attribute(name)?.stringValue ?? defaultValue
    }

    /// Fails if an output other than the first is consumed (e.g. MaxPool indices, Dropout mask).
    func requireOnlyFirstOutput(_ node: ONNXNode) throws {
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty && isConsumed($0) }) {
            throw unsupported("only the first output is supported (outputs \(node.outputs))")
        }
    }

    func isConsumed(_ name: String) -> Bool {
        model.graph.outputs.contains { $0.name == name } || model.graph.nodes.contains { $0.inputs.contains(name) }
    }

    // MARK: - Errors

    var nodeLabel: String {
        guard let node = current else { return "graph" }
        let name = node.name.isEmpty ? "producing '\(node.outputs.first ?? "?")'" : "'\(node.name)'"
        return "node \(name) (\(node.opType))"
    }

    func unsupported(_ message: String) -> ModelImportError {
        ModelImportError(file: model.fileName, format: .onnx, kind: .unsupported, message: "\(nodeLabel): \(message)")
    }

    func invalid(_ message: String) -> ModelImportError {
        ModelImportError(file: model.fileName, format: .onnx, kind: .invalidModel, message: "\(nodeLabel): \(message)")
    }

    func unsupportedOperator(_ node: ONNXNode, reason: String?) -> ModelImportError {
        let what = reason.map { "operator '\(node.opType)' from \($0)" } ?? "operator '\(node.opType)'"
        return ModelImportError(
            file: model.fileName, format: .onnx, kind: .unsupported,
            message: "\(what) (\(nodeLabel)) is not supported; supported operators: \(ONNXModel.supportedOperators.joined(separator: ", "))")
    }

    // MARK: - Tensors

    /// The engine tensor for an ONNX tensor: floats (fp16, double dequantised) as float32,
    /// integers as int64; `nil` for types without an engine equivalent.
    func engineTensor(_ t: ONNXTensor) throws -> Tensor? {
        let shape = t.dims.map { Int($0) }
        switch t.dataType {
        case .float: return Tensor(shape: shape, floats: try t.floatValues())
        case .float16: return Tensor(shape: shape, float16Bits: try t.float16Bits())
        case .double: return Tensor(shape: shape, floats: try t.doubleValues().map { Float($0) })
        case .int64: return Tensor(shape: shape, int64s: try t.int64Values())
        case .int32: return Tensor(shape: shape, int64s: try t.int32Values().map { Int64($0) })
        // Booleans (masks, Where conditions) are int64 0/1 in the engine, like its comparisons.
        case .bool, .uint8: return Tensor(shape: shape, int64s: t.rawBytes.map { Int64($0) })
        case .int8: return Tensor(shape: shape, int64s: t.rawBytes.map { Int64(Int8(bitPattern: $0)) })
        default: return nil
        }
    }

    /// The engine type an ONNX `Cast` target maps to.
    func engineType(_ raw: Int) throws -> DataType {
        switch ONNXDataType(rawValue: Int32(clamping: raw)) {
        case .float?, .float16?, .double?, .bfloat16?: return .float32
        case .int64?, .int32?, .int16?, .int8?, .uint8?, .uint16?, .uint32?, .uint64?: return .int64
        default: throw unsupported("cast to ONNX data type \(raw) (only float and integer types)")
        }
    }
}

/// NCHW axis → NHWC axis for 4-D tensors.
let nhwcAxis = [0, 3, 1, 2]
/// NHWC axis i holds NCHW axis `nchwOfNHWC[i]`.
let nchwOfNHWC = [0, 2, 3, 1]

/// Normalises a possibly negative axis for a rank.
func normalizedAxis(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }
