/// Errors from building, compiling or running a graph. Every case names the node or value.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A node reads a value nobody defines.
    case unknownValue(String, node: String)
    /// Two definitions (inputs, constants or node outputs) share a name.
    case duplicateValue(String, node: String)
    /// The nodes listed depend on each other in a cycle.
    case cycle(nodes: [String])
    /// A node's inputs have the wrong number, rank or sizes.
    case shapeMismatch(node: String, reason: String)
    /// A node's input has the wrong element type.
    case dataTypeMismatch(node: String, value: String, expected: DataType, actual: DataType)
    /// A node's parameters are outside what the engine supports.
    case unsupported(node: String, reason: String)
    /// A node needs an input to be known at compile time (weights, reshape shapes).
    case notConstant(node: String, value: String)
    /// A graph input was not given (compile shapes or run tensors).
    case missingInput(String)
    /// A name given to compile or run is not a graph input.
    case unknownInput(String)
    /// An input's shape disagrees with its declaration or the compiled shape.
    case inputShapeMismatch(input: String, expected: [Int?], actual: [Int])
    /// An output name refers to no value.
    case unknownOutput(String)

    public var description: String {
        switch self {
        case let .unknownValue(v, node): "node '\(node)': unknown value '\(v)'"
        case let .duplicateValue(v, node): "node '\(node)': value '\(v)' is defined twice"
        case let .cycle(nodes): "cycle through nodes \(nodes.joined(separator: ", "))"
        case let .shapeMismatch(node, reason): "node '\(node)': \(reason)"
        case let .dataTypeMismatch(node, value, expected, actual):
            "node '\(node)': value '\(value)' is \(actual), expected \(expected)"
        case let .unsupported(node, reason): "node '\(node)': unsupported: \(reason)"
        case let .notConstant(node, value): "node '\(node)': input '\(value)' must be constant"
        case let .missingInput(name): "missing input '\(name)'"
        case let .unknownInput(name): "'\(name)' is not a graph input"
        case let .inputShapeMismatch(input, expected, actual):
            "input '\(input)': shape \(actual) does not match \(formatShape(expected))"
        case let .unknownOutput(name): "unknown output value '\(name)'"
        }
    }
}

/// `[1, ?, ?, 3]` for a shape with unknown dimensions.
func formatShape(_ shape: [Int?]) -> String {
    "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
}
