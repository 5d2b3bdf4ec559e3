/// A convolution with its weights prepared once, run many times over NHWC float tensors.
///
/// Input is `[batch][inputHeight][inputWidth][inputChannels]`, output
/// `[batch][outputHeight][outputWidth][outputChannels]`, both dense. Padding is implicit
/// zeros. The bias (if any) is added and then `activation` applied to every output.
///
/// CONTRACT (shared by the graph runtime): this type's initialiser and `run` signature are
/// the interface; the implementation behind them is free to change.
final class ConvolutionKernel: Sendable {
    let geometry: ConvolutionGeometry
    let activation: Activation
    let weights: [Float]  // OHWI
    let bias: [Float]

    /// - Parameters:
    ///   - weights: `geometry.weightCount` values in OHWI order.
    ///   - bias: `outputChannels` values, or `nil` for none.
    init(geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation) {
        precondition(geometry.validationFailure() == nil, geometry.validationFailure() ?? "")
        precondition(weights.count == geometry.weightCount, "weight count mismatch")
        precondition(bias == nil || bias!.count == geometry.outputChannels, "bias count mismatch")
        self.geometry = geometry
        self.activation = activation
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: geometry.outputChannels)
    }

    /// Scratch memory `run` needs for an input of this size (bytes; 0 if none).
    func scratchByteCount(inputHeight: Int, inputWidth: Int, threadCount: Int) -> Int { 0 }

    /// Computes the convolution. `scratch` must hold `scratchByteCount(...)` bytes, 64-byte aligned.
    func run(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?, threads: ThreadPool
    ) {
        let g = geometry
        let (outH, outW) = g.convolutionOutputSize(height: inputHeight, width: inputWidth)
        let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
        weights.withUnsafeBufferPointer { w in
            threads.parallelFor(batch * outH) { row in
                let n = row / outH, oy = row % outH
                for ox in 0..<outW {
                    let out = output + ((n * outH + oy) * outW + ox) * g.outputChannels
                    for oc in 0..<g.outputChannels {
                        let group = oc / ocg
                        var sum: Float = bias[oc]
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
                            if iy < 0 || iy >= inputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
                                if ix < 0 || ix >= inputWidth { continue }
                                let inp = input + ((n * inputHeight + iy) * inputWidth + ix) * g.inputChannels + group * icg
                                let wp = w.baseAddress! + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * icg
                                for ic in 0..<icg { sum += inp[ic] * wp[ic] }
                            }
                        }
                        out[oc] = activation.apply(sum)
                    }
                }
            }
        }
    }
}

/// A transposed convolution ("deconvolution") with prepared weights, over NHWC tensors.
///
/// `output[oy][ox][oc] = bias[oc] + Σ input[iy][ix][ic] · w[oc][ky][kx][ic]` over all
/// `oy = iy·strideH + ky·dilationH − padTop`, `ox = ix·strideW + kx·dilationW − padLeft`
/// inside the output (see `ConvolutionGeometry.transposedOutputSize`); then `activation`.
/// This is TFLite's TRANSPOSE_CONV and MediaPipe's `Convolution2DTransposeBias`.
/// Groups are supported; weights are `[outC][kh][kw][inC / groups]`.
final class TransposedConvolutionKernel: Sendable {
    let geometry: ConvolutionGeometry
    let activation: Activation
    let weights: [Float]
    let bias: [Float]

    init(geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?, activation: Activation) {
        precondition(geometry.validationFailure() == nil, geometry.validationFailure() ?? "")
        precondition(weights.count == geometry.weightCount, "weight count mismatch")
        precondition(bias == nil || bias!.count == geometry.outputChannels, "bias count mismatch")
        self.geometry = geometry
        self.activation = activation
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: geometry.outputChannels)
    }

    func scratchByteCount(inputHeight: Int, inputWidth: Int, threadCount: Int) -> Int { 0 }

    func run(
        input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?, threads: ThreadPool
    ) {
        let g = geometry
        let (outH, outW) = g.transposedOutputSize(height: inputHeight, width: inputWidth)
        let icg = g.inputChannelsPerGroup, ocg = g.outputChannelsPerGroup
        weights.withUnsafeBufferPointer { w in
            // Gather form: each output pixel sums the input pixels that scatter into it,
            // so every output has exactly one writer.
            threads.parallelFor(batch * outH) { row in
                let n = row / outH, oy = row % outH
                for ox in 0..<outW {
                    let out = output + ((n * outH + oy) * outW + ox) * g.outputChannels
                    for oc in 0..<g.outputChannels {
                        let group = oc / ocg
                        var sum: Float = bias[oc]
                        for ky in 0..<g.kernelHeight {
                            let ty = oy + g.padTop - ky * g.dilationHeight
                            if ty < 0 || ty % g.strideHeight != 0 { continue }
                            let iy = ty / g.strideHeight
                            if iy >= inputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let tx = ox + g.padLeft - kx * g.dilationWidth
                                if tx < 0 || tx % g.strideWidth != 0 { continue }
                                let ix = tx / g.strideWidth
                                if ix >= inputWidth { continue }
                                let inp = input + ((n * inputHeight + iy) * inputWidth + ix) * g.inputChannels + group * icg
                                let wp = w.baseAddress! + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * icg
                                for ic in 0..<icg { sum += inp[ic] * wp[ic] }
                            }
                        }
                        out[oc] = activation.apply(sum)
                    }
                }
            }
        }
    }
}
