/// The shape parameters of a 2-D convolution or transposed convolution over NHWC tensors.
///
/// Weights are always `[outputChannels][kernelHeight][kernelWidth][inputChannels / groups]`
/// (OHWI, TFLite's layout); importers transpose other layouts at load time.
struct ConvolutionGeometry: Sendable, Hashable, CustomStringConvertible {
    var inputChannels: Int
    var outputChannels: Int
    var kernelHeight: Int
    var kernelWidth: Int
    var strideHeight: Int = 1
    var strideWidth: Int = 1
    var dilationHeight: Int = 1
    var dilationWidth: Int = 1
    var groups: Int = 1
    /// Implicit zero padding (convolution), or output cropping (transposed convolution).
    var padTop: Int = 0
    var padLeft: Int = 0
    var padBottom: Int = 0
    var padRight: Int = 0
    /// Extra rows/columns added at the bottom/right of a transposed convolution's output
    /// (ONNX `output_padding`); ignored by ordinary convolution.
    var outputPaddingHeight: Int = 0
    var outputPaddingWidth: Int = 0

    /// Whether each output channel sees exactly one input channel (groups == in == out).
    var isDepthwise: Bool { groups == inputChannels && groups == outputChannels && groups > 1 }

    var inputChannelsPerGroup: Int { inputChannels / groups }
    var outputChannelsPerGroup: Int { outputChannels / groups }

    /// Number of weights: `outputChannels × kernelHeight × kernelWidth × inputChannels / groups`.
    var weightCount: Int { outputChannels * kernelHeight * kernelWidth * inputChannelsPerGroup }

    /// The output size of a convolution over a `height × width` input.
    func convolutionOutputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let effectiveKH = dilationHeight * (kernelHeight - 1) + 1
        let effectiveKW = dilationWidth * (kernelWidth - 1) + 1
        return ((height + padTop + padBottom - effectiveKH) / strideHeight + 1,
                (width + padLeft + padRight - effectiveKW) / strideWidth + 1)
    }

    /// The output size of a transposed convolution over a `height × width` input.
    func transposedOutputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height - 1) * strideHeight + dilationHeight * (kernelHeight - 1) + 1
            - padTop - padBottom + outputPaddingHeight,
         (width - 1) * strideWidth + dilationWidth * (kernelWidth - 1) + 1
            - padLeft - padRight + outputPaddingWidth)
    }

    /// Checks the parameters describe a computable convolution; returns a reason if not.
    func validationFailure() -> String? {
        if inputChannels < 1 || outputChannels < 1 { return "channel counts must be positive" }
        if kernelHeight < 1 || kernelWidth < 1 { return "kernel size must be positive" }
        if strideHeight < 1 || strideWidth < 1 { return "strides must be positive" }
        if dilationHeight < 1 || dilationWidth < 1 { return "dilations must be positive" }
        if groups < 1 || inputChannels % groups != 0 || outputChannels % groups != 0 {
            return "groups (\(groups)) must divide input (\(inputChannels)) and output (\(outputChannels)) channels"
        }
        if min(padTop, padLeft, padBottom, padRight) < 0 { return "padding must not be negative" }
        return nil
    }

    var description: String {
        "\(kernelHeight)×\(kernelWidth) \(inputChannels)→\(outputChannels) stride \(strideHeight)×\(strideWidth) dilation \(dilationHeight)×\(dilationWidth) groups \(groups) pad t\(padTop) l\(padLeft) b\(padBottom) r\(padRight)"
    }
}

extension ConvolutionGeometry {
    /// Stops on arguments a kernel cannot run with: invalid geometry, weight or bias counts
    /// that do not match it, or an instruction set this CPU lacks. The graph compiler
    /// validates user input before creating kernels, so these are programming errors.
    func checkKernelArguments(weights: [Float], bias: [Float]?, isa: KernelISA) {
        precondition(validationFailure() == nil, validationFailure() ?? "")
        precondition(weights.count == weightCount, "weight count mismatch")
        precondition(bias == nil || bias!.count == outputChannels, "bias count mismatch")
        precondition(isa.isSupported, "\(isa) is not supported on this CPU")
    }
}
