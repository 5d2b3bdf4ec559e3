/// Shape inference and operators for matrix products, attention, `where`, comparisons, tile
/// and gatherElements.
extension Lowering {
    /// Splits a `[..., r, c]` shape into its batch dimensions and matrix size.
    private func matrix(_ i: Int, _ what: String) throws -> (batch: [Int], rows: Int, columns: Int) {
        let s = inputs[i].shape
        guard s.count >= 2 else { throw fail("\(what) '\(node.inputs[i])' must have rank ≥ 2, has shape \(s)") }
        return (Array(s.dropLast(2)), s[s.count - 2], s[s.count - 1])
    }

    func lowerMatMul(_ activation: Activation) throws -> LoweredNode {
        try requireFloat(0); try requireFloat(1)
        let a = try matrix(0, "matMul operand"), b = try matrix(1, "matMul operand")
        guard a.columns == b.rows else { throw fail("cannot multiply \(inputs[0].shape) by \(inputs[1].shape)") }
        guard let batch = broadcastShape(a.batch, b.batch) else {
            throw fail("batch dimensions of \(inputs[0].shape) and \(inputs[1].shape) do not broadcast")
        }
        let (m, k, n) = (a.rows, a.columns, b.columns)
        var bias: [Float]?
        if inputs.count > 2 {
            bias = try constant(2).floats
            if bias?.count != n { throw fail("matMul bias needs \(n) values") }
        }
        let rows = elementCount(batch) * m
        var lowered = LoweredNode(outputs: [(batch + [m, n], .float32)], flops: 2 * rows * k * n)
        guard instantiate else { return lowered }
        // One shared `b` and an unbroadcast `a`: all of a's rows form one matrix.
        let shared = elementCount(b.batch) == 1 && batch == a.batch
        if shared, let weights = inputs[1].constant, k > 0 {
            // [rows, K] · [K, N] is a 1×1 convolution over a 1×rows NHWC image with OHWI weights [N, 1, 1, K].
            let g = ConvolutionGeometry(inputChannels: k, outputChannels: n, kernelHeight: 1, kernelWidth: 1)
            let kernel = ConvolutionKernel(geometry: g, weights: weights.reshaped([k, n]).permuted([1, 0]).floats,
                                           bias: bias, activation: activation)
            lowered.op = ConvolutionOperator(
                kernel: kernel, batch: 1, inputHeight: 1, inputWidth: rows,
                scratchByteCount: kernel.scratchByteCount(inputHeight: 1, inputWidth: rows, threadCount: threads))
        } else if shared {
            lowered.op = MatMulOperator(m: rows, k: k, n: n, aOffsets: [0], bOffsets: [0], bias: bias, activation: activation,
                                        threads: threads)
        } else {
            lowered.op = MatMulOperator(
                m: m, k: k, n: n,
                aOffsets: broadcastBatchOffsets(a.batch, to: batch, matrixSize: m * k),
                bOffsets: broadcastBatchOffsets(b.batch, to: batch, matrixSize: k * n),
                bias: bias, activation: activation, threads: threads)
        }
        return lowered
    }

    func lowerChannelMix(_ activation: Activation) throws -> LoweredNode {
        try requireFloat(0)
        let s = inputs[0].shape, w = try constant(1)
        guard s.count >= 2 else { throw fail("channelMix input must have rank ≥ 2, has shape \(s)") }
        guard w.rank == 2, w.shape[1] == s[1] else { throw fail("channelMix weights \(w.shape) do not take \(s[1]) channels") }
        let o = w.shape[0], pixels = elementCount(Array(s[2...]))
        let bias = inputs.count > 2 ? try constant(2).floats : [Float](repeating: 0, count: o)
        if bias.count != o { throw fail("channelMix bias needs \(o) values") }
        var out = s
        out[1] = o
        return LoweredNode(
            outputs: [(out, .float32)],
            op: ChannelMixOperator(batch: s[0], inputChannels: s[1], outputChannels: o, pixels: pixels, weights: w.floats,
                                   bias: bias, activation: activation, isa: .current, threads: threads),
            flops: 2 * s[0] * o * s[1] * pixels)
    }

    func lowerAttention(scale: Float, keyTransposed: Bool) throws -> LoweredNode {
        for i in 0..<3 { try requireFloat(i) }
        let q = try matrix(0, "query"), k = try matrix(1, "key"), v = try matrix(2, "value")
        let (n, d) = keyTransposed ? (k.columns, k.rows) : (k.rows, k.columns)
        guard d == q.columns else { throw fail("query \(inputs[0].shape) and key \(inputs[1].shape) differ in depth") }
        guard v.rows == n else { throw fail("key \(inputs[1].shape) and value \(inputs[2].shape) differ in length") }
        guard let qk = broadcastShape(q.batch, k.batch), let batch = broadcastShape(qk, v.batch) else {
            throw fail("batch dimensions of \(inputs.map(\.shape)) do not broadcast")
        }
        guard n > 0 else { throw fail("attention over zero keys") }
        let m = q.rows, rows = elementCount(batch) * m
        var lowered = LoweredNode(outputs: [(batch + [m, v.columns], .float32)], flops: rows * (2 * n * d + 2 * n * v.columns + 4 * n))
        guard instantiate else { return lowered }
        lowered.op = AttentionOperator(
            m: m, n: n, d: d, dv: v.columns, scale: scale, keyTransposed: keyTransposed,
            qOffsets: broadcastBatchOffsets(q.batch, to: batch, matrixSize: m * d),
            kOffsets: broadcastBatchOffsets(k.batch, to: batch, matrixSize: n * d),
            vOffsets: broadcastBatchOffsets(v.batch, to: batch, matrixSize: n * v.columns), threads: threads)
        return lowered
    }

    func lowerWhere() throws -> LoweredNode {
        let x = inputs[1], y = inputs[2]
        if x.dataType != y.dataType {
            throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[2], expected: x.dataType, actual: y.dataType)
        }
        guard let xy = broadcastShape(x.shape, y.shape), let out = broadcastShape(inputs[0].shape, xy) else {
            throw fail("shapes \(inputs.map(\.shape)) do not broadcast")
        }
        return LoweredNode(
            outputs: [(out, x.dataType)],
            op: WhereOperator(walk: BroadcastWalk(inputs: inputs.map(\.shape), output: out),
                              conditionType: inputs[0].dataType, elementSize: x.dataType.byteCount))
    }

    func lowerCompare(_ op: ComparisonOperator) throws -> LoweredNode {
        let a = inputs[0], b = inputs[1]
        if a.dataType != b.dataType {
            throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[1], expected: a.dataType, actual: b.dataType)
        }
        guard let out = broadcastShape(a.shape, b.shape) else { throw fail("shapes \(a.shape) and \(b.shape) do not broadcast") }
        return LoweredNode(
            outputs: [(out, .int64)],
            op: CompareOperator(walk: BroadcastWalk(inputs: [a.shape, b.shape], output: out), comparison: op,
                                dataType: a.dataType))
    }

    func lowerTile() throws -> LoweredNode {
        let s = inputs[0].shape
        let repeats = try constant(1).int64s.map { Int(clamping: $0) }
        guard repeats.count == s.count else { throw fail("tile needs \(s.count) repeats, has \(repeats.count)") }
        if repeats.contains(where: { $0 < 0 }) { throw fail("negative tile repeats \(repeats)") }
        var out: [Int] = [], total = 1, overflow = false
        for (d, r) in zip(s, repeats) {
            let (size, o1) = d.multipliedReportingOverflow(by: r), (t, o2) = total.multipliedReportingOverflow(by: size)
            out.append(size); total = t; overflow = overflow || o1 || o2
        }
        if overflow { throw fail("tile of \(s) by \(repeats) overflows") }
        // Output viewed as [r₀, s₀, r₁, s₁, …] reads the input with stride 0 along each r.
        let strides = contiguousStrides(s)
        return LoweredNode(
            outputs: [(out, inputs[0].dataType)],
            op: StridedCopyOperator(outputShape: zip(repeats, s).flatMap { [$0, $1] },
                                    strides: strides.flatMap { [0, $0] }, baseOffset: 0,
                                    elementSize: inputs[0].dataType.byteCount))
    }

    func lowerGatherElements(axis a: Int) throws -> LoweredNode {
        let s = inputs[0].shape, idx = inputs[1]
        if idx.dataType != .int64 {
            throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[1], expected: .int64, actual: idx.dataType)
        }
        let ax = try axis(a, rank: s.count)
        guard idx.shape.count == s.count else { throw fail("indices \(idx.shape) must have the data's rank \(s.count)") }
        for i in s.indices where i != ax && idx.shape[i] > s[i] {
            throw fail("indices \(idx.shape) exceed data \(s) on axis \(i)")
        }
        if elementCount(idx.shape) > 0 && s[ax] == 0 { throw fail("gatherElements from an empty axis") }
        if let c = idx.constant, let bad = c.int64s.first(where: { $0 < -Int64(s[ax]) || $0 >= Int64(s[ax]) }) {
            throw fail("gatherElements index \(bad) out of range for axis size \(s[ax])")
        }
        return LoweredNode(
            outputs: [(idx.shape, inputs[0].dataType)],
            op: GatherElementsOperator(walk: BroadcastWalk(inputs: [idx.shape], output: idx.shape), dataStrides: contiguousStrides(s),
                                       axis: ax, axisSize: s[ax], elementSize: inputs[0].dataType.byteCount,
                                       outputStrides: contiguousStrides(idx.shape)))
    }
}
