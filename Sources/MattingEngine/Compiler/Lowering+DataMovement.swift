extension Lowering {
    /// Shape inference and operators for concat, split, slice, pad, transpose, views, gather,
    /// cast and depth-to-space.
    func lowerDataMovement() throws -> LoweredNode {
        let x = inputs[0], s = x.shape, size = x.dataType.byteCount
        switch node.operation {
        case let .concat(a):
            let ax = try axis(a, rank: s.count)
            var outShape = s
            outShape[ax] = 0
            for (i, v) in inputs.enumerated() {
                if v.dataType != x.dataType {
                    throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[i], expected: x.dataType, actual: v.dataType)
                }
                var a = v.shape, b = s
                if a.count != b.count { throw fail("concat inputs differ in rank: \(s) and \(v.shape)") }
                a[ax] = 0; b[ax] = 0
                if a != b { throw fail("concat inputs \(s) and \(v.shape) differ outside axis \(ax)") }
                outShape[ax] += v.shape[ax]
            }
            let inner = elementCount(Array(s[(ax + 1)...]))
            return LoweredNode(
                outputs: [(outShape, x.dataType)],
                op: ConcatOperator(outer: elementCount(Array(s[..<ax])),
                                   chunkBytes: inputs.map { $0.shape[ax] * inner * size }))
        case let .split(a, sizes):
            let ax = try axis(a, rank: s.count)
            if sizes.reduce(0, +) != s[ax] || sizes.contains(where: { $0 < 0 }) {
                throw fail("split sizes \(sizes) do not sum to \(s[ax])")
            }
            let inner = elementCount(Array(s[(ax + 1)...]))
            return LoweredNode(
                outputs: sizes.map { n in var o = s; o[ax] = n; return (o, x.dataType) },
                op: SplitOperator(outer: elementCount(Array(s[..<ax])), chunkBytes: sizes.map { $0 * inner * size }))
        case let .slice(p): return try lowerSlice(p)
        case let .pad(before, after, mode): return try lowerPad(before: before, after: after, mode: mode)
        case let .transpose(perm):
            if perm.sorted() != Array(0..<s.count) { throw fail("\(perm) is not a permutation of rank \(s.count)") }
            let strides = contiguousStrides(s)
            return LoweredNode(
                outputs: [(perm.map { s[$0] }, x.dataType)],
                op: StridedCopyOperator(outputShape: perm.map { s[$0] }, strides: perm.map { strides[$0] },
                                        baseOffset: 0, elementSize: size))
        case let .reshape(shape):
            var target: [Int]
            if let shape { target = shape } else { target = try constant(1).int64s.map { Int($0) } }
            for (i, d) in target.enumerated() where d == 0 {
                guard i < s.count else { throw fail("reshape: 0 at axis \(i) beyond input rank") }
                target[i] = s[i]
            }
            let unknown = target.indices.filter { target[$0] == -1 }
            if unknown.count > 1 || target.contains(where: { $0 < -1 }) { throw fail("reshape target \(target) is invalid") }
            if let u = unknown.first {
                let known = target.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
                if known == 0 || elementCount(s) % known != 0 { throw fail("cannot reshape \(s) to \(target)") }
                target[u] = elementCount(s) / known
            }
            if elementCount(target) != elementCount(s) { throw fail("cannot reshape \(s) to \(target)") }
            return LoweredNode(outputs: [(target, x.dataType)], isView: true)
        case let .flatten(a):
            let ax = a < 0 ? a + s.count : a
            if ax < 0 || ax > s.count { throw fail("flatten axis \(a) out of range for rank \(s.count)") }
            return LoweredNode(outputs: [([elementCount(Array(s[..<ax])), elementCount(Array(s[ax...]))], x.dataType)],
                               isView: true)
        case let .squeeze(axes):
            let list = axes.isEmpty ? s.indices.filter { s[$0] == 1 } : try axes.map { try axis($0, rank: s.count) }
            for a in list where s[a] != 1 { throw fail("cannot squeeze axis \(a) of size \(s[a])") }
            let out = s.indices.filter { !list.contains($0) }.map { s[$0] }
            return LoweredNode(outputs: [(out, x.dataType)], isView: true)
        case let .unsqueeze(axes):
            let rank = s.count + axes.count
            let list = Set(try axes.map { try axis($0, rank: rank) })
            if list.count != axes.count { throw fail("repeated unsqueeze axes \(axes)") }
            var out: [Int] = [], it = s.makeIterator()
            for i in 0..<rank { out.append(list.contains(i) ? 1 : it.next() ?? 1) }
            return LoweredNode(outputs: [(out, x.dataType)], isView: true)
        case .shape:
            return LoweredNode(outputs: [([s.count], .int64)])
        case let .gather(a):
            let ax = try axis(a, rank: s.count)
            let idx = inputs[1]
            if idx.dataType != .int64 {
                throw EngineError.dataTypeMismatch(node: node.name, value: node.inputs[1], expected: .int64, actual: idx.dataType)
            }
            if s[ax] == 0 && elementCount(idx.shape) > 0 { throw fail("gather from an empty axis") }
            if let c = idx.constant, let bad = c.int64s.first(where: { $0 < -Int64(s[ax]) || $0 >= Int64(s[ax]) }) {
                throw fail("gather index \(bad) out of range for axis size \(s[ax])")
            }
            let out = Array(s[..<ax]) + idx.shape + Array(s[(ax + 1)...])
            return LoweredNode(
                outputs: [(out, x.dataType)],
                op: GatherOperator(outer: elementCount(Array(s[..<ax])), axisSize: s[ax], indexCount: elementCount(idx.shape),
                                   innerBytes: elementCount(Array(s[(ax + 1)...])) * size))
        case let .cast(to):
            return LoweredNode(outputs: [(s, to)], op: CastOperator(from: x.dataType, to: to, count: elementCount(s)))
        case let .depthToSpace(b):
            try requireRank(0, 4)
            if b < 1 || s[3] % (b * b) != 0 { throw fail("depth-to-space block \(b) does not divide \(s[3]) channels") }
            let c = s[3] / (b * b), h = s[1], w = s[2]
            // Output viewed as [n, h, b, w, b, c] reads input [n, h, w, (i·b + j)·c + k].
            let strides = [h * w * s[3], w * s[3], b * c, s[3], c, 1]
            return LoweredNode(
                outputs: [([s[0], h * b, w * b, c], x.dataType)],
                op: StridedCopyOperator(outputShape: [s[0], h, b, w, b, c], strides: strides, baseOffset: 0, elementSize: size))
        case .expand:
            let target = try constant(1).int64s.map { Int($0) }
            guard let out = broadcastShape(s, target) else { throw fail("cannot expand \(s) to \(target)") }
            // Read with stride 0 along broadcast axes.
            let padded = [Int](repeating: 1, count: out.count - s.count) + s
            let strides = zip(padded, contiguousStrides(padded)).map { $0 == 1 ? 0 : $1 }
            return LoweredNode(outputs: [(out, x.dataType)],
                               op: StridedCopyOperator(outputShape: out, strides: strides, baseOffset: 0, elementSize: size))
        case let .constantOfShape(value, dataType):
            let out = try constant(0).int64s.map { Int($0) }
            if out.contains(where: { $0 < 0 }) { throw fail("negative dimension in \(out)") }
            return LoweredNode(outputs: [(out, dataType)],
                               op: FillOperator(value: value, dataType: dataType, count: elementCount(out)))
        case .range:
            let values = try (0..<3).map { try constant($0) }
            if values.contains(where: { $0.count != 1 || $0.dataType != x.dataType }) {
                throw fail("range takes three scalars of one type")
            }
            let v = values.map { $0.dataType == .int64 ? Double($0.int64s[0]) : Double($0.floats[0]) }
            if v[2] == 0 || !v.allSatisfy(\.isFinite) { throw fail("range needs finite values and a non-zero delta") }
            let n = max(0, Int(((v[1] - v[0]) / v[2]).rounded(.up)))
            return LoweredNode(outputs: [([n], x.dataType)],
                               op: RangeOperator(start: v[0], delta: v[2], count: n, dataType: x.dataType))
        default:
            throw EngineError.unsupported(node: node.name, reason: "no lowering for \(node.operation.kindName)")
        }
    }

    private func lowerSlice(_ p: SliceParameters) throws -> LoweredNode {
        let s = inputs[0].shape
        if p.starts.count != p.axes.count || p.ends.count != p.axes.count || p.steps.count != p.axes.count {
            throw fail("slice starts, ends, axes and steps must have equal counts")
        }
        var starts = [Int](repeating: 0, count: s.count), steps = [Int](repeating: 1, count: s.count), out = s
        for k in p.axes.indices {
            let a = try axis(p.axes[k], rank: s.count), d = s[a], step = p.steps[k]
            if step == 0 || step == Int.min { throw fail("slice step must be non-zero (and not Int.min)") }
            var b = p.starts[k], e = p.ends[k]
            if b < 0 { b += d }
            if e < 0 { e += d }
            let count: Int
            if step > 0 {
                b = min(max(b, 0), d); e = min(max(e, 0), d)
                count = e > b ? (e - b + step - 1) / step : 0
            } else {
                b = min(max(b, 0), d - 1); e = min(max(e, -1), d - 1)
                count = b > e ? (b - e - step - 1) / -step : 0
            }
            starts[a] = b; steps[a] = step; out[a] = count
        }
        let strides = contiguousStrides(s)
        let base = elementCount(out) == 0 ? 0 : zip(starts, strides).map(*).reduce(0, +)
        return LoweredNode(
            outputs: [(out, inputs[0].dataType)],
            op: StridedCopyOperator(outputShape: out, strides: zip(strides, steps).map(*), baseOffset: base,
                                    elementSize: inputs[0].dataType.byteCount))
    }

    private func lowerPad(before: [Int], after: [Int], mode: PadMode) throws -> LoweredNode {
        try requireFloat(0)
        let s = inputs[0].shape
        if before.count != s.count || after.count != s.count { throw fail("pad needs \(s.count) before/after values") }
        if (before + after).contains(where: { $0 < 0 }) {
            throw EngineError.unsupported(node: node.name, reason: "negative padding")
        }
        let out = s.indices.map { s[$0] + before[$0] + after[$0] }
        var maps: [[Int]] = []
        for a in s.indices {
            let d = s[a]
            maps.append((0..<out[a]).map { o in
                var i = o - before[a]
                if (0..<d).contains(i) { return i }
                switch mode {
                case .constant: return -1
                case .edge: return min(max(i, 0), d - 1)
                case .reflect:
                    if d == 1 { return 0 }
                    while i < 0 || i >= d { i = i < 0 ? -i : 2 * (d - 1) - i }
                    return i
                }
            })
        }
        if s.isEmpty { throw fail("cannot pad a scalar") }
        if case .constant = mode {} else if s.contains(0) { throw fail("cannot reflect or edge-pad an empty axis") }
        var value: Float = 0
        if case let .constant(v) = mode { value = v }
        return LoweredNode(outputs: [(out, .float32)],
                           op: PadOperator(outputShape: out, inputStrides: contiguousStrides(s), maps: maps, value: value))
    }
}
