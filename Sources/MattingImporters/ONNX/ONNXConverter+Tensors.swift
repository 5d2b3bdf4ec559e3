import MattingEngine

/// Axis-taking operators (remapped on NHWC values) and layout-sensitive ones (run on NCHW).
extension ONNXConverter {
    /// Axis `axis` of a rank-`rank` ONNX value, as an axis of its engine value.
    func engineAxis(_ axis: Int, rank: Int, nhwc: Bool) throws -> Int {
        let a = normalizedAxis(axis, rank: rank)
        guard a >= 0 && a < rank else { throw invalid("axis \(axis) is out of range for rank \(rank)") }
        return nhwc ? nhwcAxis[a] : a
    }

    func knownRank(_ t: TrackedValue, _ name: String) throws -> Int {
        guard let r = t.rank else { throw unsupported("the rank of '\(name)' cannot be determined before compilation") }
        return r
    }

    mutating func convertConcat(_ node: ONNXNode) throws {
        let names = node.inputs.filter { !$0.isEmpty }
        let ts = try names.map { try peek($0) }
        guard let rank = ts.first?.rank ?? ts.compactMap(\.rank).first else { throw unsupported("concat of values of unknown rank") }
        let axis = attrInt(node, "axis", 0)
        let a = try engineAxis(axis, rank: rank, nhwc: false)
        let useNHWC = rank == 4 && ts.contains(where: \.nhwc)
        let ins = try names.map { useNHWC ? try nhwc($0) : try nchw($0) }
        var dims: [Int?]? = ts.first?.dims
        if dims != nil, a < rank {
            dims?[a] = ts.reduce(0 as Int?) { acc, t in
                guard let acc, let d = t.dims, a < d.count, let v = d[a] else { return nil }
                return acc + v
            }
        }
        define(node, 0, emit(.concat(axis: try engineAxis(axis, rank: rank, nhwc: useNHWC)), ins), nhwc: useNHWC, dims: dims)
    }

    mutating func convertSplit(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let axis = try engineAxis(attrInt(node, "axis", 0), rank: rank, nhwc: false)
        var sizes = opset < 13 ? attrInts(node, "split") : try constantInts(node, 1, "split")
        if sizes == nil {
            guard let total = t.dims?[axis] else { throw unsupported("an equal split of an axis whose size is only known at compile time") }
            let n = node.outputs.count
            // Opset 18 `num_outputs`: the last chunk may be smaller.
            let chunk = (total + n - 1) / n
            sizes = (0..<n).map { i in min(chunk, max(0, total - i * chunk)) }
        }
        guard let sizes, sizes.count == node.outputs.count else { throw invalid("split sizes do not match \(node.outputs.count) outputs") }
        let outs = builder.add(.split(axis: try engineAxis(axis, rank: rank, nhwc: t.nhwc), sizes: sizes), inputs: [t.value], name: engineName())
        for (i, out) in outs.enumerated() {
            var dims = t.dims
            dims?[axis] = sizes[i]
            define(node, i, out, nhwc: t.nhwc, dims: dims)
        }
    }

    mutating func convertSlice(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset < 10 {
            starts = attrInts(node, "starts") ?? []; ends = attrInts(node, "ends") ?? []
            axes = attrInts(node, "axes"); steps = nil
        } else {
            starts = try constantInts(node, 1, "starts") ?? []; ends = try constantInts(node, 2, "ends") ?? []
            axes = try constantInts(node, 3, "axes"); steps = try constantInts(node, 4, "steps")
        }
        let onnxAxes = axes ?? Array(0..<starts.count)
        guard starts.count == ends.count, onnxAxes.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
            throw invalid("starts, ends, axes and steps differ in length")
        }
        let engineAxes = try onnxAxes.map { try engineAxis($0, rank: rank, nhwc: t.nhwc) }
        var dims = t.dims
        for a in onnxAxes { dims?[normalizedAxis(a, rank: rank)] = nil }
        let p = SliceParameters(starts: starts, ends: ends, axes: engineAxes, steps: steps)
        define(node, 0, emit(.slice(p), [t.value]), nhwc: t.nhwc, dims: dims)
    }

    mutating func convertPad(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let modeName = attrString(node, "mode", "constant")
        var pads: [Int], value: Float = 0
        if opset < 11 {
            pads = attrInts(node, "pads") ?? []
            value = attrFloat(node, "value", 0)
        } else {
            pads = try constantInts(node, 1, "pads") ?? []
            value = try constantInput(node, 2, "constant_value")?.floats.first ?? 0
            if let axes = try constantInts(node, 3, "axes") {
                // Opset 18: pads only for the listed axes.
                guard pads.count == 2 * axes.count else { throw invalid("pads and axes differ in length") }
                var full = [Int](repeating: 0, count: 2 * rank)
                for (i, a) in axes.enumerated() {
                    let n = try engineAxis(a, rank: rank, nhwc: false)
                    full[n] = pads[i]; full[n + rank] = pads[i + axes.count]
                }
                pads = full
            }
        }
        guard pads.count == 2 * rank else { throw invalid("pads \(pads) do not match rank \(rank)") }
        let mode: PadMode
        switch modeName {
        case "constant": mode = .constant(value)
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        default: throw unsupported("pad mode '\(modeName)' (supported: constant, reflect, edge)")
        }
        var before = Array(pads[..<rank]), after = Array(pads[rank...])
        if t.nhwc { before = nchwOfNHWC.map { before[$0] }; after = nchwOfNHWC.map { after[$0] } }
        var dims = t.dims
        for i in 0..<rank { if let d = dims?[i] { dims?[i] = d + pads[i] + pads[i + rank] } }
        define(node, 0, emit(.pad(before: before, after: after, mode: mode), [t.value]), nhwc: t.nhwc, dims: dims)
    }

    mutating func convertReduce(_ node: ONNXNode, _ kind: ReduceParameters.Kind, axesInputSince: Int) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let keep = attrInt(node, "keepdims", 1) != 0
        var axes = opset < axesInputSince ? attrInts(node, "axes") ?? [] : try constantInts(node, 1, "axes") ?? []
        if axes.isEmpty {
            if attrInt(node, "noop_with_empty_axes", 0) != 0 { return try convertIdentity(node) }
            axes = Array(0..<rank)
        }
        let onnxAxes = axes.map { normalizedAxis($0, rank: rank) }
        // Reduced axes that disappear would leave a rank-3 "NHWC" value: reduce in NCHW then.
        let useNHWC = t.nhwc && keep
        let x = useNHWC ? t.value : try nchw(name)
        let engineAxes = try onnxAxes.map { try engineAxis($0, rank: rank, nhwc: useNHWC) }
        let dims: [Int?]? = t.dims.map { d in
            keep ? d.enumerated().map { onnxAxes.contains($0.offset) ? 1 : $0.element }
                 : d.enumerated().filter { !onnxAxes.contains($0.offset) }.map(\.element)
        }
        let p = ReduceParameters(kind: kind, axes: engineAxes.sorted(), keepDimensions: keep)
        define(node, 0, emit(.reduce(p), [x]), nhwc: useNHWC, dims: dims)
    }

    mutating func convertSoftmax(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let axis = normalizedAxis(attrInt(node, "axis", opset < 13 ? 1 : -1), rank: rank)
        if opset >= 13 || axis == rank - 1 {
            define(node, 0, emit(.softmax(axis: try engineAxis(axis, rank: rank, nhwc: t.nhwc)), [t.value]),
                   nhwc: t.nhwc, dims: t.dims)
            return
        }
        // Before opset 13 Softmax normalised over the flattened axes `axis...`.
        let x = try nchw(name)
        let flat = emit(.flatten(axis: axis), [x], name: engineName("flat"))
        let soft = emit(.softmax(axis: -1), [flat], name: engineName("softmax"))
        let shape = emit(.shape, [x], name: engineName("shape"))
        define(node, 0, emit(.reshape(shape: nil), [soft, shape]), nhwc: false, dims: t.dims)
    }

    mutating func convertReshape(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let x = try nchw(name)
        let shapeName = try requiredInput(node, 1)
        if let c = constants[shapeName] {
            let shape = try integers(c, "shape")
            if attrInt(node, "allowzero", 0) != 0 && shape.contains(0) { throw unsupported("allowzero = 1 with a zero in the shape") }
            let input = try peek(name).dims
            let dims: [Int?] = shape.enumerated().map { i, s in s > 0 ? s : s == 0 ? (input.flatMap { i < $0.count ? $0[i] : nil }) : nil }
            define(node, 0, emit(.reshape(shape: shape), [x]), nhwc: false, dims: dims)
        } else {
            let s = try tracked(shapeName)
            let rank = s.dims?.first ?? nil
            define(node, 0, emit(.reshape(shape: nil), [x, s.value]), nhwc: false,
                   dims: rank.map { [Int?](repeating: nil, count: $0) })
        }
    }

    mutating func convertFlatten(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let axis = normalizedAxis(attrInt(node, "axis", 1), rank: rank)
        guard axis >= 0 && axis <= rank else { throw invalid("axis \(axis) out of range for rank \(rank)") }
        define(node, 0, emit(.flatten(axis: axis), [try nchw(name)]), nhwc: false, dims: [nil, nil])
    }

    mutating func convertTranspose(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let rank = try knownRank(t, name)
        let perm = attrInts(node, "perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else { throw invalid("perm \(perm) is not a permutation of rank \(rank)") }
        let dims = t.dims.map { d in perm.map { d[$0] } }
        if t.nhwc {
            // The engine holds x permuted by [0, 2, 3, 1]; compose instead of transposing back.
            let q = perm.map { nhwcAxis[$0] }
            let out = q == [0, 1, 2, 3] ? t.value : emit(.transpose(permutation: q), [t.value])
            define(node, 0, out, nhwc: false, dims: dims)
        } else if perm == [0, 3, 1, 2], rank == 4 {
            // The result, held in NHWC, is exactly the input's data: no work.
            define(node, 0, t.value, nhwc: true, dims: dims)
        } else {
            define(node, 0, emit(.transpose(permutation: perm), [t.value]), nhwc: false, dims: dims)
        }
    }

    mutating func convertSqueeze(_ node: ONNXNode, unsqueeze: Bool) throws {
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        let axes = opset < 13 ? attrInts(node, "axes") ?? [] : try constantInts(node, 1, "axes") ?? []
        let x = try nchw(name)
        var dims: [Int?]? = nil
        var normalized = axes
        if let d = t.dims {
            if unsqueeze {
                let outRank = d.count + axes.count
                normalized = axes.map { normalizedAxis($0, rank: outRank) }.sorted()
                var out = d
                guard normalized.allSatisfy({ $0 >= 0 && $0 < outRank }) else { throw invalid("axes \(axes) out of range") }
                for a in normalized { out.insert(1, at: a) }
                dims = out
            } else {
                normalized = axes.map { normalizedAxis($0, rank: d.count) }
                dims = axes.isEmpty
                    ? (d.contains(nil) ? nil : d.filter { $0 != 1 })
                    : d.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
            }
        } else if !unsqueeze || axes.contains(where: { $0 < 0 }) {
            throw unsupported("\(node.opType) of a value of unknown rank")
        }
        let op: Operation = unsqueeze ? .unsqueeze(axes: normalized) : .squeeze(axes: normalized)
        define(node, 0, emit(op, [x]), nhwc: false, dims: dims)
    }
}
