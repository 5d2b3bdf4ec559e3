/// Shape inference and operator construction for every operation.
struct Lowering {
    let node: Node
    let inputs: [ValueDescription]
    let instantiate: Bool
    let threads: Int

    func fail(_ reason: String) -> EngineError { .shapeMismatch(node: node.name, reason: reason) }

    func requireFloat(_ i: Int) throws {
        if inputs[i].dataType != .float32 {
            throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[i], expected: .float32,
                                               actual: inputs[i].dataType)
        }
    }
    func requireRank(_ i: Int, _ rank: Int) throws {
        if inputs[i].shape.count != rank {
            throw fail("input '\(node.inputs[i])' must have rank \(rank), has shape \(inputs[i].shape)")
        }
    }
    func constant(_ i: Int) throws -> Tensor {
        guard let t = inputs[i].constant else { throw EngineError.notConstant(node: node.name, value: node.inputs[i]) }
        return t
    }
    func axis(_ a: Int, rank: Int) throws -> Int {
        guard let n = normalizedAxis(a, rank: rank) else { throw fail("axis \(a) out of range for rank \(rank)") }
        return n
    }

    func lower() throws -> LoweredNode {
        let x = inputs[0]
        switch node.operation {
        case let .conv2d(p): return try lowerConvolution(p)
        case let .transposedConv2d(p): return try lowerTransposedConvolution(p)
        case let .batchNorm(epsilon):
            try requireFloat(0)
            guard let c = x.shape.last else { throw fail("batch norm needs rank ≥ 1") }
            let params = try (1...4).map { try constant($0).floats }
            if params.contains(where: { $0.count != c }) { throw fail("batch norm parameters must have \(c) values") }
            let scale = (0..<c).map { params[0][$0] / (params[3][$0] + epsilon).squareRoot() }
            let shift = (0..<c).map { params[1][$0] - params[2][$0] * scale[$0] }
            return LoweredNode(
                outputs: [(x.shape, .float32)],
                op: ChannelAffineOperator(scale: scale, shift: shift, rows: elementCount(x.shape) / max(c, 1),
                                          activation: .identity),
                inPlaceInputs: [0], flops: 2 * elementCount(x.shape))
        case let .instanceNorm(epsilon):
            try requireFloat(0); try requireRank(0, 4)
            let s = x.shape
            let scale = try constant(1).floats, offset = try constant(2).floats
            if scale.count != s[3] || offset.count != s[3] { throw fail("instance norm needs \(s[3]) scales and offsets") }
            return LoweredNode(
                outputs: [(s, .float32)],
                op: NormalizationOperator(groups: s[0], pixels: s[1] * s[2], channels: s[3], scale: scale, offset: offset,
                                          epsilon: epsilon),
                inPlaceInputs: [0], flops: 6 * elementCount(s))
        case let .splitNorm(split, epsilon, activation):
            try requireFloat(0); try requireRank(0, 4)
            let s = x.shape
            guard split > 0 && split < s[3] else { throw fail("split \(split) must lie inside the \(s[3]) channels") }
            let params = try (1...4).map { try constant($0).floats }
            if params[0].count != split || params[1].count != split || params[2].count != s[3] - split
                || params[3].count != s[3] - split {
                throw fail("split norm needs \(split) scales and shifts and \(s[3] - split) instance-norm scales and offsets")
            }
            return LoweredNode(
                outputs: [(s, .float32)],
                op: SplitNormOperator(
                    images: s[0], pixels: s[1] * s[2], channels: s[3], split: split, affineScale: params[0],
                    affineShift: params[1], normScale: params[2], normOffset: params[3], epsilon: epsilon,
                    activation: activation),
                inPlaceInputs: [0], flops: 6 * elementCount(s))
        case let .layerNorm(a, epsilon):
            try requireFloat(0)
            let s = x.shape
            let ax = try axis(a, rank: s.count)
            let inner = elementCount(Array(s[ax...]))
            let scale = try constant(1).floats, offset = try constant(2).floats
            if scale.count != inner || offset.count != inner { throw fail("layer norm needs \(inner) scales and offsets") }
            return LoweredNode(
                outputs: [(s, .float32)],
                op: LayerNormOperator(rows: elementCount(Array(s[..<ax])), inner: inner, scale: scale, offset: offset,
                                      epsilon: epsilon),
                inPlaceInputs: [0], flops: 6 * elementCount(s))
        case let .pool(p): return try lowerPool(p)
        case .globalAveragePool:
            try requireFloat(0); try requireRank(0, 4)
            let s = x.shape
            return LoweredNode(outputs: [([s[0], 1, 1, s[3]], .float32)],
                               op: GlobalAveragePoolOperator(batch: s[0], pixels: s[1] * s[2], channels: s[3]),
                               flops: elementCount(s))
        case let .reduce(p): return try lowerReduce(p)
        case let .resize(p): return try lowerResize(p)
        case let .matMul(activation): return try lowerMatMul(activation)
        case let .channelMix(activation): return try lowerChannelMix(activation)
        case let .attention(scale, keyTransposed): return try lowerAttention(scale: scale, keyTransposed: keyTransposed)
        case .where: return try lowerWhere()
        case let .compare(op): return try lowerCompare(op)
        case .tile: return try lowerTile()
        case let .gatherElements(a): return try lowerGatherElements(axis: a)
        case let .binary(op, activation):
            return try lowerBinary(BinaryKernel(op), activation: activation)
        case .prelu:
            try requireFloat(1)
            return try lowerBinary(.prelu, activation: .identity)
        case let .activation(a):
            try requireFloat(0)
            let n = elementCount(x.shape)
            return LoweredNode(outputs: [(x.shape, .float32)], op: ActivationOperator(activation: a, count: n),
                               inPlaceInputs: [0], flops: n)
        case let .unary(f):
            try requireFloat(0)
            let n = elementCount(x.shape)
            return LoweredNode(outputs: [(x.shape, .float32)], op: UnaryOperator(function: f, count: n),
                               inPlaceInputs: [0], flops: n)
        case let .softmax(a):
            try requireFloat(0)
            let ax = try axis(a, rank: x.shape.count)
            let s = x.shape
            return LoweredNode(
                outputs: [(s, .float32)],
                op: SoftmaxOperator(outer: elementCount(Array(s[..<ax])), axis: s[ax],
                                    inner: elementCount(Array(s[(ax + 1)...]))),
                flops: 3 * elementCount(s))
        default: return try lowerDataMovement()
        }
    }

    // MARK: Pooling, reduction, resize, binary

    private func lowerPool(_ p: PoolParameters) throws -> LoweredNode {
        try requireFloat(0); try requireRank(0, 4)
        let s = inputs[0].shape
        if p.kernelHeight < 1 || p.kernelWidth < 1 || p.strideHeight < 1 || p.strideWidth < 1 {
            throw EngineError.unsupported(node: node.name, reason: "pool window and strides must be ≥ 1")
        }
        let ph = resolvePadding(p.padding, axis: 0, input: s[1], kernel: p.kernelHeight, stride: p.strideHeight,
                                dilation: 1, ceilMode: p.ceilMode)
        let pw = resolvePadding(p.padding, axis: 1, input: s[2], kernel: p.kernelWidth, stride: p.strideWidth,
                                dilation: 1, ceilMode: p.ceilMode)
        if ph.output < 1 || pw.output < 1 { throw fail("pool output would be empty for input \(s)") }
        return LoweredNode(
            outputs: [([s[0], ph.output, pw.output, s[3]], .float32)],
            op: PoolOperator(parameters: p, batch: s[0], inputHeight: s[1], inputWidth: s[2], channels: s[3],
                             outputHeight: ph.output, outputWidth: pw.output, padTop: ph.before, padLeft: pw.before,
                             padBottom: ph.after, padRight: pw.after),
            flops: s[0] * ph.output * pw.output * s[3] * p.kernelHeight * p.kernelWidth)
    }

    private func lowerReduce(_ p: ReduceParameters) throws -> LoweredNode {
        try requireFloat(0)
        let s = inputs[0].shape
        let axes = p.axes.isEmpty ? Array(0..<s.count) : try p.axes.map { try axis($0, rank: s.count) }
        let reduced = Set(axes)
        let strides = contiguousStrides(s)
        var outShape: [Int] = []
        for (i, d) in s.enumerated() {
            if !reduced.contains(i) { outShape.append(d) } else if p.keepDimensions { outShape.append(1) }
        }
        var lowered = LoweredNode(outputs: [(outShape, .float32)], flops: elementCount(s))
        if p.kind == .mean && s.count == 4 && reduced == [1, 2] {
            lowered.op = GlobalAveragePoolOperator(batch: s[0], pixels: s[1] * s[2], channels: s[3])
        } else {
            let kept = (0..<s.count).filter { !reduced.contains($0) }, red = axes.sorted()
            lowered.op = ReduceOperator(kind: p.kind, keptDims: kept.map { s[$0] }, keptStrides: kept.map { strides[$0] },
                                        reducedDims: red.map { s[$0] }, reducedStrides: red.map { strides[$0] })
        }
        return lowered
    }

    private func lowerResize(_ parameters: ResizeParameters) throws -> LoweredNode {
        try requireFloat(0); try requireRank(0, 4)
        let s = inputs[0].shape
        var p = parameters
        if p.target == .sizeFromInput || p.target == .scalesFromInput {
            let t = try constant(1)
            let v = t.floats
            guard v.count == 2 || v.count == 4 else { throw fail("resize target needs 2 or 4 values, has \(v.count)") }
            if v.count == 4 && (p.target == .sizeFromInput ? (Int(v[0]) != s[0] || Int(v[3]) != s[3]) : (v[0] != 1 || v[3] != 1)) {
                throw EngineError.unsupported(node: node.name, reason: "resize of the batch or channel axis")
            }
            let (h, w) = v.count == 2 ? (v[0], v[1]) : (v[1], v[2])
            p.target = p.target == .sizeFromInput ? .size(height: Int(h), width: Int(w)) : .scales(height: h, width: w)
        }
        for axis in 0..<2 {
            if case let .scales(h, w) = p.target, !((axis == 0 ? h : w).isFinite && (axis == 0 ? h : w) > 0) {
                throw EngineError.unsupported(node: node.name, reason: "resize scales must be finite and positive")
            }
            let out = resizeAxis(p.target, axis: axis, input: s[axis + 1]).output
            if out < 1 || s[axis + 1] < 1 { throw fail("resize output would be \(out) for input \(s)") }
        }
        let rows = ResizeTaps(parameters: p, axis: 0, input: s[1])
        let cols = ResizeTaps(parameters: p, axis: 1, input: s[2])
        if rows.first.isEmpty || cols.first.isEmpty { throw fail("resize output would be empty for input \(s)") }
        let bilinear = p.mode == .bilinear
        let outShape = [s[0], rows.first.count, cols.first.count, s[3]]
        return LoweredNode(
            outputs: [(outShape, .float32)],
            op: ResizeOperator(batch: s[0], inputHeight: s[1], inputWidth: s[2], channels: s[3], rows: rows,
                               columns: cols, bilinear: bilinear),
            flops: (bilinear ? 6 : 0) * elementCount(outShape))
    }

    private func lowerBinary(_ kernel: BinaryKernel, activation: Activation) throws -> LoweredNode {
        let a = inputs[0], b = inputs[1]
        if a.dataType != b.dataType {
            throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[1], expected: a.dataType, actual: b.dataType)
        }
        guard let out = broadcastShape(a.shape, b.shape) else {
            throw fail("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        if a.dataType == .int64 && activation != .identity {
            throw EngineError.unsupported(node: node.name, reason: "activation on int64 values")
        }
        let inPlace = a.dataType == .float32 ? [0, 1].filter { inputs[$0].shape == out } : []
        return LoweredNode(
            outputs: [(out, a.dataType)],
            op: BinaryOperatorKernel(kernel: kernel, layout: BroadcastLayout(a: a.shape, b: b.shape, out: out),
                                     activation: activation, dataType: a.dataType),
            inPlaceInputs: inPlace, flops: elementCount(out))
    }
}
