import MattingEngine
import MattingTestSupport
import Testing

@Suite("Validation errors name the node")
struct ValidationTests {
    let relu = MattingEngine.Operation.activation(.relu)

    @Test func unknownValue() {
        #expect(throws: EngineError.unknownValue("nope", node: "bad")) {
            try Graph(inputs: [], constants: [:], nodes: [Node(name: "bad", operation: relu, inputs: ["nope"], outputs: ["y"])],
                      outputs: ["y": "y"])
        }
    }

    @Test func cycle() {
        let nodes = [Node(name: "a", operation: .binary(.add, activation: .identity), inputs: ["x", "b_out"], outputs: ["a_out"]),
                     Node(name: "b", operation: relu, inputs: ["a_out"], outputs: ["b_out"])]
        #expect(throws: EngineError.cycle(nodes: ["a", "b"])) {
            try Graph(inputs: [InputDeclaration(name: "x", shape: [1])], constants: [:], nodes: nodes, outputs: ["y": "b_out"])
        }
    }

    @Test func duplicateValue() {
        let nodes = [Node(name: "a", operation: relu, inputs: ["x"], outputs: ["y"]),
                     Node(name: "b", operation: relu, inputs: ["x"], outputs: ["y"])]
        #expect(throws: EngineError.duplicateValue("y", node: "b")) {
            try Graph(inputs: [InputDeclaration(name: "x", shape: [1])], constants: [:], nodes: nodes, outputs: ["y": "y"])
        }
    }

    @Test func wrongInputCount() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2])
        let y = b.node(.binary(.add, activation: .identity), x, name: "lonely")
        #expect { try b.build(outputs: ["y": y]) } throws: { error in
            guard case let .shapeMismatch(node, _) = error as? EngineError else { return false }
            return node == "lonely"
        }
    }

    @Test func channelMismatchNamesConvolution() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, nil, nil, 3])
        let y = b.conv2d(x, weights: Tensor(zeros: [8, 3, 3, 4]), name: "enc1")
        let graph = try b.build(outputs: ["y": y])
        #expect { try graph.compile(inputShapes: ["x": [1, 8, 8, 3]]) } throws: { error in
            guard case let .shapeMismatch(node, reason) = error as? EngineError else { return false }
            return node == "enc1" && "\(error)".contains("enc1") && reason.contains("channels")
        }
    }

    @Test func broadcastMismatchAndDataType() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [2, 3])
        let i = b.input("i", shape: [3], dataType: .int64)
        let bad = b.add(x, b.constant(Tensor(zeros: [4])))
        let mixed = b.add(x, i)
        let g1 = try b.build(outputs: ["y": bad])
        #expect { try g1.compile() } throws: { error in
            guard case let .shapeMismatch(node, _) = error as? EngineError else { return false }
            return node == bad.name
        }
        let g2 = try b.build(outputs: ["y": mixed])
        #expect(throws: EngineError.dataTypeMismatch(node: mixed.name, value: "i", expected: .float32, actual: .int64)) {
            try g2.compile()
        }
    }

    @Test func nonConstantWeightsAndUnsupportedParameters() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, 4, 4, 2])
        let w = b.input("w", shape: [2, 1, 1, 2])
        let conv = b.node(.conv2d(Conv2DParameters()), x, w, name: "dynamic")
        #expect(throws: EngineError.notConstant(node: "dynamic", value: "w")) {
            try b.build(outputs: ["y": conv]).compile()
        }
        var c = GraphBuilder()
        let x2 = c.input("x", shape: [1, 4, 4, 2])
        let y = c.node(.conv2d(Conv2DParameters(strideHeight: 0)), x2, c.constant(Tensor(zeros: [2, 1, 1, 2])), name: "zeroStride")
        #expect(throws: EngineError.unsupported(node: "zeroStride", reason: "strides and dilations must be ≥ 1")) {
            try c.build(outputs: ["y": y]).compile()
        }
    }

    @Test func inputsAtCompileAndRunTime() throws {
        var b = GraphBuilder()
        let x = b.input("x", shape: [1, nil, nil, 3])
        let graph = try b.build(outputs: ["y": b.relu(x)])
        #expect(throws: EngineError.missingInput("x")) { try graph.compile() }
        #expect(throws: EngineError.unknownInput("z")) { try graph.compile(inputShapes: ["x": [1, 2, 2, 3], "z": [1]]) }
        #expect(throws: EngineError.inputShapeMismatch(input: "x", expected: [1, nil, nil, 3], actual: [1, 2, 2, 4])) {
            try graph.compile(inputShapes: ["x": [1, 2, 2, 4]])
        }
        let session = try graph.compile(inputShapes: ["x": [1, 2, 2, 3]]).makeSession()
        #expect(throws: EngineError.inputShapeMismatch(input: "x", expected: [1, 2, 2, 3], actual: [1, 2, 3, 3])) {
            try session.run(["x": Tensor(zeros: [1, 2, 3, 3])])
        }
        #expect(throws: EngineError.missingInput("x")) { try session.run([:]) }
    }
}

@Suite("Bad parameters are errors, not crashes")
struct ParameterValidationTests {
    static let cases: [(String, MattingEngine.Operation, [Int])] = [
        ("negative resize size", .resize(.init(mode: .bilinear, coordinateTransform: .halfPixel, target: .size(height: -3, width: 2))), [1, 2, 2, 1]),
        ("NaN resize scale", .resize(.init(mode: .bilinear, coordinateTransform: .halfPixel, target: .scales(height: .nan, width: 1))), [1, 2, 2, 1]),
        ("pool window larger than input", .pool(.init(kind: .max, kernelHeight: 5, kernelWidth: 5)), [1, 2, 2, 1]),
        ("zero slice step", .slice(.init(starts: [0], ends: [1], axes: [0], steps: [0])), [2]),
        ("softmax axis out of range", .softmax(axis: 3), [2, 2]),
        ("bad permutation", .transpose(permutation: [0, 0]), [2, 2]),
        ("reshape count mismatch", .reshape(shape: [3]), [2, 2]),
        ("squeeze a non-1 axis", .squeeze(axes: [0]), [2, 2]),
        ("split sizes", .split(axis: 0, sizes: [1, 2]), [2, 2]),
        ("depth-to-space block", .depthToSpace(blockSize: 3), [1, 2, 2, 4]),
        ("negative pad", .pad(before: [-1], after: [0], mode: .edge), [3]),
    ]

    @Test("errors name the node", arguments: cases.map { $0.0 })
    func namesTheNode(_ name: String) throws {
        let (_, op, shape) = try #require(Self.cases.first { $0.0 == name })
        var b = GraphBuilder()
        let x = b.input("x", shape: shape.map { $0 })
        let outputs = b.add(op, inputs: [x], name: "culprit")
        let graph = try b.build(outputs: Dictionary(uniqueKeysWithValues: outputs.enumerated().map { ("y\($0.offset)", $0.element) }))
        #expect { try graph.compile() } throws: { error in
            "\(error)".contains("culprit")
        }
    }
}
