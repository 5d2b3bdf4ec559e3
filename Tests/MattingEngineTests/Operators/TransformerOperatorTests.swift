import MattingEngine
import MattingTestSupport
import Testing

/// Transformer-era operators against the double-precision reference (same tolerance as
/// every operator test, see `OperatorHarness.swift`), on 1 and 2 threads. Shapes straddle the
/// eight-wide vector loops (7, 8, 9, 17 columns) and broadcast batch dimensions both ways.
@Suite("Transformer operators vs reference")
struct TransformerOperatorTests {
    static func int64s(_ shape: [Int], _ values: [Int64]) -> CaseInput { .constant(Tensor(shape: shape, int64s: values)) }

    static let matrixProductCases: [OperatorCase] = [
        .init("b batch broadcast over a [2,1,3,4]·[5,4,7]", .matMul(activation: .identity), [.random([2, 1, 3, 4]), .random([5, 4, 7])]),
        .init("a shared by batched b [3,9]·[2,9,8]", .matMul(activation: .identity), [.random([3, 9]), .random([2, 9, 8])]),
        .init("run-time b shared [2,3,5]·[5,17] + bias", .matMul(activation: .relu),
              [.random([2, 3, 5]), .random([5, 17]), .randomConstant([17])]),
        .init("constant batched b [2,3,4]·[2,4,9]", .matMul(activation: .identity), [.random([2, 3, 4]), .randomConstant([2, 4, 9])]),
        .init("constant b with unit batch [4,6]·[1,6,8]", .matMul(activation: .identity), [.random([4, 6]), .randomConstant([1, 6, 8])]),
        .init("K = 1 [2,7,1]·[2,1,9]", .matMul(activation: .identity), [.random([2, 7, 1]), .random([2, 1, 9])]),
        .init("channelMix on [2,5,3,7] NCHW with bias", .channelMix(activation: .identity),
              [.random([2, 5, 3, 7]), .randomConstant([9, 5]), .randomConstant([9])]),
        .init("channelMix 3-D, fused relu6", .channelMix(activation: .relu6), [.random([1, 17, 40], range: -3...3), .randomConstant([4, 17])]),
        .init("constant b [K,N] through the GEMM, 65 rows", .matMul(activation: .identity), [.random([65, 33]), .randomConstant([33, 19])]),
        // The microkernel path for run-time b: windowed-attention shapes (many small batches,
        // scores and values), and K > kc, N > nc, M > mc with a bias and a post-pass activation.
        .init("windows [4,3,64,32]·[4,3,32,64]", .matMul(activation: .identity), [.random([4, 3, 64, 32]), .random([4, 3, 32, 64])]),
        .init("windows [4,3,64,64]·[4,3,64,32]", .matMul(activation: .identity), [.random([4, 3, 64, 64]), .random([4, 3, 64, 32])]),
        .init("run-time b [150,300]·[300,270] + bias, sigmoid", .matMul(activation: .sigmoid),
              [.random([150, 300]), .random([300, 270]), .randomConstant([270])]),
        .init("broadcast a over b [5,300]·[2,300,33], relu6", .matMul(activation: .relu6),
              [.random([5, 300], range: -2...2), .random([2, 300, 33])]),
    ]

    static let attentionCases: [OperatorCase] = [
        .init("keys [N,D], 2 heads, N=33", .attention(scale: 0.125, keyTransposed: false),
              [.random([2, 5, 16]), .random([2, 33, 16]), .random([2, 33, 9])]),
        .init("keys [D,N] (transposed), N=7", .attention(scale: 0.5, keyTransposed: true),
              [.random([1, 2, 4, 8]), .random([1, 2, 8, 7]), .random([1, 2, 7, 17])]),
        .init("one key", .attention(scale: 1, keyTransposed: false), [.random([3, 5]), .random([1, 5]), .random([1, 4])]),
        .init("value shared across heads, large logits", .attention(scale: 4, keyTransposed: false),
              [.random([3, 6, 9], range: -4...4), .random([3, 11, 9], range: -4...4), .random([11, 8])]),
        // Around the blocked kernel's tiles: 100 query rows (two score blocks of 48 on the 6×16
        // path, a partial microkernel tile), 70 keys (a partial 16- and 32-key panel), 33 value
        // columns (a partial value panel), depth 20; and many small batches (windowed attention).
        .init("100 rows × 70 keys, d=20, dv=33", .attention(scale: 0.2, keyTransposed: false),
              [.random([2, 100, 20]), .random([2, 70, 20]), .random([2, 70, 33])]),
        .init("100 rows × 70 keys transposed", .attention(scale: 0.2, keyTransposed: true),
              [.random([1, 100, 20]), .random([1, 20, 70]), .random([1, 70, 16])]),
        .init("24 windows of 16 tokens", .attention(scale: 0.35, keyTransposed: false),
              [.random([24, 16, 8]), .random([24, 16, 8]), .random([24, 16, 8])]),
    ]

    static let selectionCases: [OperatorCase] = [
        .init("where float condition broadcast", .where,
              [.constant(Tensor(shape: [3, 1], floats: [1, 0, 2])), .random([2, 3, 4]), .random([4])]),
        .init("where int64 condition", .where,
              [int64s([2, 2], [0, 1, 1, 0]), .random([2, 2]), .constant(Tensor(scalar: -9))]),
        .init("tile [2,3] by [3,2]", .tile, [.random([2, 3]), int64s([2], [3, 2])]),
        .init("tile [1,4,1,5] by [2,1,3,1]", .tile, [.random([1, 4, 1, 5]), int64s([4], [2, 1, 3, 1])]),
        .init("tile by zero", .tile, [.random([2, 3]), int64s([2], [0, 2])]),
        .init("gatherElements axis 1 (negative indices)", .gatherElements(axis: 1),
              [.random([2, 4, 3]), int64s([2, 2, 3], [0, 3, -1, 1, 2, 0, -4, 1, 1, 3, 3, 2])]),
        .init("gatherElements axis 0, smaller indices", .gatherElements(axis: 0),
              [.random([3, 5]), int64s([2, 4], [2, 0, 1, 1, 0, 2, 2, 0])]),
    ]

    @Test("batched, broadcasting matrix product", arguments: matrixProductCases) func matMul(_ c: OperatorCase) throws { try check(c) }
    @Test("fused attention", arguments: attentionCases) func attention(_ c: OperatorCase) throws { try check(c) }
    @Test("where, tile, gatherElements", arguments: selectionCases) func selection(_ c: OperatorCase) throws { try check(c) }

    @Test("comparisons give int64 0/1", arguments: ComparisonOperator.allCases)
    func comparison(_ op: ComparisonOperator) throws {
        for dataType in [DataType.float32, .int64] {
            var b = GraphBuilder()
            let lhs: Tensor = dataType == .float32
                ? Tensor(shape: [2, 3], floats: [1, 2, 3, -1, 0, 5]) : Tensor(shape: [2, 3], int64s: [1, 2, 3, -1, 0, 5])
            let rhs: Tensor = dataType == .float32 ? Tensor(shape: [3], floats: [1, 0, 5]) : Tensor(shape: [3], int64s: [1, 0, 5])
            let x = b.input("x", shape: [2, 3], dataType: dataType)
            let y = b.add(.compare(op), inputs: [x, b.constant(rhs)], name: "cmp")[0]
            let graph = try b.build(outputs: ["y": y])
            let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": lhs])["y"])
            for threads in [1, 2] {
                let got = try #require(try graph.compile(threads: threads).makeSession().run(["x": lhs])["y"])
                #expect(got.dataType == .int64 && got.shape == [2, 3], "\(op) \(dataType)")
                #expect(got.int64s == want.int64s, "\(op) \(dataType): \(got.int64s) != \(want.int64s)")
            }
            // Folded at compile time when both sides are constant.
            var c = GraphBuilder()
            let folded = c.add(.compare(op), inputs: [c.constant(lhs), c.constant(rhs)], name: "cmp")[0]
            let out = c.add(.cast(to: .float32), inputs: [folded], name: "cast")[0]
            let compiled = try c.build(outputs: ["y": out]).compile()
            #expect(compiled.statistics.operatorCounts.isEmpty)
        }
    }
}

/// Inconsistent graphs for the new operators: each gives an `EngineError` naming the node.
@Suite("Transformer operators reject bad shapes")
struct TransformerOperatorValidationTests {
    struct Bad: Sendable, CustomStringConvertible {
        let description: String
        let operation: MattingEngine.Operation
        let shapes: [[Int]]
        var constants: [Int: Tensor] = [:]
    }

    static let cases: [Bad] = [
        Bad(description: "matMul rank 1", operation: .matMul(activation: .identity), shapes: [[4], [4, 3]]),
        Bad(description: "matMul K mismatch", operation: .matMul(activation: .identity), shapes: [[2, 4], [5, 3]]),
        Bad(description: "matMul batch mismatch", operation: .matMul(activation: .identity), shapes: [[2, 3, 4], [3, 4, 5]]),
        Bad(description: "attention depth mismatch", operation: .attention(scale: 1, keyTransposed: false),
            shapes: [[2, 4], [3, 5], [3, 2]]),
        Bad(description: "attention length mismatch", operation: .attention(scale: 1, keyTransposed: false),
            shapes: [[2, 4], [3, 4], [5, 2]]),
        Bad(description: "where shapes", operation: .where, shapes: [[2, 3], [4, 3], [3]]),
        Bad(description: "compare shapes", operation: .compare(.equal), shapes: [[2, 3], [2]]),
        Bad(description: "tile repeats count", operation: .tile, shapes: [[2, 3], [3]],
            constants: [1: Tensor(shape: [3], int64s: [1, 2, 3])]),
        Bad(description: "tile negative repeats", operation: .tile, shapes: [[2, 3], [2]],
            constants: [1: Tensor(shape: [2], int64s: [1, -2])]),
        Bad(description: "gatherElements axis", operation: .gatherElements(axis: 2), shapes: [[2, 3], [2, 3]],
            constants: [1: Tensor(shape: [2, 3], int64s: [0, 0, 0, 0, 0, 0])]),
        Bad(description: "gatherElements rank", operation: .gatherElements(axis: 0), shapes: [[2, 3], [2]],
            constants: [1: Tensor(shape: [2], int64s: [0, 1])]),
        Bad(description: "gatherElements index range", operation: .gatherElements(axis: 1), shapes: [[2, 3], [2, 1]],
            constants: [1: Tensor(shape: [2, 1], int64s: [0, 3])]),
    ]

    @Test(arguments: cases)
    func rejected(_ c: Bad) throws {
        var b = GraphBuilder()
        let ins = c.shapes.enumerated().map { i, s in
            c.constants[i].map { b.constant($0) } ?? b.input("in\(i)", shape: s)
        }
        let y = b.add(c.operation, inputs: ins, name: "the_node")[0]
        let graph = try b.build(outputs: ["y": y])
        do {
            _ = try graph.compile()
            Issue.record("\(c): accepted")
        } catch let error as EngineError {
            #expect("\(error)".contains("the_node"), "\(c): \(error)")
        }
    }
}
