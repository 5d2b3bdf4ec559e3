import MattingEngine
import MattingTestSupport
import Testing

@Suite("Element-wise operators vs reference")
struct ElementWiseOperatorTests {
    static let broadcastShapes: [([Int], [Int])] = [
        ([2, 3, 5, 7], [2, 3, 5, 7]), ([2, 3, 5, 7], [7]), ([1, 5, 1], [3, 1, 4]), ([4, 9], []),
        ([2, 1, 5, 1], [1, 3, 1, 6]), ([1], [1]), ([1, 3, 37], [1, 3, 37]), ([3, 1], [3, 17]),
        // Short rows grouped into ~8192-element tasks (SE scaling [1,H,W,C] × [1,1,1,C]):
        // several tasks and a partial last one; and one row longer than a task.
        ([1, 23, 29, 24], [1, 1, 1, 24]), ([1, 1, 1, 40], [1, 17, 31, 40]), ([1, 20000], [1]),
    ]

    static let binaries: [OperatorCase] = {
        var cases: [OperatorCase] = []
        for op in BinaryOperator.allCases where op != .power {
            for (a, b) in broadcastShapes {
                cases.append(.init("\(op) \(a) \(b)", .binary(op, activation: .identity), [.random(a), .random(b)]))
            }
        }
        cases.append(.init("add relu6 fused", .binary(.add, activation: .relu6), [.random([1, 4, 4, 9], range: -8...8), .random([9])]))
        cases.append(.init("pow by constant 2", .binary(.power, activation: .identity), [.random([2, 3, 5]), .constant(Tensor(scalar: 2))]))
        cases.append(.init("pow by constant 0.5", .binary(.power, activation: .identity), [.random([7, 3], range: 0...4), .constant(Tensor(scalar: 0.5))]))
        cases.append(.init("prelu per channel", .prelu, [.random([1, 4, 5, 6]), .randomConstant([6])]))
        return cases
    }()

    static let activations: [OperatorCase] = {
        let all: [Activation] = [.identity, .relu, .relu6, .clip(min: -0.5, max: 0.25), .leakyRelu(alpha: 0.1),
                                 .hardSwish, .hardSigmoid(alpha: 0.2, beta: 0.5), .sigmoid, .tanh]
        var cases = all.map { OperatorCase("\($0) 1x3x5x17", .activation($0), [.random([1, 3, 5, 17], range: -8...8)]) }
        for f in UnaryFunction.allCases {
            let range: ClosedRange<Float> = [.log, .sqrt, .reciprocal].contains(f) ? 0.1...4 : -4...4
            cases.append(.init("\(f) 2x29", .unary(f), [.random([2, 29], range: range)]))
        }
        // GELU runs eight lanes at a time with its own erf: a wide range and a ragged tail.
        cases.append(.init("gelu -12…12, 3x333", .unary(.gelu), [.random([3, 333], range: -12...12)]))
        cases.append(.init("round halves to even", .unary(.round),
                           [.constant(Tensor(shape: [6], floats: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]))]))
        cases.append(.init("softmax last", .softmax(axis: -1), [.random([2, 3, 17], range: -6...6)]))
        cases.append(.init("softmax axis 1", .softmax(axis: 1), [.random([2, 5, 3])]))
        // Last axis in runs of rows per task (eight-lane exp, ragged row tails), and one row
        // longer than a task.
        cases.append(.init("softmax last, 900 rows of 61", .softmax(axis: 2), [.random([3, 300, 61], range: -30...30)]))
        cases.append(.init("softmax last, rows of 9000", .softmax(axis: -1), [.random([2, 9000], range: -10...10)]))
        cases.append(.init("batch norm standalone", .batchNorm(epsilon: 1e-3),
                           [.random([1, 3, 4, 5]), .randomConstant([5]), .randomConstant([5]), .randomConstant([5]),
                            .constant(Tensor(shape: [5], floats: [0.5, 1, 2, 0.1, 3]))]))
        return cases
    }()

    static let normalizations: [OperatorCase] = [
        .init("instance norm 2x5x7x37", .instanceNorm(epsilon: 1e-5),
              [.random([2, 5, 7, 37], range: -3...5), .randomConstant([37]), .randomConstant([37])]),
        .init("instance norm 1x1x3x1", .instanceNorm(epsilon: 1e-3), [.random([1, 1, 3, 1]), .randomConstant([1]), .randomConstant([1])]),
        .init("layer norm last axis", .layerNorm(axis: -1, epsilon: 1e-5), [.random([3, 4, 19]), .randomConstant([19]), .randomConstant([19])]),
        .init("layer norm two axes", .layerNorm(axis: 1, epsilon: 1e-5), [.random([2, 3, 5]), .randomConstant([15]), .randomConstant([15])]),
    ]

    static let matrixProducts: [OperatorCase] = [
        .init("constant B 2-D (1x1 conv path) with bias relu", .matMul(activation: .relu),
              [.random([2, 5, 7]), .randomConstant([7, 11]), .randomConstant([11])]),
        .init("constant B [K,1]", .matMul(activation: .identity), [.random([3, 4]), .randomConstant([4, 1])]),
        .init("run-time B 2-D", .matMul(activation: .identity), [.random([5, 3]), .random([3, 17])]),
        .init("run-time batched B", .matMul(activation: .sigmoid), [.random([2, 3, 5, 4]), .random([2, 3, 4, 9])]),
    ]

    @Test("matrix product", arguments: matrixProducts) func matMul(_ c: OperatorCase) throws { try check(c) }

    @Test("normalisation", arguments: normalizations) func normalization(_ c: OperatorCase) throws { try check(c) }

    @Test("binary with broadcasting", arguments: binaries) func binary(_ c: OperatorCase) throws { try check(c) }
    @Test("activations and unary", arguments: activations) func activation(_ c: OperatorCase) throws { try check(c) }
}
