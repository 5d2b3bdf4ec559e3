/// A graph input: a name, element type and a shape whose `nil` dimensions are chosen at
/// compile time (e.g. `[1, nil, nil, 3]`).
public struct InputDeclaration: Sendable, Hashable {
    public var name: String
    public var dataType: DataType
    public var shape: [Int?]
    /// A graph input declaration.
    public init(name: String, dataType: DataType = .float32, shape: [Int?]) {
        self.name = name; self.dataType = dataType; self.shape = shape
    }
}

/// One operation applied to named values, producing named values.
public struct Node: Sendable, Hashable {
    /// Unique node name, used in error messages (defaults to its first output's name).
    public var name: String
    public var operation: Operation
    /// Value names read, in the order the operation defines.
    public var inputs: [String]
    /// Value names produced (one, except `split`).
    public var outputs: [String]
    /// A node; `outputs` must have one name per operation output.
    public init(name: String, operation: Operation, inputs: [String], outputs: [String]) {
        self.name = name; self.operation = operation; self.inputs = inputs; self.outputs = outputs
    }
}

/// A dataflow graph: inputs, constant tensors, nodes and named outputs.
///
/// Values are identified by name. Every value is defined exactly once: by an input, a
/// constant, or one node's output. Build one with ``GraphBuilder`` (or an importer), then
/// ``compile(inputShapes:threads:)`` it for concrete input sizes.
public struct Graph: Sendable {
    /// Graph inputs, in the order callers usually list them.
    public var inputs: [InputDeclaration]
    /// Constant tensors (weights, shape constants) by value name.
    public var constants: [String: Tensor]
    /// Nodes; any order (the compiler sorts them topologically).
    public var nodes: [Node]
    /// Output name → value name.
    public var outputs: [String: String]

    /// Creates a graph and checks its structure.
    /// - Throws: ``EngineError`` naming the first bad node (unknown or duplicate values, cycles,
    ///   wrong input counts, missing outputs).
    public init(
        inputs: [InputDeclaration], constants: [String: Tensor], nodes: [Node], outputs: [String: String]
    ) throws {
        self.inputs = inputs; self.constants = constants; self.nodes = nodes; self.outputs = outputs
        _ = try topologicalOrder()
    }

    /// Node indices in an order where every node follows the producers of its inputs.
    /// Also validates the structure.
    /// - Throws: ``EngineError/unknownValue(_:node:)``, ``EngineError/duplicateValue(_:node:)``,
    ///   ``EngineError/cycle(nodes:)``, ``EngineError/shapeMismatch(node:reason:)`` (input count),
    ///   ``EngineError/unknownOutput(_:)``.
    public func topologicalOrder() throws -> [Int] {
        var producer: [String: Int] = [:]  // -1: input or constant
        for input in inputs {
            if producer[input.name] != nil { throw EngineError.duplicateValue(input.name, node: "<input>") }
            producer[input.name] = -1
        }
        for name in constants.keys {
            if producer[name] != nil { throw EngineError.duplicateValue(name, node: "<constant>") }
            producer[name] = -1
        }
        for (i, node) in nodes.enumerated() {
            if node.outputs.count != node.operation.outputCount {
                throw EngineError.shapeMismatch(
                    node: node.name, reason: "expects \(node.operation.outputCount) outputs, has \(node.outputs.count)")
            }
            let arity = node.operation.inputArity
            if !arity.contains(node.inputs.count) {
                throw EngineError.shapeMismatch(
                    node: node.name, reason: "\(node.operation.kindName) takes \(arity) inputs, got \(node.inputs.count)")
            }
            for output in node.outputs {
                if producer[output] != nil { throw EngineError.duplicateValue(output, node: node.name) }
                producer[output] = i
            }
        }
        for node in nodes {
            for input in node.inputs where producer[input] == nil {
                throw EngineError.unknownValue(input, node: node.name)
            }
        }
        for value in outputs.values where producer[value] == nil { throw EngineError.unknownOutput(value) }

        // Kahn's algorithm; whatever is left over lies on (or behind) a cycle.
        var pending = nodes.map { node in node.inputs.filter { (producer[$0] ?? -1) >= 0 }.count }
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for input in node.inputs { if let p = producer[input], p >= 0 { consumers[p].append(i) } }
        }
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var head = 0
        while head < ready.count {
            let i = ready[head]; head += 1
            order.append(i)
            for c in consumers[i] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        if order.count != nodes.count {
            let done = Set(order)
            throw EngineError.cycle(nodes: nodes.indices.filter { !done.contains($0) }.map { nodes[$0].name })
        }
        return order
    }
}

extension Operation {
    /// Allowed numbers of inputs.
    var inputArity: ClosedRange<Int> {
        switch self {
        case .conv2d, .transposedConv2d, .matMul, .channelMix: 2...3
        case .batchNorm: 5...5
        case .binary, .prelu, .gather, .compare, .tile, .gatherElements: 2...2
        case .attention, .where: 3...3
        case .concat: 1...Int.max
        case let .reshape(shape): shape == nil ? 2...2 : 1...1
        case let .resize(p): p.target == .sizeFromInput || p.target == .scalesFromInput ? 2...2 : 1...1
        case .expand: 2...2
        case .instanceNorm, .layerNorm: 3...3
        case .splitNorm: 5...5
        case .range: 3...3
        default: 1...1
        }
    }
}

extension Graph: CustomStringConvertible {
    /// One line per input, constant (shape only) and node, then the outputs; for debugging
    /// importers.
    public var description: String {
        var lines: [String] = []
        for i in inputs {
            lines.append("input \(i.name): \(i.dataType)\(formatShape(i.shape))")
        }
        for (name, t) in constants.sorted(by: { $0.key < $1.key }) {
            lines.append("const \(name): \(t.dataType)\(t.shape)")
        }
        for n in nodes {
            lines.append("\(n.outputs.joined(separator: ", ")) = \(n.name): \(n.operation)(\(n.inputs.joined(separator: ", ")))")
        }
        for (name, value) in outputs.sorted(by: { $0.key < $1.key }) { lines.append("output \(name) = \(value)") }
        return lines.joined(separator: "\n")
    }
}
