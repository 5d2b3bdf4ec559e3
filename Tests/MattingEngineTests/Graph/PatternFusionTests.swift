import Foundation
import MattingEngine
import MattingTestSupport
import Testing

/// The exporter patterns the compiler folds into one node (GELU, decomposed layer norm,
/// attention): the fused graph must hold the one node and nothing of the pattern, and equal
/// the unfused graph evaluated by the double-precision reference (tolerance of
/// `OperatorHarness.swift`).
@Suite("Pattern fusion: GELU, layer norm, attention")
struct PatternFusionTests {
    /// Runs `graph` on seeded input `x`, checks the operator counts and the reference.
    func verify(_ graph: Graph, x shape: [Int], counts: [String: Int], range: ClosedRange<Float> = -3...3) throws {
        var rng = SeededGenerator(seed: 17)
        let x = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *), in: range))
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": x])["y"])
        for threads in [1, 2] {
            let compiled = try graph.compile(threads: threads)
            #expect(compiled.statistics.operatorCounts == counts, "\(compiled.statistics.operatorCounts)")
            let got = try #require(try compiled.makeSession().run(["x": x])["y"])
            #expect(maxRelativeError(got, want) <= tolerance, "error \(maxRelativeError(got, want))")
        }
    }

    /// The arrangements torch.onnx.export and others write for exact GELU.
    static let erfForms = ["x*0.5*(1+erf)", "0.5*x*(1+erf)", "(x*(1+erf))*0.5", "erf(x*0.7071)"]

    @Test("exact GELU (erf) becomes one node", arguments: erfForms)
    func geluErf(_ form: String) throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2, 37])
        func k(_ v: Float) -> Value { b.constant(Tensor(scalar: v)) }
        let scaled = form == "erf(x*0.7071)" ? b.multiply(x, k(0.70710677)) : b.divide(x, k(1.4142135))
        let onePlus = b.add(b.unary(scaled, .erf), k(1))
        let y: Value
        switch form {
        case "0.5*x*(1+erf)": y = b.multiply(b.multiply(k(0.5), x), onePlus)
        case "(x*(1+erf))*0.5": y = b.multiply(b.multiply(x, onePlus), k(0.5))
        default: y = b.multiply(b.multiply(x, k(0.5)), onePlus)
        }
        try verify(b.build(outputs: ["y": y]), x: [2, 37], counts: ["gelu": 1])
    }

    @Test("tanh GELU becomes one node", arguments: ["pow", "x*x*x"])
    func geluTanh(_ cube: String) throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [3, 17])
        func k(_ v: Float) -> Value { b.constant(Tensor(scalar: v)) }
        let x3 = cube == "pow" ? b.binary(.power, x, k(3)) : b.multiply(b.multiply(x, x), x)
        let inner = b.multiply(b.add(x, b.multiply(x3, k(0.044715))), k(0.7978846))
        let t = b.add(b.activation(inner, .tanh), k(1))
        let y = b.multiply(b.multiply(x, k(0.5)), t)
        try verify(b.build(outputs: ["y": y]), x: [3, 17], counts: ["geluTanh": 1])
    }

    @Test("a GELU-like region that is not GELU stays as it is")
    func notGELU() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2, 9])
        func k(_ v: Float) -> Value { b.constant(Tensor(scalar: v)) }
        // 0.5 · x · (1 + erf(x / 2)): the wrong scale inside erf.
        let y = b.multiply(b.multiply(x, k(0.5)), b.add(b.unary(b.divide(x, k(2)), .erf), k(1)))
        let counts = try b.build(outputs: ["y": y]).compile().statistics.operatorCounts
        #expect(counts["gelu"] == nil && counts["erf"] == 1, "\(counts)")
    }

    @Test("an intermediate read elsewhere blocks GELU fusion")
    func geluIntermediateOutput() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [4, 8])
        func k(_ v: Float) -> Value { b.constant(Tensor(scalar: v)) }
        let e = b.unary(b.divide(x, k(1.4142135)), .erf)
        let y = b.multiply(b.multiply(x, k(0.5)), b.add(e, k(1)))
        let graph = try b.build(outputs: ["y": y, "e": e])
        let counts = try graph.compile().statistics.operatorCounts
        #expect(counts["gelu"] == nil && counts["erf"] == 1, "\(counts)")
    }

    /// Decomposed layer norm over the trailing `axes` of a `[2, 5, 12]` input.
    func layerNormGraph(axes: [Int], square: String, affine: Bool, reciprocal: Bool = false) throws -> Graph {
        var b = GraphBuilder()
        var rng = SeededGenerator(seed: 3)
        let x = b.input("x", shape: [2, 5, 12])
        let mean = b.add(.reduce(ReduceParameters(kind: .mean, axes: axes, keepDimensions: true)), inputs: [x])[0]
        let d = b.subtract(x, mean)
        let sq = square == "pow" ? b.binary(.power, d, b.constant(Tensor(scalar: 2))) : b.multiply(d, d)
        let variance = b.add(.reduce(ReduceParameters(kind: .mean, axes: axes, keepDimensions: true)), inputs: [sq])[0]
        let root = b.unary(b.add(variance, b.constant(Tensor(scalar: 1e-5))), .sqrt)
        var y = reciprocal ? b.multiply(d, b.unary(root, .reciprocal)) : b.divide(d, root)
        if affine {
            let inner = axes.count == 1 ? [12] : [5, 12]
            let count = inner.reduce(1, *)
            y = b.multiply(y, b.constant(rng.floats(count), shape: inner))
            y = b.add(y, b.constant(rng.floats(count), shape: [1] + inner))
        }
        return try b.build(outputs: ["y": y])
    }

    @Test("decomposed layer norm becomes one node", arguments: [
        ([-1], "pow", true, false), ([2], "mul", false, false), ([1, 2], "pow", true, false), ([-1], "pow", false, true),
    ])
    func layerNorm(axes: [Int], square: String, affine: Bool, reciprocal: Bool) throws {
        try verify(try layerNormGraph(axes: axes, square: square, affine: affine, reciprocal: reciprocal),
                   x: [2, 5, 12], counts: ["layerNorm": 1], range: -2...5)
    }

    @Test("a reduction over a leading axis is not a layer norm")
    func layerNormLeadingAxis() throws {
        let counts = try layerNormGraph(axes: [1], square: "pow", affine: false).compile().statistics.operatorCounts
        #expect(counts["layerNorm"] == nil && counts["reduce.mean"] == 2, "\(counts)")
    }

    @Test("attention: QKᵀ → scale → softmax → ·V becomes one node", arguments: ["divide", "multiply", "none"])
    func attention(_ scaling: String) throws {
        var b = GraphBuilder()
        var rng = SeededGenerator(seed: 9)
        let x = b.input("x", shape: [2, 6, 8])
        // Heads from x through constant projections (as exports do), K transposed explicitly.
        let q = b.matMul(x, b.constant(rng.floats(64), shape: [8, 8]))
        let k = b.matMul(x, b.constant(rng.floats(64), shape: [8, 8]))
        let v = b.matMul(x, b.constant(rng.floats(40), shape: [8, 5]))
        var scores = b.matMul(q, b.transpose(k, [0, 2, 1]))
        if scaling == "divide" { scores = b.divide(scores, b.constant(Tensor(scalar: 2.828427))) }
        if scaling == "multiply" { scores = b.multiply(b.constant(Tensor(scalar: 0.35355338)), scores) }
        let y = b.matMul(b.add(.softmax(axis: -1), inputs: [scores])[0], v)
        try verify(b.build(outputs: ["y": y]), x: [2, 6, 8], counts: ["matMul": 3, "attention": 1])
    }

    @Test("a constant bias added after a matrix product becomes its bias", arguments: [[7], [1, 1, 7]])
    func matMulBias(_ biasShape: [Int]) throws {
        var b = GraphBuilder()
        var rng = SeededGenerator(seed: 5)
        let x = b.input("x", shape: [2, 3, 4])
        let y = b.add(b.matMul(x, b.constant(rng.floats(28), shape: [4, 7])), b.constant(rng.floats(7), shape: biasShape),
                      activation: .relu)
        try verify(b.build(outputs: ["y": y]), x: [2, 3, 4], counts: ["matMul": 1])
    }

    @Test("a bias that varies along another axis is not folded")
    func matMulNotBias() throws {
        var b = GraphBuilder()
        var rng = SeededGenerator(seed: 6)
        let x = b.input("x", shape: [3, 4])
        let y = b.add(b.matMul(x, b.constant(rng.floats(28), shape: [4, 7])), b.constant(rng.floats(21), shape: [3, 7]))
        try verify(b.build(outputs: ["y": y]), x: [3, 4], counts: ["matMul": 1, "add": 1])
    }

    @Test("attention whose scores are also an output is not fused")
    func attentionScoresUsed() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [3, 4])
        let p = b.add(.softmax(axis: -1), inputs: [b.matMul(x, b.transpose(x, [1, 0]))])[0]
        let y = b.matMul(p, x)
        let counts = try b.build(outputs: ["y": y, "p": p]).compile().statistics.operatorCounts
        #expect(counts["attention"] == nil && counts["softmax"] == 1, "\(counts)")
    }

    /// MODNet's IBNorm as exporters write it (channel slices of NHWC x, a batch norm on the
    /// first part, an instance norm on the rest, concatenated), optionally with a ReLU.
    func ibNormGraph(split: Int, channels: Int, relu: Bool, instanceFirst: Bool = false, sliceEnd: Int = Int.max) throws -> Graph {
        var b = GraphBuilder()
        var rng = SeededGenerator(seed: 23)
        let x = b.input("x", shape: [2, 5, 7, channels])
        let k = split, rest = channels - split
        let first = b.slice(x, SliceParameters(starts: [0], ends: [k], axes: [3]))
        let second = b.slice(x, SliceParameters(starts: [k], ends: [sliceEnd], axes: [-1]))
        let bn = b.batchNorm(first, scale: rng.floats(k, in: 0.5...1.5), offset: rng.floats(k), mean: rng.floats(k),
                             variance: rng.floats(k, in: 0.5...1.5))
        let inorm = b.node(.instanceNorm(epsilon: 1e-5), second, b.constant(rng.floats(rest, in: 0.5...1.5), shape: [rest]),
                           b.constant(rng.floats(rest), shape: [rest]))
        let joined = b.concat(instanceFirst ? [inorm, bn] : [bn, inorm], axis: 3)
        let y = relu ? b.activation(joined, .relu) : joined
        return try b.build(outputs: ["y": y])
    }

    @Test("IBNorm (slice, batch norm, instance norm, concat, ReLU) becomes one node",
          arguments: [(8, 16, true), (3, 7, false), (17, 40, true)])
    func ibNorm(split: Int, channels: Int, relu: Bool) throws {
        try verify(try ibNormGraph(split: split, channels: channels, relu: relu), x: [2, 5, 7, channels], counts: ["splitNorm": 1])
        try verify(try ibNormGraph(split: split, channels: channels, relu: relu, sliceEnd: channels), x: [2, 5, 7, channels],
                   counts: ["splitNorm": 1])
    }

    @Test("the two halves the other way round are not IBNorm")
    func notIBNorm() throws {
        try verify(try ibNormGraph(split: 8, channels: 16, relu: true, instanceFirst: true), x: [2, 5, 7, 16],
                   counts: ["slice": 2, "batchNorm": 1, "instanceNorm": 1, "concat": 1, "relu": 1])
    }
}
