import MattingEngine

/// `Resize` (opsets 10–19) and the deprecated `Upsample` (opsets 7–9).
extension ONNXConverter {
    mutating func convertResize(_ node: ONNXNode) throws {
        let xName = try requiredInput(node, 0)
        let t = try peek(xName)
        guard t.rank == 4 else { throw unsupported("resize of a rank-\(t.rank.map(String.init) ?? "?") tensor (4-D NCHW only)") }
        let mode = attrString(node, "mode", "nearest")
        // Opset 10 had no coordinate_transformation_mode; it behaved as `asymmetric`.
        let ctm = attrString(node, "coordinate_transformation_mode", opset < 11 ? "asymmetric" : "half_pixel")
        if attrInt(node, "antialias", 0) != 0 { throw unsupported("antialias = 1") }
        if attrInt(node, "exclude_outside", 0) != 0 { throw unsupported("exclude_outside = 1") }
        let policy = attrString(node, "keep_aspect_ratio_policy", "stretch")
        if policy != "stretch" { throw unsupported("keep_aspect_ratio_policy '\(policy)' (only 'stretch')") }
        if let axes = attrInts(node, "axes"), axes.map({ normalizedAxis($0, rank: 4) }) != [0, 1, 2, 3] {
            throw unsupported("the axes attribute \(axes) (only all four axes)")
        }

        let scalesIndex = opset < 11 ? 1 : 2
        let scalesName = input(node, scalesIndex)
        let sizesName = opset < 11 ? nil : input(node, 3)
        var target: ResizeParameters.Target
        var extra: [Value] = []
        var integralScales = true
        if let sizesName, constants[sizesName]?.count != 0 {
            if let c = constants[sizesName] {
                let sizes = try integers(c, "sizes")
                guard sizes.count == 4 else { throw unsupported("sizes \(sizes) (4 values, NCHW)") }
                if let d = t.dims, (d[0] != nil && d[0] != sizes[0]) || (d[1] != nil && d[1] != sizes[1]) {
                    throw unsupported("resizing the batch or channel axis (sizes \(sizes))")
                }
                target = .size(height: sizes[2], width: sizes[3])
            } else {
                target = .sizeFromInput
                extra = [reorderedToNHWC(try nchw(sizesName), dataType: .int64)]
            }
        } else if let scalesName, let s = constants[scalesName] {
            let scales = s.floats
            guard scales.count == 4 else { throw unsupported("scales \(scales) (4 values, NCHW)") }
            if scales[0] != 1 || scales[1] != 1 { throw unsupported("resizing the batch or channel axis (scales \(scales))") }
            target = .scales(height: scales[2], width: scales[3])
            integralScales = scales[2] == scales[2].rounded() && scales[3] == scales[3].rounded()
        } else if let scalesName {
            target = .scalesFromInput
            integralScales = false
            extra = [reorderedToNHWC(try nchw(scalesName), dataType: .float32)]
        } else {
            throw invalid("neither scales nor sizes is given")
        }

        let transform: CoordinateTransform
        switch ctm {
        case "half_pixel": transform = .halfPixel
        case "half_pixel_symmetric":
            // Equal to half_pixel whenever `input · scale` is a whole number, which `sizes` and
            // integral scales guarantee; other scales shift the grid, which the engine lacks.
            if case .scales = target, integralScales { transform = .halfPixel } else if case .size = target {
                transform = .halfPixel
            } else if case .sizeFromInput = target { transform = .halfPixel } else {
                throw unsupported("coordinate_transformation_mode 'half_pixel_symmetric' with fractional scales")
            }
        case "pytorch_half_pixel": transform = .pytorchHalfPixel
        case "align_corners": transform = .alignCorners
        case "asymmetric": transform = .asymmetric
        case "tf_half_pixel_for_nearest" where opset < 13: transform = .tfHalfPixelForNearest  // removed in opset 13
        default:
            throw unsupported("coordinate_transformation_mode '\(ctm)' (supported: half_pixel, half_pixel_symmetric, "
                              + "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest)")
        }
        let engineMode: ResizeParameters.Mode
        switch mode {
        case "linear", "bilinear": engineMode = .bilinear
        case "nearest":
            let nearest = attrString(node, "nearest_mode", "round_prefer_floor")
            if opset < 11 {
                // Before opset 11, onnxruntime's nearest resize truncates when upsampling and
                // rounds up when downsampling (its "simple" mode).
                engineMode = .nearest(try legacyNearestRounding(target))
            } else {
                switch nearest {
                case "round_prefer_floor": engineMode = .nearest(.roundPreferFloor)
                case "round_prefer_ceil": engineMode = .nearest(.roundPreferCeil)
                case "floor": engineMode = .nearest(.floor)
                case "ceil": engineMode = .nearest(.ceil)
                default: throw unsupported("nearest_mode '\(nearest)'")
                }
            }
        default: throw unsupported("mode '\(mode)' (supported: nearest, linear)")
        }
        let p = ResizeParameters(mode: engineMode, coordinateTransform: transform, target: target)
        let out = emit(.resize(p), [try nhwc(xName)] + extra)
        define(node, 0, out, nhwc: true, dims: t.dims.map { [$0[0], $0[1], nil, nil] })
    }

    /// `Upsample` (opsets 7–9): scales as an attribute (opset 7) or input (opset 9), asymmetric
    /// coordinates.
    mutating func convertUpsample(_ node: ONNXNode) throws {
        let xName = try requiredInput(node, 0)
        let t = try peek(xName)
        guard t.rank == 4 else { throw unsupported("upsample of a non-4-D tensor") }
        let scales: [Float]
        if let s = node.attribute("scales"), case let .floats(v) = s { scales = v } else {
            guard let s = try constantInput(node, 1, "scales") else { throw invalid("scales are missing") }
            scales = s.floats
        }
        guard scales.count == 4, scales[0] == 1, scales[1] == 1 else { throw unsupported("scales \(scales) (N and C must be 1)") }
        let target = ResizeParameters.Target.scales(height: scales[2], width: scales[3])
        let mode: ResizeParameters.Mode
        switch attrString(node, "mode", "nearest") {
        case "nearest": mode = .nearest(try legacyNearestRounding(target))
        case "linear", "bilinear": mode = .bilinear
        case let other: throw unsupported("mode '\(other)' (supported: nearest, linear)")
        }
        let p = ResizeParameters(mode: mode, coordinateTransform: .asymmetric, target: target)
        define(node, 0, emit(.resize(p), [try nhwc(xName)]), nhwc: true, dims: t.dims.map { [$0[0], $0[1], nil, nil] })
    }

    private func legacyNearestRounding(_ target: ResizeParameters.Target) throws -> NearestRounding {
        guard case let .scales(h, w) = target else { return .floor }
        if h >= 1 && w >= 1 { return .floor }
        if h <= 1 && w <= 1 { return .ceil }
        throw unsupported("legacy nearest resize that upsamples one axis and downsamples the other")
    }

    /// An NCHW-ordered 4-vector (sizes or scales) reordered to NHWC with a gather the
    /// compiler folds.
    private mutating func reorderedToNHWC(_ v: Value, dataType: DataType) -> Value {
        let indices = emitConstant(Tensor(shape: [4], int64s: nchwOfNHWC.map(Int64.init)), name: "#nhwc-order")
        return emit(.gather(axis: 0), [v, indices], name: engineName("nhwc-order"))
    }
}
