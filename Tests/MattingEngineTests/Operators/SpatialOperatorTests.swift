import MattingEngine
import MattingTestSupport
import Testing

@Suite("Spatial operators vs reference")
struct SpatialOperatorTests {
    static let convolutions: [OperatorCase] = [
        .init("1x1 5x7x3→4", .conv2d(.init(padding: .same)), [.random([1, 5, 7, 3]), .randomConstant([4, 1, 1, 3])]),
        .init("3x3 s2 same bias relu 9x11x5→6", .conv2d(.init(strideHeight: 2, strideWidth: 2, padding: .same, activation: .relu)),
              [.random([1, 9, 11, 5]), .randomConstant([6, 3, 3, 5]), .randomConstant([6])]),
        .init("3x3 dilation 2 explicit pad batch 2", .conv2d(.init(dilationHeight: 2, dilationWidth: 2, padding: .explicit(top: 1, left: 2, bottom: 0, right: 1))),
              [.random([2, 8, 7, 4]), .randomConstant([3, 3, 3, 4])]),
        .init("grouped 2 groups 4→6", .conv2d(.init(groups: 2, padding: .same)), [.random([1, 6, 6, 4]), .randomConstant([6, 3, 3, 2]), .randomConstant([6])]),
        .init("depthwise 3x3 hardSwish 7x5x8", .conv2d(.init(groups: 8, padding: .same, activation: .hardSwish)),
              [.random([1, 7, 5, 8]), .randomConstant([8, 3, 3, 1]), .randomConstant([8])]),
        .init("depthwise 5x5 s2 sameLower 13x11x3", .conv2d(.init(strideHeight: 2, strideWidth: 2, groups: 3, padding: .sameLower)),
              [.random([1, 13, 11, 3]), .randomConstant([3, 5, 5, 1])]),
        .init("valid 2x3 kernel stride 1x2", .conv2d(.init(strideHeight: 1, strideWidth: 2, padding: .valid)),
              [.random([1, 6, 9, 2]), .randomConstant([5, 2, 3, 2])]),
        .init("1x1 image 1 channel", .conv2d(.init(padding: .same)), [.random([1, 1, 1, 1]), .randomConstant([1, 3, 3, 1])]),
    ]

    static let transposedConvolutions: [OperatorCase] = [
        .init("2x2 s2 valid 4x5x3→4", .transposedConv2d(.init(strideHeight: 2, strideWidth: 2)),
              [.random([1, 4, 5, 3]), .randomConstant([4, 2, 2, 3])]),
        .init("3x3 s2 same bias relu", .transposedConv2d(.init(strideHeight: 2, strideWidth: 2, padding: .same, activation: .relu)),
              [.random([1, 5, 4, 6]), .randomConstant([2, 3, 3, 6]), .randomConstant([2])]),
        .init("4x4 s2 explicit 1", .transposedConv2d(.init(strideHeight: 2, strideWidth: 2, padding: .explicit(top: 1, left: 1, bottom: 1, right: 1))),
              [.random([1, 3, 3, 2]), .randomConstant([3, 4, 4, 2])]),
        .init("3x3 s2 output padding 1", .transposedConv2d(.init(strideHeight: 2, strideWidth: 2, outputPaddingHeight: 1, outputPaddingWidth: 1)),
              [.random([2, 3, 4, 2]), .randomConstant([2, 3, 3, 2])]),
        .init("1x1 s2 same (extra output padding)", .transposedConv2d(.init(strideHeight: 2, strideWidth: 2, padding: .same)),
              [.random([1, 3, 3, 2]), .randomConstant([2, 1, 1, 2])]),
        .init("grouped 2 s1 same", .transposedConv2d(.init(groups: 2, padding: .same)),
              [.random([1, 5, 5, 4]), .randomConstant([6, 3, 3, 2])]),
    ]

    static let pools: [OperatorCase] = [
        .init("max 2x2 s2 valid", .pool(.init(kind: .max, kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)), [.random([1, 7, 9, 3])]),
        .init("max 3x3 s2 same batch 2", .pool(.init(kind: .max, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: .same)), [.random([2, 8, 8, 11])]),
        .init("avg 3x3 same excluding padding", .pool(.init(kind: .average, kernelHeight: 3, kernelWidth: 3, padding: .same)), [.random([1, 5, 6, 9])]),
        .init("avg 3x3 s2 same including padding", .pool(.init(kind: .average, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: .same, countIncludesPadding: true)), [.random([1, 7, 7, 4])]),
        .init("avg 2x3 explicit pad", .pool(.init(kind: .average, kernelHeight: 2, kernelWidth: 3, padding: .explicit(top: 1, left: 0, bottom: 0, right: 2))), [.random([1, 4, 5, 2])]),
        .init("max 2x2 s2 ceil mode 7x9", .pool(.init(kind: .max, kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2, ceilMode: true)), [.random([1, 7, 9, 3])]),
        .init("avg 3x3 s2 pad 1 ceil mode including padding", .pool(.init(kind: .average, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: .explicit(top: 1, left: 1, bottom: 1, right: 1), countIncludesPadding: true, ceilMode: true)), [.random([1, 6, 8, 2])]),
        .init("avg 3x3 s2 ceil mode excluding padding", .pool(.init(kind: .average, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, ceilMode: true)), [.random([1, 6, 8, 2])]),
        .init("global average 5x7x11", .globalAveragePool, [.random([2, 5, 7, 11])]),
        .init("mean HW keep", .reduce(.init(kind: .mean, axes: [1, 2], keepDimensions: true)), [.random([1, 6, 5, 13])]),
        .init("mean last drop", .reduce(.init(kind: .mean, axes: [-1], keepDimensions: false)), [.random([2, 3, 7])]),
        .init("sum 0,2", .reduce(.init(kind: .sum, axes: [0, 2], keepDimensions: true)), [.random([3, 4, 5])]),
        .init("max axis 3", .reduce(.init(kind: .max, axes: [3], keepDimensions: true)), [.random([1, 2, 3, 5])]),
        .init("min all", .reduce(.init(kind: .min, axes: [], keepDimensions: false)), [.random([3, 5])]),
    ]

    static let resizes: [OperatorCase] = {
        var cases: [OperatorCase] = []
        let modes: [ResizeParameters.Mode] = [.bilinear] + NearestRounding.allCases.map { .nearest($0) }
        for t in CoordinateTransform.allCases {
            for m in modes {
                cases.append(.init("\(m) \(t) up to 11x13", .resize(.init(mode: m, coordinateTransform: t, target: .size(height: 11, width: 13))),
                                   [.random([1, 5, 7, 3])]))
                cases.append(.init("\(m) \(t) scales 0.5x0.75", .resize(.init(mode: m, coordinateTransform: t, target: .scales(height: 0.5, width: 0.75))),
                                   [.random([2, 9, 8, 9])]))
                cases.append(.init("\(m) \(t) scales 2 to 1 wide", .resize(.init(mode: m, coordinateTransform: t, target: .size(height: 1, width: 4))),
                                   [.random([1, 3, 2, 2])]))
            }
        }
        return cases
    }()

    @Test("convolution", arguments: convolutions) func convolution(_ c: OperatorCase) throws { try check(c) }
    @Test("transposed convolution", arguments: transposedConvolutions) func transposed(_ c: OperatorCase) throws { try check(c) }
    @Test("pooling and reductions", arguments: pools) func pooling(_ c: OperatorCase) throws { try check(c) }
    @Test("resize", arguments: resizes) func resize(_ c: OperatorCase) throws { try check(c) }
}
