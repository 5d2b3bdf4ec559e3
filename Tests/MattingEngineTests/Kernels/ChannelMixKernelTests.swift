import Foundation
import MattingTestSupport
import Testing
@testable import MattingEngine

/// The weights-on-the-left pointwise convolution (`channelMix`) against the double-precision
/// reference (tolerance of `OperatorHarness.swift`) on every supported path, with channel and
/// pixel counts around the tile (mr 6/8, nr 16/32), the task (nc 256 pixels, mc 72/96 rows)
/// and the K block (256): equal, below, above, primes; 1 and 3 threads give identical bits.
@Suite("Channel-mix (1×1 NCHW) kernel")
struct ChannelMixKernelTests {
    static let shapes: [(batch: Int, c: Int, o: Int, pixels: Int)] = [
        (1, 1, 1, 1), (1, 3, 5, 17), (2, 8, 16, 256), (1, 16, 7, 257), (1, 257, 9, 31), (2, 31, 73, 300),
        (1, 300, 97, 40), (1, 64, 6, 513), (1, 5, 33, 1),
    ]

    @Test("matches the reference", arguments: KernelISA.supported, shapes.indices)
    func matchesReference(isa: KernelISA, index: Int) throws {
        let (batch, c, o, pixels) = Self.shapes[index]
        var rng = SeededGenerator(seed: UInt64(1000 + index))
        let x = rng.floats(batch * c * pixels), w = rng.floats(o * c), bias = rng.floats(o)
        let activation: Activation = index % 2 == 0 ? .relu : .identity
        var want = [Double](repeating: 0, count: batch * o * pixels)
        for n in 0..<batch {
            for oc in 0..<o {
                for p in 0..<pixels {
                    var s = Double(bias[oc])
                    for k in 0..<c { s += Double(w[oc * c + k]) * Double(x[(n * c + k) * pixels + p]) }
                    want[(n * o + oc) * pixels + p] = activation == .relu ? max(s, 0) : s
                }
            }
        }
        var results: [[Float]] = []
        for threads in [1, 3] {
            let op = ChannelMixOperator(batch: batch, inputChannels: c, outputChannels: o, pixels: pixels, weights: w, bias: bias,
                                        activation: activation, isa: isa, threads: threads)
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: op.scratchByteCount, alignment: 64)
            defer { scratch.deallocate() }
            var y = [Float](repeating: .nan, count: batch * o * pixels)
            x.withUnsafeBytes { xb in
                y.withUnsafeMutableBytes { yb in
                    let ins = [xb.baseAddress!], outs = [yb.baseAddress!]
                    ins.withUnsafeBufferPointer { ip in
                        outs.withUnsafeBufferPointer { op2 in
                            op.execute(OperatorIO(inputs: ip.baseAddress!, outputs: op2.baseAddress!, scratch: scratch),
                                       pool: ThreadPool(threadCount: threads))
                        }
                    }
                }
            }
            results.append(y)
        }
        let err = zip(results[0], want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(err <= tolerance, "\(isa) \(Self.shapes[index]): max relative error \(err)")
        #expect(results[0] == results[1], "\(isa) \(Self.shapes[index]): 1 and 3 threads differ")
    }
}
