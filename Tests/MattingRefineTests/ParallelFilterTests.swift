import MattingThreads
import Testing
import MattingImage
import MattingTestSupport
@testable import MattingRefine

/// The threaded, row-chunked min/max and Gaussian kernels against their single-pass
/// definitions, on shapes around the 64-column strip (below, equal, above, primes).
@Suite struct ParallelFilterTests {
    static let shapes: [(Int, Int)] = [(1, 1), (5, 3), (63, 7), (64, 64), (65, 17), (131, 97)]

    /// Bit-identical to the unthreaded `filter1D` rows-then-columns definition, any thread count.
    @Test(arguments: shapes.indices) func minMaxMatchesFilter1D(_ i: Int) {
        let (w, h) = Self.shapes[i]
        let plane = Plane(randomImage(w, h, layout: .gray, seed: UInt64(50 + i)))
        for (r, isMin) in [(1, true), (1, false), (2, true), (2, false), (5, true), (5, false)] {
            var expected = plane
            expected.data.withUnsafeMutableBufferPointer { d in
                let d = d.baseAddress!
                for y in 0..<h { MinMaxKernel.filter1D(d + y * w, d + y * w, count: w, lanes: 1, step: 1, radius: r, isMin: isMin) }
                MinMaxKernel.filter1D(d, d, count: h, lanes: w, step: w, radius: r, isMin: isMin)
            }
            for threads in [1, 2, 3] {
                let out = MinMaxKernel.filter(plane, radius: r, isMin: isMin, pool: ThreadPool(threadCount: threads))
                #expect(out.data == expected.data, "\(w)×\(h) r=\(r) min=\(isMin) threads=\(threads)")
            }
        }
    }

    /// Bit-identical to the direct definition (vertical taps, then horizontal taps with clamped
    /// indices, each summed in tap order from 0, then clamped to 0…1), any thread count.
    @Test(arguments: shapes.indices) func featherMatchesDirectSum(_ i: Int) {
        let (w, h) = Self.shapes[i]
        let matte = randomImage(w, h, layout: .gray, seed: UInt64(60 + i))
        let src = Plane(matte).data
        for sigma: Float in [0.5, 1.5, 3] {
            let taps = GaussianKernel.taps(sigma: sigma), r = taps.count / 2
            var tmp = [Float](repeating: 0, count: w * h), expected = tmp
            for y in 0..<h {
                for x in 0..<w {
                    var acc: Float = 0
                    for (k, tap) in taps.enumerated() { acc = acc + tap * src[min(max(y + k - r, 0), h - 1) * w + x] }
                    tmp[y * w + x] = acc
                }
            }
            for y in 0..<h {
                for x in 0..<w {
                    var acc: Float = 0
                    for (k, tap) in taps.enumerated() { acc = acc + tap * tmp[y * w + min(max(x + k - r, 0), w - 1)] }
                    expected[y * w + x] = acc > 0 ? min(acc, 1) : 0
                }
            }
            for threads in [1, 2, 3] {
                let out = GaussianKernel.blurred(matte, sigma: sigma, pool: ThreadPool(threadCount: threads))
                #expect(out.packedComponents == expected, "\(w)×\(h) σ=\(sigma) threads=\(threads)")
            }
        }
    }
}
