import Dispatch
import MattingEngine
import MattingTestSupport
import Testing

@Suite("Small UNet end to end")
struct UNetTests {
    static let sizes: [[Int]] = [[1, 32, 32, 3], [1, 24, 40, 3]]

    @Test("matches the reference and is bit-identical on 1 and 2 threads", arguments: sizes)
    func matchesReference(shape: [Int]) throws {
        let seed: UInt64 = 11
        let graph = try SmallUNet.make()
        var rng = SeededGenerator(seed: seed)
        let input = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *), in: 0...1))
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["input": input])["mask"])
        let one = try graph.compile(inputShapes: ["input": shape], threads: 1)
        let two = try graph.compile(inputShapes: ["input": shape], threads: 2)
        let got1 = try #require(try one.makeSession().run(["input": input])["mask"])
        let got2 = try #require(try two.makeSession().run(["input": input])["mask"])
        #expect(got1.shape == [1, shape[1], shape[2], 1])
        let err = maxRelativeError(got1, want)
        #expect(err <= tolerance, "seed \(seed) shape \(shape): max relative error \(err)")
        #expect(got1 == got2, "seed \(seed) shape \(shape): 1 and 2 threads differ")

        let s = one.statistics
        #expect(s.plannedBytes < s.naiveBytes, "planned \(s.plannedBytes) vs naive \(s.naiveBytes)")
        #expect(s.operatorCounts["batchNorm"] == nil, "batch norm was not folded: \(s.operatorCounts)")
        #expect(s.operatorCounts["hardSwish"] == nil && s.operatorCounts["relu"] == nil,
                "activations were not fused: \(s.operatorCounts)")
        #expect(s.fusedNodeCount == 5)  // batch norm, hard-swish ×2, relu into add, sigmoid into the head
        print("UNet \(shape): planned \(s.plannedBytes) bytes vs naive \(s.naiveBytes); flops \(s.flops)")
        print(one.summary)
        #expect(one.stepInfos.map(\.flops).reduce(0, +) == s.flops)
        #expect(one.stepInfos.last?.outputShapes == [[1, shape[1], shape[2], 1]])
    }

    @Test("sessions of one compiled graph run concurrently with equal results")
    func concurrentSessions() throws {
        let compiled = try SmallUNet.make().compile(inputShapes: ["input": [1, 16, 16, 3]], threads: 1)
        var rng = SeededGenerator(seed: 3)
        let input = Tensor(shape: [1, 16, 16, 3], floats: rng.floats(768, in: 0...1))
        let expected = try compiled.makeSession().run(["input": input])["mask"]
        nonisolated(unsafe) var results = [Tensor?](repeating: nil, count: 4)
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                slots[i] = try? compiled.makeSession().run(["input": input])["mask"]
            }
        }
        for r in results { #expect(r == expected) }
    }

    @Test("single-tensor run and graph description")
    func convenience() throws {
        let graph = try SmallUNet.make()
        #expect(graph.description.contains("input input: float32[1, ?, ?, 3]"))
        #expect(graph.description.contains("output mask = "))
        let session = try graph.compile(inputShapes: ["input": [1, 8, 8, 3]]).makeSession()
        let mask = try session.run(Tensor(zeros: [1, 8, 8, 3]))
        #expect(mask.shape == [1, 8, 8, 1])
        #expect(mask.floats.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("repeated runs give the same output and reuse caller tensors")
    func steadyState() throws {
        let compiled = try SmallUNet.make().compile(inputShapes: ["input": [1, 16, 16, 3]])
        let session = compiled.makeSession()
        var rng = SeededGenerator(seed: 5)
        let input = Tensor(shape: [1, 16, 16, 3], floats: rng.floats(768, in: 0...1))
        var outputs: [String: Tensor] = [:]
        try session.run(["input": input], outputs: &outputs)
        let first = try #require(outputs["mask"])
        let address = first.withUnsafeBytes { $0.baseAddress }
        try session.run(["input": input], outputs: &outputs)
        let second = try #require(outputs["mask"])
        #expect(first == second)
        // `first` still shares the storage, so the session must not have written into it…
        #expect(second.withUnsafeBytes { $0.baseAddress } != address)
        // …but once the caller holds only the dictionary's copy, it is reused.
        let reusedAddress = second.withUnsafeBytes { $0.baseAddress }
        _ = consume first
        _ = consume second
        try session.run(["input": input], outputs: &outputs)
        #expect(outputs["mask"]?.withUnsafeBytes { $0.baseAddress } == reusedAddress)
    }
}
