import MattingEngine
import MattingTestSupport
import Testing

@Suite("Constant folding, batch-norm folding, fusion, dead nodes")
struct FoldingTests {
    /// `x [1, H, W, 4] → reshape to [1, H·W, 4]` via an ONNX-style Shape/Gather/Mul/Concat chain,
    /// then divided by `Cast(Gather(shape, 3))`.
    func shapeChainGraph() throws -> Graph {
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, nil, nil, 4])
        let s = b.shape(x)
        func dim(_ i: Int64) -> Value { b.gather(s, indices: b.constant(Tensor(shape: [1], int64s: [i]))) }
        let hw = b.multiply(dim(1), dim(2))
        let target = b.concat([b.constant(Tensor(shape: [1], int64s: [1])), hw, dim(3)], axis: 0)
        let y = b.reshape(x, shape: target)
        let channels = b.cast(dim(3), to: .float32)
        let z = b.divide(y, channels)
        _ = b.unary(z, .exp)  // dead: not an output
        return try b.build(outputs: ["z": z])
    }

    @Test("shape chains fold away", arguments: [[1, 3, 5, 4], [1, 8, 2, 4]])
    func shapeChain(shape: [Int]) throws {
        let graph = try shapeChainGraph()
        let compiled = try graph.compile(inputShapes: ["x": shape])
        let s = compiled.statistics
        #expect(Set(s.operatorCounts.keys) == ["reshape", "divide"], "\(s.operatorCounts)")
        #expect(s.foldedNodeCount == 8)  // shape, 4 gathers, multiply, concat, cast
        #expect(compiled.outputs.first?.shape == [1, shape[1] * shape[2], 4])
        var rng = SeededGenerator(seed: 4)
        let x = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *)))
        let got = try #require(try compiled.makeSession().run(["x": x])["z"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": x])["z"])
        #expect(maxRelativeError(got, want) <= tolerance)
    }

    @Test("float nodes on constants are evaluated at compile time")
    func floatFolding() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2, 3])
        let k = b.multiply(b.constant([1, 2, 3], shape: [3]), b.constant([Float](repeating: 0.5, count: 3), shape: [3]))
        let y = b.add(x, b.unary(k, .exp))
        let graph = try b.build(outputs: ["y": y])
        let compiled = try graph.compile()
        #expect(compiled.statistics.operatorCounts == ["add": 1])
        let x0 = Tensor(shape: [2, 3], floats: [0, 0, 0, 1, 1, 1])
        let got = try #require(try compiled.makeSession().run(["x": x0])["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": x0])["y"])
        #expect(maxRelativeError(got, want) <= tolerance)
    }

    static let batchNormProducers: [String] = ["conv2d", "depthwise", "transposedConv2d"]

    @Test("batch norm folded into the convolution equals unfolded evaluation", arguments: batchNormProducers)
    func batchNormFolding(producer: String) throws {
        var rng = SeededGenerator(seed: 21)
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, 7, 6, 5])
        let c: Int
        let y: Value
        switch producer {
        case "conv2d":
            c = 3
            y = b.conv2d(x, weights: Tensor(shape: [3, 3, 3, 5], floats: rng.floats(135)), bias: rng.floats(3), stride: 2)
        case "depthwise":
            c = 5
            y = b.depthwiseConv2d(x, weights: Tensor(shape: [5, 3, 3, 1], floats: rng.floats(45)))
        default:
            c = 4
            y = b.transposedConv2d(x, weights: Tensor(shape: [4, 2, 2, 5], floats: rng.floats(80)), bias: rng.floats(4))
        }
        let bn = b.batchNorm(y, scale: rng.floats(c, in: 0.5...2), offset: rng.floats(c), mean: rng.floats(c),
                             variance: rng.floats(c, in: 0.1...3), epsilon: 1e-3)
        let out = b.activation(bn, .relu6)
        let graph = try b.build(outputs: ["y": out])
        let compiled = try graph.compile(threads: 2)
        #expect(compiled.statistics.operatorCounts["batchNorm"] == nil, "\(compiled.statistics.operatorCounts)")
        #expect(compiled.statistics.fusedNodeCount == 2)
        let input = Tensor(shape: [1, 7, 6, 5], floats: rng.floats(210))
        let got = try #require(try compiled.makeSession().run(["x": input])["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])["y"])
        #expect(maxRelativeError(got, want) <= tolerance, "\(producer) seed 21")
    }

    static let constantOperands: [(BinaryOperator, [Int])] = [
        (.add, [3]), (.subtract, [1, 1, 1, 3]), (.multiply, [3]), (.multiply, []), (.add, [1, 3]),
    ]

    @Test("per-channel constant add/subtract/multiply after a convolution folds into it", arguments: constantOperands)
    func constantOperandFolding(op: BinaryOperator, shape: [Int]) throws {
        var rng = SeededGenerator(seed: 17)
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, 5, 4, 2])
        let conv = b.conv2d(x, weights: Tensor(shape: [3, 3, 3, 2], floats: rng.floats(54)), bias: rng.floats(3))
        let k = b.constant(rng.floats(shape.reduce(1, *), in: 0.5...2), shape: shape)
        let y = b.binary(op, conv, k, activation: .relu)
        let graph = try b.build(outputs: ["y": y])
        let compiled = try graph.compile()
        #expect(compiled.statistics.operatorCounts == ["conv2d": 1], "\(op) \(shape)")
        let input = Tensor(shape: [1, 5, 4, 2], floats: rng.floats(40))
        let got = try #require(try compiled.makeSession().run(["x": input])["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])["y"])
        #expect(maxRelativeError(got, want) <= tolerance, "\(op) \(shape) seed 17")
    }

    @Test("a zero pad of H and W merges into the following convolution")
    func padIntoConvolution() throws {
        var rng = SeededGenerator(seed: 13)
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, 6, 5, 3])
        let padded = b.pad(x, before: [0, 1, 2, 0], after: [0, 2, 0, 0])
        let y = b.conv2d(padded, weights: Tensor(shape: [4, 3, 3, 3], floats: rng.floats(108)), stride: 2,
                         padding: .explicit(top: 0, left: 1, bottom: 1, right: 0))
        let graph = try b.build(outputs: ["y": y])
        let compiled = try graph.compile()
        #expect(compiled.statistics.operatorCounts == ["conv2d": 1])
        let input = Tensor(shape: [1, 6, 5, 3], floats: rng.floats(90))
        let got = try #require(try compiled.makeSession().run(["x": input])["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: ["x": input])["y"])
        #expect(maxRelativeError(got, want) <= tolerance, "seed 13")
    }

    @Test("graphs whose outputs are constants or inputs")
    func trivialOutputs() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2])
        let k = b.add(b.constant([1, 2], shape: [2]), b.constant([3, 4], shape: [2]))
        let graph = try b.build(outputs: ["k": k, "x": x])
        let out = try graph.compile().makeSession().run(["x": Tensor(shape: [2], floats: [5, 6])])
        #expect(out["k"]?.floats == [4, 6])
        #expect(out["x"]?.floats == [5, 6])
    }

    @Test("an activation is not fused when the intermediate is also read elsewhere")
    func noFusionWhenShared() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [4])
        let s = b.add(x, x)
        let r = b.relu(s)
        let graph = try b.build(outputs: ["r": r, "s": s])
        let compiled = try graph.compile()
        #expect(compiled.statistics.fusedNodeCount == 0)
        let got = try compiled.makeSession().run(["x": Tensor(shape: [4], floats: [-1, 2, -3, 4])])
        #expect(got["s"]?.floats == [-2, 4, -6, 8])
        #expect(got["r"]?.floats == [0, 4, 0, 8])
    }
}

@Suite("Shape inference")
struct ShapeInferenceTests {
    @Test func inferShapesReportsEveryValue() throws {
        let graph = try SmallUNet.make()
        let info = try graph.inferShapes(inputShapes: ["input": [1, 64, 48, 3]])
        #expect(info["input"]?.shape == [1, 64, 48, 3])
        let mask = try #require(graph.outputs["mask"])
        #expect(info[mask]?.shape == [1, 64, 48, 1])
        #expect(info[mask]?.isConstant == false)
        #expect(info.values.filter(\.isConstant).count == graph.constants.count)
    }
}

@Suite("Shape-computing operators fold")
struct ShapeOperatorFoldingTests {
    /// ONNX's `F.interpolate(x, size=skip.shape[2:])` pattern, in NHWC: the resize target is
    /// sliced from the skip's shape; plus ConstantOfShape and Range feeding float math.
    @Test("resize to a skip's size, constant-of-shape and range", arguments: [[1, 4, 6, 2], [1, 5, 3, 2]])
    func resizeToSkip(shape: [Int]) throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, nil, nil, 2])
        let skip = b.input("skip", shape: [1, nil, nil, 2])
        let hw = b.slice(b.shape(skip), SliceParameters(starts: [1], ends: [3]))
        let up = b.node(.resize(ResizeParameters(mode: .bilinear, coordinateTransform: .halfPixel, target: .sizeFromInput)), x, hw)
        let ones = b.node(.constantOfShape(value: 0.5, dataType: .float32), b.shape(skip))
        let steps = b.node(.range, b.constant(Tensor(shape: [], floats: [0])), b.constant(Tensor(shape: [], floats: [2])),
                           b.constant(Tensor(shape: [], floats: [1])))
        let y = b.add(b.add(up, b.multiply(skip, ones)), steps)
        let graph = try b.build(outputs: ["y": y])
        let skipShape = [1, shape[1] * 2, shape[2] + 1, 2]
        let compiled = try graph.compile(inputShapes: ["x": shape, "skip": skipShape])
        #expect(Set(compiled.statistics.operatorCounts.keys) == ["resize", "add", "multiply"], "\(compiled.statistics.operatorCounts)")
        var rng = SeededGenerator(seed: 6)
        let feeds = ["x": Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *))),
                     "skip": Tensor(shape: skipShape, floats: rng.floats(skipShape.reduce(1, *)))]
        let got = try #require(try compiled.makeSession().run(feeds)["y"])
        let want = try #require(try ReferenceEvaluator().evaluate(graph, inputs: feeds)["y"])
        #expect(got.shape == skipShape)
        #expect(maxRelativeError(got, want) <= tolerance)
    }
}
