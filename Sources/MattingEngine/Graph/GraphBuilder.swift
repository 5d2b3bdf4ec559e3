/// A reference to a value while building a graph (its name).
public struct Value: Sendable, Hashable, CustomStringConvertible {
    /// The value's name in the graph.
    public let name: String
    /// A reference to the value called `name`.
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

/// Builds a ``Graph`` in Swift, one operation at a time.
///
/// Methods never throw; ``build(outputs:)`` validates the whole graph and throws a typed
/// error naming the first bad node. Node and value names are generated (`conv2d_3`) unless
/// given with `name:`.
///
/// ```swift
/// var b = GraphBuilder()
/// let x = b.input("input", shape: [1, nil, nil, 3])
/// let y = b.conv2d(x, weights: w, bias: bias, stride: 2, padding: .same, activation: .relu)
/// let mask = b.sigmoid(y)
/// let graph = try b.build(outputs: ["mask": mask])
/// ```
public struct GraphBuilder: Sendable {
    private(set) var inputs: [InputDeclaration] = []
    private(set) var constants: [String: Tensor] = [:]
    private(set) var nodes: [Node] = []
    private var counters: [String: Int] = [:]

    /// An empty builder.
    public init() {}

    /// Declares a graph input; `nil` dimensions are given at compile time.
    public mutating func input(_ name: String, shape: [Int?], dataType: DataType = .float32) -> Value {
        inputs.append(InputDeclaration(name: name, dataType: dataType, shape: shape))
        return Value(name)
    }

    /// Adds a constant tensor.
    public mutating func constant(_ tensor: Tensor, name: String? = nil) -> Value {
        let n = name ?? uniqueName("const")
        constants[n] = tensor
        return Value(n)
    }

    /// Adds a constant `float32` tensor.
    public mutating func constant(_ floats: [Float], shape: [Int], name: String? = nil) -> Value {
        constant(Tensor(shape: shape, floats: floats), name: name)
    }

    /// Adds any node (the general form importers use); returns its outputs.
    @discardableResult
    /// Adds any node (the general form importers use) and returns its outputs (named `name`, or `name:i` for several).
    public mutating func add(_ operation: Operation, inputs: [Value], name: String? = nil) -> [Value] {
        let base = name ?? uniqueName(operation.kindName)
        let outputs = operation.outputCount == 1
            ? [base] : (0..<operation.outputCount).map { "\(base):\($0)" }
        nodes.append(Node(name: base, operation: operation, inputs: inputs.map(\.name), outputs: outputs))
        return outputs.map(Value.init)
    }

    /// Adds a single-output node and returns its output.
    public mutating func node(_ operation: Operation, _ inputs: Value..., name: String? = nil) -> Value {
        add(operation, inputs: inputs, name: name)[0]
    }

    /// Validates and returns the graph.
    ///
    /// `mutating` only so that nodes added while evaluating the argument
    /// (`b.build(outputs: ["y": b.relu(x)])`) are part of the graph; the builder is unchanged.
    /// - Parameter outputs: output name → value.
    /// - Throws: ``EngineError`` naming the first bad node.
    public mutating func build(outputs: [String: Value]) throws -> Graph {
        try Graph(inputs: inputs, constants: constants, nodes: nodes, outputs: outputs.mapValues(\.name))
    }

    private mutating func uniqueName(_ base: String) -> String {
        let n = counters[base, default: 0]
        counters[base] = n + 1
        return "\(base)_\(n)"
    }
}
