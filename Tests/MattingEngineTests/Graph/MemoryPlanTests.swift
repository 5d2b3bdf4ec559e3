import MattingEngine
import MattingTestSupport
import Testing

@Suite("Memory planner")
struct MemoryPlanTests {
    static let bufferBytes = 16 * 16 * 4 * 4  // one [1, 16, 16, 4] float32 tensor

    func chain(length: Int) throws -> Graph {
        var rng = SeededGenerator(seed: 1)
        var b = GraphBuilder()
        var x = b.input("x", shape: [1, 16, 16, 4])
        for _ in 0..<length {
            x = b.conv2d(x, weights: Tensor(shape: [4, 3, 3, 4], floats: rng.floats(144, in: -0.3...0.3)), padding: .same)
        }
        return try b.build(outputs: ["y": x])
    }

    @Test("a chain of convolutions needs exactly two buffers", arguments: [2, 3, 6, 11])
    func chainPeak(length: Int) throws {
        let s = try chain(length: length).compile().statistics
        #expect(s.plannedBytes == 2 * Self.bufferBytes, "chain \(length): planned \(s.plannedBytes)")
        #expect(s.naiveBytes == (length + 1) * Self.bufferBytes)
    }

    @Test("element-wise chains run in place, views share buffers")
    func inPlace() throws {
        var b = GraphBuilder()
        var x = b.input("x", shape: [1, 16, 16, 4])
        x = b.unary(x, .exp)
        x = b.reshape(x, [16, 64])
        x = b.unary(x, .negate)
        x = b.add(x, b.constant([Float](repeating: 1, count: 64), shape: [64]))
        x = b.activation(x, .relu6)  // fused into the add
        x = b.unsqueeze(x, axes: [0])
        let graph = try b.build(outputs: ["y": x])
        let compiled = try graph.compile()
        #expect(compiled.statistics.plannedBytes == Self.bufferBytes)
        var rng = SeededGenerator(seed: 2)
        let input = Tensor(shape: [1, 16, 16, 4], floats: rng.floats(1024))
        let got = try #require(try compiled.makeSession().run(["x": input])["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])["y"])
        #expect(maxRelativeError(got, want) <= tolerance)
    }

    @Test("a value read later is not overwritten in place")
    func noInPlaceWhenStillLive() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2, 8])
        let e = b.unary(x, .exp)
        let n = b.unary(e, .negate)  // e is read again below: must not be overwritten
        let y = b.add(n, e)
        let graph = try b.build(outputs: ["y": y, "e": e])
        var rng = SeededGenerator(seed: 9)
        let input = Tensor(shape: [2, 8], floats: rng.floats(16))
        let got = try graph.compile().makeSession().run(["x": input])
        let want = try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])
        for k in ["y", "e"] { #expect(maxRelativeError(got[k]!, want[k]!) <= tolerance, "\(k)") }
    }
}
