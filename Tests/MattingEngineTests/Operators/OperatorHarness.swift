import MattingEngine
import MattingTestSupport
import Testing

/// Tolerance for engine vs reference: max relative error `|a − b| / max(1, |b|)` ≤ 1e-4.
/// The reference accumulates in double; the engine in float32 over up to a few hundred
/// terms (convolutions, pools), whose rounding stays around 1e-6…1e-5, so 1e-4 leaves room
/// for summation order while catching any indexing or formula error (those are ≥ 1e-2).
let tolerance = 1e-4

/// One input of a single-operator test graph.
enum CaseInput: Sendable {
    /// A graph input filled with seeded random values in `range`.
    case random([Int], range: ClosedRange<Float> = -1...1)
    /// Random constant (weights).
    case randomConstant([Int])
    /// A fixed constant.
    case constant(Tensor)
}

/// A single-operator test: the operation, its inputs, and a name that says which shape failed.
struct OperatorCase: Sendable, CustomStringConvertible {
    let name: String
    let operation: MattingEngine.Operation
    let inputs: [CaseInput]
    var description: String { name }
    init(_ name: String, _ operation: MattingEngine.Operation, _ inputs: [CaseInput]) {
        self.name = name; self.operation = operation; self.inputs = inputs
    }
}

/// Builds a one-node graph, runs it with 1 and 2 threads, and compares with the reference.
func check(_ c: OperatorCase, seed: UInt64 = 42) throws {
    var rng = SeededGenerator(seed: seed)
    var b = GraphBuilder()
    var feeds: [String: Tensor] = [:]
    var values: [Value] = []
    for (i, input) in c.inputs.enumerated() {
        switch input {
        case let .random(shape, range):
            let t = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *), in: range))
            values.append(b.input("in\(i)", shape: shape))
            feeds["in\(i)"] = t
        case let .randomConstant(shape):
            values.append(b.constant(rng.floats(shape.reduce(1, *)), shape: shape))
        case let .constant(t):
            values.append(b.constant(t))
        }
    }
    let outs = b.add(c.operation, inputs: values, name: "op")
    let graph = try b.build(outputs: Dictionary(uniqueKeysWithValues: outs.enumerated().map { ("out\($0.offset)", $0.element) }))
    let expected = try ReferenceEvaluator().evaluate(graph, inputs: feeds)
    let one = try graph.compile(threads: 1).makeSession().run(feeds)
    let two = try graph.compile(threads: 2).makeSession().run(feeds)
    for (name, want) in expected {
        let got = try #require(one[name], "\(c) seed \(seed): missing \(name)")
        #expect(got.shape == want.shape, "\(c) seed \(seed): \(name) shape \(got.shape) != \(want.shape)")
        let err = maxRelativeError(got, want)
        #expect(err <= tolerance, "\(c) seed \(seed): \(name) max relative error \(err)")
        #expect(two[name] == got, "\(c) seed \(seed): \(name) differs between 1 and 2 threads")
    }
}
