import Foundation
import Testing
@testable import MattingEngine

@Suite("Activation post-pass kernels")
struct ActivationKernelTests {
    /// The vectorised sigmoid (AVX-512 path) against the double-precision formula on a dense
    /// sweep of −110…110 (both saturations, underflow, every tail length) plus the special
    /// values. On a CPU without AVX-512 the path is absent from `KernelISA.supported` and the
    /// scalar `Activation.apply` is what runs (and is checked) instead.
    ///
    /// Tolerance: 8 float ulps relative where the result is a normal float, 1e-37 absolute
    /// below (a polynomial exp with exact range reduction is good to a few ulps; the scalar
    /// path to 1–2).
    @Test("sigmoid matches the double-precision formula", arguments: KernelISA.supported)
    func sigmoid(isa: KernelISA) {
        let count = 200_003  // not a multiple of 16: the masked tail runs too
        var x = (0..<count).map { Float(-110 + 220 * Double($0) / Double(count - 1)) }
        x += [0, -0, .infinity, -.infinity, .nan, 1e-30, -1e-30, 88.7, -88.7, 16.6, -16.6]
        var y = x
        y.withUnsafeMutableBufferPointer { Activation.sigmoid.applyPostPass($0.baseAddress!, count: $0.count, isa: isa) }
        var worst = 0.0, worstX: Float = 0
        for (xi, yi) in zip(x, y) where !xi.isNaN {
            let r = 1 / (1 + Foundation.exp(-Double(xi)))
            let error = r >= Double(Float.leastNormalMagnitude) ? abs(Double(yi) - r) / r / Double(Float.ulpOfOne) : abs(Double(yi) - r) / 1e-37
            if error > worst { (worst, worstX) = (error, xi) }
        }
        #expect(worst <= 8, "\(isa): \(worst) ulp at x = \(worstX)")
        #expect(y[count + 4].isNaN)
        #expect(y[count + 2] == 1 && y[count + 3] == 0 && y[count] == 0.5 && y[count + 1] == 0.5)
        // In the unit interval, as a matte must be.
        #expect(y.allSatisfy { $0.isNaN || (0...1).contains($0) })
    }
}
