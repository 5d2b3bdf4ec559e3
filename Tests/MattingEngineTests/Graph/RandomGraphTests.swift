import MattingEngine
import MattingTestSupport
import Testing

/// Random DAGs of shape-preserving operators (element-wise chains that run in place, views,
/// convolutions, concat/split, skips to random earlier values, several outputs) stress the
/// planner's liveness, in-place and aliasing decisions and the fusion passes.
@Suite("Random graphs vs reference")
struct RandomGraphTests {
    static let shape = [1, 6, 5, 4]

    static func makeGraph(seed: UInt64) throws -> Graph {
        var rng = SeededGenerator(seed: seed)
        var b = GraphBuilder()
        var values = [b.input("x", shape: shape.map { $0 })]
        func pick() -> Value { values[Int.random(in: max(0, values.count - 4)..<values.count, using: &rng)] }
        func anyValue() -> Value { values[Int.random(in: 0..<values.count, using: &rng)] }
        for _ in 0..<Int.random(in: 6...16, using: &rng) {
            let x = pick()
            let y: Value
            switch Int.random(in: 0..<9, using: &rng) {
            case 0: y = b.activation(x, [.relu, .tanh, .sigmoid, .hardSwish, .relu6][Int.random(in: 0..<5, using: &rng)])
            case 1: y = b.unary(x, [.negate, .abs][Int.random(in: 0..<2, using: &rng)])
            case 2: y = b.binary([.add, .subtract, .multiply, .maximum][Int.random(in: 0..<4, using: &rng)], x, anyValue())
            case 3: y = b.reshape(b.reshape(x, [30, 4]), shape)
            case 4: y = b.conv2d(x, weights: Tensor(shape: [4, 3, 3, 4], floats: rng.floats(144, in: -0.3...0.3)),
                                 bias: rng.floats(4), padding: .same)
            case 5:
                let parts = b.split(b.concat([x, anyValue()], axis: 3), axis: 3, sizes: [4, 4])
                y = parts[Int.random(in: 0..<2, using: &rng)]
            case 6: y = b.batchNorm(x, scale: rng.floats(4, in: 0.5...1.5), offset: rng.floats(4), mean: rng.floats(4),
                                    variance: rng.floats(4, in: 0.5...2))
            case 7: y = b.add(x, b.constant(rng.floats(4), shape: [4]), activation: .relu)
            default: y = b.multiply(x, b.constant(rng.floats(1), shape: []))
            }
            values.append(y)
        }
        var outputs = ["last": values[values.count - 1]]
        for i in 0..<Int.random(in: 0...2, using: &rng) { outputs["extra\(i)"] = anyValue() }
        return try b.build(outputs: outputs)
    }

    @Test("random DAG matches the reference", arguments: 1...40)
    func randomGraph(seed: Int) throws {
        let graph = try Self.makeGraph(seed: UInt64(seed))
        var rng = SeededGenerator(seed: UInt64(seed) &+ 1000)
        let input = Tensor(shape: Self.shape, floats: rng.floats(120))
        let want = try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])
        let one = try graph.compile(threads: 1)
        let got1 = try one.makeSession().run(["x": input])
        let got2 = try graph.compile(threads: 2).makeSession().run(["x": input])
        for (name, w) in want {
            let g = try #require(got1[name], "seed \(seed): missing \(name)")
            let err = maxRelativeError(g, w)
            #expect(err <= tolerance, "seed \(seed): \(name) error \(err)\n\(graph)")
            #expect(got2[name] == g, "seed \(seed): \(name) differs between 1 and 2 threads")
        }
        #expect(one.statistics.plannedBytes <= one.statistics.naiveBytes, "seed \(seed)")
    }
}
