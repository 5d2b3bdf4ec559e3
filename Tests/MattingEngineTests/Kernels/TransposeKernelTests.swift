import Foundation
import MattingTestSupport
import Testing
@testable import MattingEngine

/// The tiled transpose (`TransposePlan` + the path's `mk_x32_transpose_ukernel_*`) against
/// an index-by-index copy: exact equality (it only moves bits). Shapes straddle the 4×4 and
/// 8×8 register blocks and the 64×64 tiles (below, equal, above, primes), with batch axes
/// before, between and after the transposed pair, on every supported path and 1 or 3 threads.
@Suite("Transpose kernel")
struct TransposeKernelTests {
    static let cases: [(shape: [Int], permutation: [Int])] = [
        ([1, 64, 64, 3], [0, 3, 1, 2]), ([1, 7, 9, 65], [0, 3, 1, 2]), ([2, 5, 3, 130], [0, 3, 1, 2]),
        ([1, 33, 71, 8], [0, 3, 1, 2]), ([1, 3, 67, 129], [0, 2, 3, 1]), ([2, 16, 8, 65], [0, 2, 3, 1]),
        ([128, 129], [1, 0]), ([63, 257], [1, 0]), ([3, 4, 37, 41], [0, 1, 3, 2]), ([5, 17, 6, 9], [2, 0, 3, 1]),
    ]

    /// Output `i` of the copy, computed from the permutation alone.
    static func expected(_ x: [UInt32], shape: [Int], permutation: [Int]) -> [UInt32] {
        let out = permutation.map { shape[$0] }
        let inStrides = (0..<shape.count).map { a in shape[(a + 1)...].reduce(1, *) }
        var y: [UInt32] = []
        y.reserveCapacity(x.count)
        forEachIndex(out) { i in
            y.append(x[zip(i, permutation).map { $0 * inStrides[$1] }.reduce(0, +)])
        }
        return y
    }

    @Test("equals the index-by-index copy", arguments: KernelISA.supported, cases.indices)
    func matchesReference(isa: KernelISA, caseIndex: Int) throws {
        let (shape, permutation) = Self.cases[caseIndex]
        var rng = SeededGenerator(seed: UInt64(caseIndex + 1))
        // Bit patterns, NaNs included: a transpose must move them unchanged.
        let x = (0..<shape.reduce(1, *)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        let want = Self.expected(x, shape: shape, permutation: permutation)
        let inStrides = (0..<shape.count).map { a in shape[(a + 1)...].reduce(1, *) }
        let op = StridedCopyOperator(outputShape: permutation.map { shape[$0] }, strides: permutation.map { inStrides[$0] },
                                     baseOffset: 0, elementSize: 4, isa: isa)
        #expect(op.plan != nil || x.count < 4096, "\(shape) \(permutation): no tiled plan")
        for threads in [1, 3] {
            let pool = ThreadPool(threadCount: threads)
            var y = [UInt32](repeating: 0, count: x.count)
            x.withUnsafeBytes { xb in
                y.withUnsafeMutableBytes { yb in
                    var ins = [xb.baseAddress!], outs = [yb.baseAddress!]
                    ins.withUnsafeBufferPointer { ip in
                        outs.withUnsafeMutableBufferPointer { op2 in
                            op.execute(OperatorIO(inputs: ip.baseAddress!, outputs: UnsafePointer(op2.baseAddress!), scratch: nil),
                                       pool: pool)
                        }
                    }
                }
            }
            #expect(y == want, "\(isa) \(shape) \(permutation) threads \(threads)")
        }
    }
}
