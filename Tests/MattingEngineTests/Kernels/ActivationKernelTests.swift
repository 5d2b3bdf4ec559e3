import Foundation
import Testing
@testable import MattingEngine

@Suite("Activation post-pass kernels")
struct ActivationKernelTests {
    /// The vectorised sigmoid of every path this CPU runs (`vsigmoid.c`: portable, AVX2,
    /// AVX-512) against the double-precision formula on a dense sweep of −110…110 (both
    /// saturations, underflow, every tail length of the 4-, 8- and 16-lane loops) plus the
    /// special values.
    ///
    /// Tolerance: 8 float ulps relative where the result is a normal float, 1e-37 absolute
    /// below (the exp is good to 1.6e-7 relative, about 1.3 ulps, and the division and
    /// `1 − f` add one or two; below −87.34 the kernels give 0, the exact value being
    /// under 1.2e-38).
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

    /// The vectorised exact GELU of every path (`KernelISA.geluMicrokernel`) against
    /// `0.5 · x · (1 + erf(x / √2))` in double, on a dense sweep of −30…30 (the erfc tail, the
    /// exp underflow, every tail length of the 4- and 8-lane loops) and special values.
    ///
    /// Tolerance: `|fast − ref| ≤ 3e-7 · max(1, |x|)`. The erfc approximation (Abramowitz &
    /// Stegun 7.1.26) is good to 1.5e-7 absolute, which GELU scales by `x / 2`; float rounding
    /// of the result adds about 1e-7 relative. A wrong coefficient, lane or tail gives errors of
    /// 1e-3 and more.
    @Test("GELU matches the double-precision formula", arguments: KernelISA.supported)
    func gelu(isa: KernelISA) {
        let count = 120_007  // odd: every path's partial last vector runs
        var x = (0..<count).map { Float(-30 + 60 * Double($0) / Double(count - 1)) }
        x += [0, -0, .infinity, 1e-30, -1e-30, 88.7, -88.7, 5, -5, 1e-3, -1e-3]
        for tail in 0..<9 {
            // Short calls: only the tail handling runs.
            var t = Array(x[1000..<(1000 + tail)]), ref = t
            t.withUnsafeMutableBufferPointer { isa.geluMicrokernel(tail, $0.baseAddress!, $0.baseAddress!) }
            for i in 0..<tail { ref[i] = Float(0.5 * Double(ref[i]) * (1 + erf(Double(ref[i]) / 2.0.squareRoot()))) }
            for i in 0..<tail { #expect(abs(t[i] - ref[i]) <= 3e-7 * max(1, abs(x[1000 + i])), "\(isa) tail \(tail)") }
        }
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { isa.geluMicrokernel(xs.count, xs.baseAddress!, $0.baseAddress!) }
        }
        var worst = 0.0, worstX: Float = 0
        for (xi, yi) in zip(x, y) where xi.isFinite {
            let r = 0.5 * Double(xi) * (1 + erf(Double(xi) / 2.0.squareRoot()))
            let error = abs(Double(yi) - r) / max(1, abs(Double(xi)))
            if error > worst { (worst, worstX) = (error, xi) }
        }
        #expect(worst <= 3e-7, "\(isa): error \(worst) at x = \(worstX)")
        #expect(y[count + 2] == .infinity)
        #expect(y[count] == 0 && y[count + 1] == 0)
        // In place gives the same values; NaN stays NaN.
        var z = x + [.nan]
        z.withUnsafeMutableBufferPointer { isa.geluMicrokernel($0.count, $0.baseAddress!, $0.baseAddress!) }
        #expect(Array(z.prefix(x.count)).elementsEqual(y) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(z.last!.isNaN)
    }

    /// A softmax row before its division: every value `exp(scale · s − max)` and their sum, on
    /// every ISA path, against doubles. The argument is rounded once (AVX2, a fused
    /// multiply-subtract) or twice (portable), which costs up to half an ulp of the argument
    /// (relative error about |argument| · 6e-8) on top of the polynomial's 1e-7; a wrong lane,
    /// tail, maximum or coefficient gives errors of 1e-3 and more.
    @Test("softmax numerators match the double-precision formula", arguments: KernelISA.supported)
    func softmaxNumerators(isa: KernelISA) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let lengths = Array(0...40) + [63, 64, 65, 1000, 1024, 4099]
        for (index, count) in lengths.enumerated() {
            let scale: Float = [1, 0.17677669, -0.5, 3][index % 4]
            var row = (0..<count).map { _ in 40 * uniform() - 20 }
            if count > 5 && scale > 0 { row[count / 3] = -.infinity; row[count / 2] = -1e30 }   // masked keys: 0
            let input = row
            let sum = row.withUnsafeMutableBufferPointer { isa.softmaxMicrokernel(count, scale, $0.baseAddress!) }
            let top = input.map { Double(Float(scale) * $0) }.max() ?? 0
            var refSum = 0.0
            for (j, x) in input.enumerated() {
                let argument = Double(scale) * Double(x) - top
                let ref = x.isInfinite || abs(argument) > 1e20 ? 0 : Foundation.exp(argument)
                refSum += ref
                let bound = ref == 0 ? 1e-37 : 3e-7 * ref * (1 + abs(Double(scale * x)) + abs(argument)) + 1e-37
                #expect(abs(Double(row[j]) - ref) <= bound, "\(isa) n \(count) j \(j): \(row[j]) vs \(ref)")
            }
            #expect(abs(Double(sum) - refSum) <= 1e-6 * max(refSum, 1e-30) + 1e-37, "\(isa) n \(count): sum \(sum) vs \(refSum)")
            // The maximum's value is e^0 (within the fused argument's rounding on AVX2).
            if count > 0 { #expect(abs((row.max() ?? 0) - 1) <= 2.5e-7, "\(isa) n \(count): largest \(row.max() ?? 0)") }
        }
        // Everything masked gives NaN, as onnxruntime does; a NaN spreads to its value and the sum.
        var masked = [Float](repeating: -.infinity, count: 19)
        let maskedSum = masked.withUnsafeMutableBufferPointer { isa.softmaxMicrokernel(19, 1, $0.baseAddress!) }
        #expect(maskedSum.isNaN && masked.allSatisfy(\.isNaN), "\(isa)")
        var withNaN: [Float] = (0..<21).map { Float($0) / 7 }
        withNaN[9] = .nan
        let nanSum = withNaN.withUnsafeMutableBufferPointer { isa.softmaxMicrokernel(21, 1, $0.baseAddress!) }
        #expect(nanSum.isNaN && withNaN[9].isNaN && withNaN[20] == 1, "\(isa): \(withNaN)")
    }

    /// Layer normalisation of rows, on every ISA path, against doubles: each row's mean and
    /// biased variance, (x − μ) / √(σ² + ε) · scale + offset. Rows of 0…40 values and longer
    /// ones (every tail length, a transformer's 96 and 768), off-centre data (mean 3) so a
    /// one-pass variance or a wrong mean shows; in place (y == x) equal to out of place.
    @Test("layer norm rows match the double-precision formula", arguments: KernelISA.supported)
    func layerNormRows(isa: KernelISA) {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let rows = 3, epsilon: Float = 1e-5
        for n in Array(1...40) + [63, 64, 65, 96, 768, 1001] {
            let x = (0..<(rows * n)).map { _ in 3 + 4 * uniform() - 2 }
            let scale = (0..<n).map { _ in 2 * uniform() - 1 }, offset = (0..<n).map { _ in uniform() - 0.5 }
            var y = [Float](repeating: .nan, count: rows * n)
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    isa.layerNormMicrokernel(rows, n, x.baseAddress!, y.baseAddress!, scale, offset, epsilon)
                }
            }
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { v in
                isa.layerNormMicrokernel(rows, n, v.baseAddress!, v.baseAddress!, scale, offset, epsilon)
            }
            #expect(inPlace == y, "\(isa) n \(n): in place differs")
            for r in 0..<rows {
                let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
                let mean = row.reduce(0, +) / Double(n)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                let inverse = 1 / (variance + Double(epsilon)).squareRoot()
                for k in 0..<n {
                    let ref = (row[k] - mean) * inverse * Double(scale[k]) + Double(offset[k])
                    let got = Double(y[r * n + k])
                    #expect(abs(got - ref) <= 2e-5 * (1 + abs(ref)), "\(isa) n \(n) row \(r) k \(k): \(got) vs \(ref)")
                }
            }
        }
    }
}
