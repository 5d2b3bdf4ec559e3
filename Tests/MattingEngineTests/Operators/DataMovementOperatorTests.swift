import MattingEngine
import MattingTestSupport
import Testing

@Suite("Data-movement operators vs reference")
struct DataMovementOperatorTests {
    static let cases: [OperatorCase] = [
        .init("concat channels", .concat(axis: -1), [.random([1, 3, 4, 2]), .random([1, 3, 4, 5]), .random([1, 3, 4, 1])]),
        .init("concat axis 1", .concat(axis: 1), [.random([2, 3, 4]), .random([2, 1, 4])]),
        .init("split channels", .split(axis: 3, sizes: [1, 3, 4]), [.random([1, 2, 3, 8])]),
        .init("split axis 0", .split(axis: 0, sizes: [2, 1]), [.random([3, 5])]),
        .init("slice steps 2", .slice(.init(starts: [1, 0], ends: [7, 5], axes: [1, 2], steps: [2, 2])), [.random([1, 8, 5, 3])]),
        .init("slice negative indices", .slice(.init(starts: [-3], ends: [-1], axes: [-1])), [.random([2, 3, 7])]),
        .init("slice negative step", .slice(.init(starts: [-1, 4], ends: [Int.min, 0], axes: [0, 1], steps: [-1, -3])), [.random([4, 6])]),
        .init("slice to end", .slice(.init(starts: [2], ends: [Int.max], axes: [1])), [.random([3, 5, 2])]),
        .init("slice empty", .slice(.init(starts: [3], ends: [1], axes: [0])), [.random([5, 2])]),
        .init("pad constant", .pad(before: [0, 2, 1, 0], after: [0, 1, 3, 0], mode: .constant(0.5)), [.random([1, 3, 4, 2])]),
        .init("pad reflect", .pad(before: [0, 2, 1, 0], after: [0, 1, 3, 0], mode: .reflect), [.random([1, 3, 4, 2])]),
        .init("pad edge", .pad(before: [0, 2, 1, 1], after: [1, 1, 3, 0], mode: .edge), [.random([1, 3, 4, 2])]),
        .init("pad channels constant", .pad(before: [0, 0, 0, 1], after: [0, 0, 0, 2], mode: .constant(0)), [.random([1, 2, 2, 3])]),
        .init("transpose NHWC→NCHW", .transpose(permutation: [0, 3, 1, 2]), [.random([2, 3, 4, 5])]),
        .init("transpose 3-D", .transpose(permutation: [2, 0, 1]), [.random([3, 1, 7])]),
        .init("reshape -1 and 0", .reshape(shape: [0, -1, 4]), [.random([2, 3, 8])]),
        .init("flatten axis 1", .flatten(axis: 1), [.random([2, 3, 4])]),
        .init("squeeze", .squeeze(axes: [0, 2]), [.random([1, 3, 1, 4])]),
        .init("unsqueeze", .unsqueeze(axes: [0, -1]), [.random([3, 4])]),
        .init("gather axis 0", .gather(axis: 0), [.random([5, 4]), .constant(Tensor(shape: [3], int64s: [3, -1, 0]))]),
        .init("gather axis 1 2-D indices", .gather(axis: 1), [.random([2, 5, 3]), .constant(Tensor(shape: [2, 2], int64s: [4, 0, 1, 1]))]),
        .init("depth to space 2", .depthToSpace(blockSize: 2), [.random([1, 3, 4, 8])]),
        .init("expand [3,1] to [2,3,4]", .expand, [.random([3, 1]), .constant(Tensor(shape: [3], int64s: [2, 3, 4]))]),
        .init("expand keeps larger dims", .expand, [.random([2, 1, 5]), .constant(Tensor(shape: [2], int64s: [3, 1]))]),
        .init("resize size from input", .resize(.init(mode: .bilinear, coordinateTransform: .halfPixel, target: .sizeFromInput)),
              [.random([1, 4, 5, 3]), .constant(Tensor(shape: [2], int64s: [7, 3]))]),
        .init("resize scales from input NHWC", .resize(.init(mode: .nearest(.floor), coordinateTransform: .asymmetric, target: .scalesFromInput)),
              [.random([1, 4, 5, 3]), .constant(Tensor(shape: [4], floats: [1, 2, 1.5, 1]))]),
        .init("cast to int64", .cast(to: .int64), [.random([2, 7], range: -50...50)]),
    ]

    @Test("data movement", arguments: cases) func dataMovement(_ c: OperatorCase) throws { try check(c) }
}
