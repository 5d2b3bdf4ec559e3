import MattingEngine

/// The shape of a reference convolution (mirrors the engine's internal `ConvolutionGeometry`).
public struct ReferenceConvolutionShape: Sendable, Hashable, CustomStringConvertible {
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight = 1
    public var strideWidth = 1
    public var dilationHeight = 1
    public var dilationWidth = 1
    public var groups = 1
    public var padTop = 0
    public var padLeft = 0
    public var padBottom = 0
    public var padRight = 0
    public var outputPaddingHeight = 0
    public var outputPaddingWidth = 0

    public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
    }

    public var weightCount: Int { outputChannels * kernelHeight * kernelWidth * (inputChannels / groups) }

    public func convolutionOutputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + padTop + padBottom - dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1,
         (width + padLeft + padRight - dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1)
    }

    public func transposedOutputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height - 1) * strideHeight + dilationHeight * (kernelHeight - 1) + 1 - padTop - padBottom + outputPaddingHeight,
         (width - 1) * strideWidth + dilationWidth * (kernelWidth - 1) + 1 - padLeft - padRight + outputPaddingWidth)
    }

    public var description: String {
        "\(kernelHeight)×\(kernelWidth) \(inputChannels)→\(outputChannels) s\(strideHeight)×\(strideWidth) d\(dilationHeight)×\(dilationWidth) g\(groups) pad t\(padTop) l\(padLeft) b\(padBottom) r\(padRight) op\(outputPaddingHeight)×\(outputPaddingWidth)"
    }
}

/// Slow, obviously correct kernels: the twins every fast kernel is tested against.
///
/// Sums accumulate in `Double`; the result is rounded to `Float` once, then the activation
/// is applied with `Activation.apply` (the definition every kernel matches).
public enum ReferenceKernels {
    /// `C[m×n] = A[m×k] · B[k×n] + bias`, then activation; A and B row-major and dense.
    public static func gemm(
        m: Int, n: Int, k: Int, a: [Float], b: [Float], bias: [Float]?, activation: Activation = .identity
    ) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = Double(bias?[j] ?? 0)
                for kk in 0..<k { sum += Double(a[i * k + kk]) * Double(b[kk * n + j]) }
                c[i * n + j] = activation.apply(Float(sum))
            }
        }
        return c
    }

    /// NHWC convolution with OHWI weights `[outC][kh][kw][inC/groups]`, implicit zero padding.
    public static func convolution(
        _ s: ReferenceConvolutionShape, input: [Float], batch: Int, height: Int, width: Int,
        weights: [Float], bias: [Float]?, activation: Activation = .identity
    ) -> [Float] {
        let (outH, outW) = s.convolutionOutputSize(height: height, width: width)
        let icg = s.inputChannels / s.groups, ocg = s.outputChannels / s.groups
        var out = [Float](repeating: 0, count: batch * outH * outW * s.outputChannels)
        for n in 0..<batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    for oc in 0..<s.outputChannels {
                        let grp = oc / ocg
                        var sum = Double(bias?[oc] ?? 0)
                        for ky in 0..<s.kernelHeight {
                            let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                            if iy < 0 || iy >= height { continue }
                            for kx in 0..<s.kernelWidth {
                                let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                                if ix < 0 || ix >= width { continue }
                                let inBase = ((n * height + iy) * width + ix) * s.inputChannels + grp * icg
                                let wBase = ((oc * s.kernelHeight + ky) * s.kernelWidth + kx) * icg
                                for ic in 0..<icg { sum += Double(input[inBase + ic]) * Double(weights[wBase + ic]) }
                            }
                        }
                        out[((n * outH + oy) * outW + ox) * s.outputChannels + oc] = activation.apply(Float(sum))
                    }
                }
            }
        }
        return out
    }

    /// NHWC transposed convolution (gather form): output (oy, ox) sums input (iy, ix) · w[oc][ky][kx]
    /// over `oy = iy·strideH + ky·dilationH − padTop`, `ox = ix·strideW + kx·dilationW − padLeft`.
    public static func transposedConvolution(
        _ s: ReferenceConvolutionShape, input: [Float], batch: Int, height: Int, width: Int,
        weights: [Float], bias: [Float]?, activation: Activation = .identity
    ) -> [Float] {
        let (outH, outW) = s.transposedOutputSize(height: height, width: width)
        let icg = s.inputChannels / s.groups, ocg = s.outputChannels / s.groups
        var out = [Float](repeating: 0, count: batch * outH * outW * s.outputChannels)
        for n in 0..<batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    for oc in 0..<s.outputChannels {
                        let grp = oc / ocg
                        var sum = Double(bias?[oc] ?? 0)
                        for ky in 0..<s.kernelHeight {
                            let ty = oy + s.padTop - ky * s.dilationHeight
                            if ty < 0 || ty % s.strideHeight != 0 { continue }
                            let iy = ty / s.strideHeight
                            if iy >= height { continue }
                            for kx in 0..<s.kernelWidth {
                                let tx = ox + s.padLeft - kx * s.dilationWidth
                                if tx < 0 || tx % s.strideWidth != 0 { continue }
                                let ix = tx / s.strideWidth
                                if ix >= width { continue }
                                let inBase = ((n * height + iy) * width + ix) * s.inputChannels + grp * icg
                                let wBase = ((oc * s.kernelHeight + ky) * s.kernelWidth + kx) * icg
                                for ic in 0..<icg { sum += Double(input[inBase + ic]) * Double(weights[wBase + ic]) }
                            }
                        }
                        out[((n * outH + oy) * outW + ox) * s.outputChannels + oc] = activation.apply(Float(sum))
                    }
                }
            }
        }
        return out
    }

    /// The error measure kernel tests use: `max |actual − expected| / (max |expected| + 1e-6)`.
    public static func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        precondition(actual.count == expected.count, "count mismatch \(actual.count) vs \(expected.count)")
        var maxDiff = 0.0, maxRef = 0.0
        for i in expected.indices {
            let d = abs(Double(actual[i]) - Double(expected[i]))
            maxDiff = d.isNaN ? .infinity : max(maxDiff, d)
            maxRef = max(maxRef, abs(Double(expected[i])))
        }
        return maxDiff / (maxRef + 1e-6)
    }
}
