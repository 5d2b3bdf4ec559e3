/// Weight layout conversions importers apply once at load time. The engine's convolution
/// weights are always OHWI: `[outC, kh, kw, inC / groups]`.
extension Tensor {
    /// ONNX/PyTorch `Conv` weights `[outC, inC / groups, kh, kw]` (OIHW) → OHWI.
    /// - Precondition: `rank == 4`.
    public func convolutionWeightsFromOIHW() -> Tensor { permuted([0, 2, 3, 1]) }

    /// TFLite `DEPTHWISE_CONV_2D` weights `[1, kh, kw, C · multiplier]` → OHWI
    /// `[C · multiplier, kh, kw, 1]`, for a convolution with `groups = C`.
    /// - Precondition: `rank == 4`, `shape[0] == 1`.
    public func depthwiseWeightsFromTFLite() -> Tensor {
        precondition(rank == 4 && shape[0] == 1, "expected [1, kh, kw, C·m], got \(shape)")
        return permuted([3, 1, 2, 0])
    }

    /// ONNX/PyTorch `ConvTranspose` weights `[inC, outC / groups, kh, kw]` → OHWI
    /// `[outC, kh, kw, inC / groups]`.
    /// - Precondition: `rank == 4`, `groups` divides `shape[0]`.
    public func transposedConvolutionWeightsFromIOHW(groups: Int = 1) -> Tensor {
        precondition(rank == 4 && groups >= 1 && shape[0] % groups == 0, "bad IOHW weights \(shape) for \(groups) groups")
        let (inC, ocg, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let icg = inC / groups, outC = ocg * groups
        let src = floats
        var dst = [Float](repeating: 0, count: src.count)
        for g in 0..<groups {
            for i in 0..<icg {
                for j in 0..<ocg {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            let o = g * ocg + j
                            dst[((o * kh + y) * kw + x) * icg + i] = src[(((g * icg + i) * ocg + j) * kh + y) * kw + x]
                        }
                    }
                }
            }
        }
        return Tensor(shape: [outC, kh, kw, icg], floats: dst)
    }
}
