import Foundation

/// Multi-node patterns that exporters write for one operation, each replaced by one node:
/// GELU (erf or tanh form) → `unary(.gelu/.geluTanh)`, the decomposed layer norm
/// (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div, then scale and offset) → `layerNorm`,
/// `matMul → scale → softmax(−1) → matMul` → `attention`, and MODNet's IBNorm (channel
/// slices through a batch norm and an instance norm, concatenated) → `splitNorm`. An intermediate value is absorbed
/// only when no reader outside the pattern (and no graph output) needs it.
extension GraphCompiler {
    mutating func fusePatterns() {
        rewriteUntilStable { c, i, index in c.matchLayerNorm(at: i, index) }
        rewriteUntilStable { c, i, index in c.matchGELU(seededAt: i, index) }
        rewriteUntilStable { c, i, index in c.matchAttention(at: i, index) }
        rewriteUntilStable { c, i, index in c.matchSplitNorm(at: i, index) }
    }

    /// One matched pattern: node `last` becomes `operation(inputs)`, the `absorbed` nodes go.
    private struct Fusion {
        var last: Int
        var absorbed: Set<Int>
        var operation: Operation
        var inputs: [String]
    }

    /// Applies the first match at any node, then looks again, until nothing matches.
    private mutating func rewriteUntilStable(_ match: (inout GraphCompiler, Int, Index) -> Fusion?) {
        var changed = true
        while changed {
            changed = false
            let index = Index(self)
            for i in nodes.indices {
                guard let f = match(&self, i, index) else { continue }
                replace(f.last, absorbing: f.absorbed, with: f.operation, inputs: f.inputs)
                changed = true
                break
            }
        }
    }

    /// What the pattern passes need to know about the current node list.
    private struct Index {
        var producer: [String: Int] = [:]
        var uses: [String: Int] = [:]
        init(_ c: GraphCompiler) {
            for (i, n) in c.nodes.enumerated() { for o in n.outputs { producer[o] = i } }
            uses = c.useCounts()
        }
    }

    /// Replaces node `last` by `replacement` and removes `absorbed` (all earlier than `last`).
    private mutating func replace(_ last: Int, absorbing absorbed: Set<Int>, with operation: Operation, inputs: [String]) {
        nodes[last].operation = operation
        nodes[last].inputs = inputs
        nodes = nodes.indices.filter { !absorbed.contains($0) }.map { nodes[$0] }
        fusedNodeCount += absorbed.count
    }

    /// A float32 constant with one value.
    private func scalar(_ name: String) -> Float? {
        guard let c = values[name]?.constant, c.dataType == .float32, c.count == 1 else { return nil }
        return c.floats[0]
    }

    /// The node producing `value` if it has exactly `uses` readers and is not a graph output.
    private func privateProducer(_ value: String, _ index: Index, uses: Int = 1) -> Int? {
        guard index.uses[value] == uses, !graph.outputs.values.contains(value) else { return nil }
        return index.producer[value]
    }

    // MARK: Split norm (MODNet's IBNorm)

    /// Matches from the `concat` over the channels of NHWC `x`: `slice(x, channels 0..<k) →
    /// batchNorm` and `slice(x, channels k..<C) → instanceNorm`, in that order → `splitNorm`
    /// with the batch norm folded into a per-channel scale and shift.
    private mutating func matchSplitNorm(at i: Int, _ index: Index) -> Fusion? {
        let concat = nodes[i]
        guard case let .concat(axis) = concat.operation, concat.inputs.count == 2,
              let shape = values[concat.outputs[0]]?.shape, shape.count == 4, normalizedAxis(axis, rank: 4) == 3,
              let bnIndex = privateProducer(concat.inputs[0], index), case let .batchNorm(bnEpsilon) = nodes[bnIndex].operation,
              let inIndex = privateProducer(concat.inputs[1], index), case let .instanceNorm(epsilon) = nodes[inIndex].operation,
              let firstIndex = privateProducer(nodes[bnIndex].inputs[0], index),
              let secondIndex = privateProducer(nodes[inIndex].inputs[0], index),
              case let .slice(first) = nodes[firstIndex].operation, case let .slice(second) = nodes[secondIndex].operation,
              nodes[firstIndex].inputs.count == 1, nodes[secondIndex].inputs.count == 1,
              nodes[firstIndex].inputs[0] == nodes[secondIndex].inputs[0]
        else { return nil }
        let x = nodes[firstIndex].inputs[0]
        guard let xShape = values[x]?.shape, xShape == shape else { return nil }
        let channels = shape[3]
        /// The channel range a slice keeps, when it slices only the channels, with step 1.
        func channelRange(_ p: SliceParameters) -> Range<Int>? {
            guard p.axes.count == 1, normalizedAxis(p.axes[0], rank: 4) == 3, p.steps == [1],
                  p.starts[0] >= 0, p.ends[0] > p.starts[0] else { return nil }
            return p.starts[0]..<min(p.ends[0], channels)
        }
        guard let a = channelRange(first), let b = channelRange(second),
              a.lowerBound == 0, a.upperBound == b.lowerBound, b.upperBound == channels, !a.isEmpty, !b.isEmpty,
              let (scale, shift) = batchNormAffine(nodes[bnIndex], epsilon: bnEpsilon), scale.count == a.count
        else { return nil }
        let scaleName = "\(nodes[bnIndex].name)/split_scale", shiftName = "\(nodes[bnIndex].name)/split_shift"
        values[scaleName] = ValueDescription(shape: [a.count], dataType: .float32, constant: Tensor(shape: [a.count], floats: scale))
        values[shiftName] = ValueDescription(shape: [a.count], dataType: .float32, constant: Tensor(shape: [a.count], floats: shift))
        return Fusion(
            last: i, absorbed: [bnIndex, inIndex, firstIndex, secondIndex],
            operation: .splitNorm(split: a.count, epsilon: epsilon, activation: .identity),
            inputs: [x, scaleName, shiftName] + nodes[inIndex].inputs.dropFirst())
    }

    // MARK: Layer norm

    /// Matches from the `div` (or `mul` by a reciprocal) that normalises: `d / √(mean(d²) + ε)`
    /// with `d = x − mean(x)` over trailing axes, then an optional `· γ` and `+ β`.
    private mutating func matchLayerNorm(at i: Int, _ index: Index) -> Fusion? {
        let norm = nodes[i]
        var absorbed = Set<Int>()
        var d: String, root: String
        switch norm.operation {
        case .binary(.divide, .identity):
            (d, root) = (norm.inputs[0], norm.inputs[1])
        case .binary(.multiply, .identity):
            // d · (1 / √v), either order.
            guard let k = norm.inputs.firstIndex(where: { name in
                index.producer[name].map { nodes[$0].operation == .unary(.reciprocal) } ?? false
            }), let r = privateProducer(norm.inputs[k], index) else { return nil }
            absorbed.insert(r)
            (d, root) = (norm.inputs[1 - k], nodes[r].inputs[0])
        default: return nil
        }
        guard let sqrtNode = privateProducer(root, index), nodes[sqrtNode].operation == .unary(.sqrt),
              let addNode = privateProducer(nodes[sqrtNode].inputs[0], index),
              nodes[addNode].operation == .binary(.add, activation: .identity) else { return nil }
        let addInputs = nodes[addNode].inputs
        guard let e = addInputs.firstIndex(where: { scalar($0) != nil }), let epsilon = scalar(addInputs[e]),
              let varNode = privateProducer(addInputs[1 - e], index),
              case let .reduce(vp) = nodes[varNode].operation, vp.kind == .mean, vp.keepDimensions,
              let squareNode = privateProducer(nodes[varNode].inputs[0], index) else { return nil }
        // d² as pow(d, 2) or d · d.
        let square = nodes[squareNode]
        let squaresD: Bool
        switch square.operation {
        case .binary(.power, .identity): squaresD = square.inputs[0] == d && scalar(square.inputs[1]) == 2
        case .binary(.multiply, .identity): squaresD = square.inputs[0] == d && square.inputs[1] == d
        default: squaresD = false
        }
        let dUses = square.inputs[1] == d ? 3 : 2
        guard squaresD, let subNode = privateProducer(d, index, uses: dUses),
              nodes[subNode].operation == .binary(.subtract, activation: .identity),
              let meanNode = privateProducer(nodes[subNode].inputs[1], index),
              case let .reduce(mp) = nodes[meanNode].operation, mp.kind == .mean, mp.keepDimensions,
              nodes[meanNode].inputs[0] == nodes[subNode].inputs[0] else { return nil }
        let x = nodes[subNode].inputs[0]
        guard let shape = values[x]?.shape, values[x]?.dataType == .float32, values[d]?.shape == shape,
              let axis = trailingAxes(mp.axes, rank: shape.count), trailingAxes(vp.axes, rank: shape.count) == axis
        else { return nil }
        absorbed.formUnion([sqrtNode, addNode, varNode, squareNode, subNode, meanNode])
        let inner = Array(shape[axis...]), count = elementCount(inner)
        var scale = [Float](repeating: 1, count: count), offset = [Float](repeating: 0, count: count)
        var last = i
        // Optional affine: · γ then + β (constants that broadcast over the normalised axes only).
        if let (next, g) = affineConsumer(of: nodes[last].outputs[0], .multiply, inner: inner, index) {
            absorbed.insert(last); last = next; scale = g
            if let (next2, b) = affineConsumer(of: nodes[last].outputs[0], .add, inner: inner, index) {
                absorbed.insert(last); last = next2; offset = b
            }
        }
        let s = "\(nodes[last].name)/layer_norm_scale", o = "\(nodes[last].name)/layer_norm_offset"
        values[s] = ValueDescription(shape: [count], dataType: .float32, constant: Tensor(shape: [count], floats: scale))
        values[o] = ValueDescription(shape: [count], dataType: .float32, constant: Tensor(shape: [count], floats: offset))
        return Fusion(last: last, absorbed: absorbed, operation: .layerNorm(axis: axis, epsilon: epsilon), inputs: [x, s, o])
    }

    /// The normalised axes if `axes` are exactly the trailing ones, as the first of them.
    private func trailingAxes(_ axes: [Int], rank: Int) -> Int? {
        let normal = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        guard let first = normal.first, normal == Array(first..<rank) else { return nil }
        return first
    }

    /// The single reader of `value` if it is `value ∘ c` with a constant `c` that varies only
    /// over the `inner` trailing dimensions; `c` expanded to `prod(inner)` values.
    private func affineConsumer(of value: String, _ op: BinaryOperator, inner: [Int], _ index: Index) -> (Int, [Float])? {
        guard index.uses[value] == 1, !graph.outputs.values.contains(value),
              let j = nodes.firstIndex(where: { $0.inputs.contains(value) }),
              nodes[j].operation == .binary(op, activation: .identity) else { return nil }
        let other = nodes[j].inputs[0] == value ? nodes[j].inputs[1] : nodes[j].inputs[0]
        guard let c = values[other]?.constant, c.dataType == .float32, values[nodes[j].outputs[0]]?.shape == values[value]?.shape
        else { return nil }
        let count = elementCount(inner)
        if c.count == 1 { return (j, [Float](repeating: c.floats[0], count: count)) }
        var shape = c.shape
        while shape.first == 1 && shape.count > inner.count { shape.removeFirst() }
        let padded = [Int](repeating: 1, count: max(0, inner.count - shape.count)) + shape
        guard padded.count == inner.count, c.count == count, padded == inner else { return nil }
        return (j, c.floats)
    }

    // MARK: GELU

    // GELU: element-wise regions of one variable `x` (scalar constants aside) whose function,
    // probed at many points, is GELU in its erf or tanh form, seeded at an `erf` or `tanh`.
    // Probing instead of matching operand orders accepts every arrangement exporters write
    // (`x · 0.5 · (1 + erf(x / √2))`, `0.5 · x · (…)`, `x · (…) · 0.5`, `pow(x, 3)` or `x · x · x`).

    /// Whether a node is element-wise over its inputs with a formula `probe` can evaluate.
    private func elementWise(_ op: Operation) -> Bool {
        switch op {
        case .binary(_, .identity), .unary, .activation(.tanh), .activation(.identity): true
        default: false
        }
    }

    private func matchGELU(seededAt seed: Int, _ index: Index) -> Fusion? {
        switch nodes[seed].operation {
        case .unary(.erf), .activation(.tanh): break
        default: return nil
        }
        // Candidates for the variable: values the seed's input is computed from through
        // element-wise nodes (a few levels back), nearest first.
        var candidates: [String] = [], frontier = [nodes[seed].inputs[0]]
        while let v = frontier.first, candidates.count < 12 {
            frontier.removeFirst()
            guard scalar(v) == nil, !candidates.contains(v) else { continue }
            candidates.append(v)
            if let p = index.producer[v], elementWise(nodes[p].operation) { frontier += nodes[p].inputs }
        }
        for x in candidates {
            if let (last, absorbed, f) = matchGELU(seededAt: seed, variable: x, index) {
                return Fusion(last: last, absorbed: absorbed, operation: .unary(f), inputs: [x])
            }
        }
        return nil
    }

    private func matchGELU(seededAt seed: Int, variable x: String, _ index: Index) -> (Int, Set<Int>, UnaryFunction)? {
        guard let shape = values[x]?.shape, values[x]?.dataType == .float32 else { return nil }
        // The region: element-wise nodes after the seed's inputs whose inputs are x, scalar
        // constants or region values, in node order (nodes are topologically sorted).
        var region: [Int] = [], inRegion = Set<String>([x])
        let start = index.producer[x].map { $0 + 1 } ?? 0
        for j in start..<nodes.count where region.count < 16 {
            let n = nodes[j]
            guard elementWise(n.operation), n.outputs.count == 1, values[n.outputs[0]]?.shape == shape,
                  n.inputs.allSatisfy({ inRegion.contains($0) || scalar($0) != nil }),
                  n.inputs.contains(where: { inRegion.contains($0) }) else { continue }
            region.append(j)
            inRegion.insert(n.outputs[0])
        }
        guard region.contains(seed) else { return nil }
        // The largest closed sub-region ending at some node that evaluates to GELU.
        for last in region.reversed() where last > seed {
            var members = Set<Int>([last]), frontier = [last]
            while let j = frontier.popLast() {
                for input in nodes[j].inputs where input != x {
                    if let p = index.producer[input], region.contains(p), !members.contains(p) { members.insert(p); frontier.append(p) }
                }
            }
            guard members.contains(seed) else { continue }
            let inner = members.subtracting([last])
            let closed = inner.allSatisfy { j in
                let o = nodes[j].outputs[0]
                let readers = nodes.indices.filter { nodes[$0].inputs.contains(o) }
                return !graph.outputs.values.contains(o) && readers.allSatisfy { members.contains($0) }
            }
            guard closed, let f = probeGELU(members.sorted(), x: x) else { continue }
            return (last, inner, f)
        }
        return nil
    }

    /// Evaluates the region (in order) at probe points and names the GELU form it computes.
    private func probeGELU(_ region: [Int], x: String) -> UnaryFunction? {
        let points = (0..<121).map { -6 + Double($0) * 0.1 }
        var v: [String: [Double]] = [x: points]
        for j in region {
            let n = nodes[j]
            let args = n.inputs.map { v[$0] ?? [Double](repeating: Double(scalar($0) ?? .nan), count: points.count) }
            var out = [Double](repeating: 0, count: points.count)
            for p in points.indices {
                let a = args[0][p], b = args.count > 1 ? args[1][p] : 0
                switch n.operation {
                case let .binary(op, _):
                    switch op {
                    case .add: out[p] = a + b
                    case .subtract: out[p] = a - b
                    case .multiply: out[p] = a * b
                    case .divide: out[p] = a / b
                    case .minimum: out[p] = Swift.min(a, b)
                    case .maximum: out[p] = Swift.max(a, b)
                    case .power: out[p] = Foundation.pow(a, b)
                    }
                case .unary(.erf): out[p] = Foundation.erf(a)
                case .unary(.gelu): out[p] = 0.5 * a * (1 + Foundation.erf(a / 2.0.squareRoot()))
                case .activation(.tanh): out[p] = Foundation.tanh(a)
                case .activation(.identity): out[p] = a
                default: return nil
                }
            }
            v[n.outputs[0]] = out
        }
        guard let result = v[nodes[region.last!].outputs[0]] else { return nil }
        let forms: [(UnaryFunction, (Double) -> Double)] = [
            (.gelu, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }),
            (.geluTanh, { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
        ]
        // The forms differ by up to 5e-4; float32 constants (√2, √(2/π) rounded) move a
        // correct region by ~1e-7, so 1e-5 tells them apart with room on both sides.
        for (f, g) in forms where zip(points, result).allSatisfy({ abs(g($0) - $1) <= 1e-5 * Swift.max(1, abs(g($0))) }) {
            return f
        }
        return nil
    }

    // MARK: Attention

    /// Matches `matMul(softmax(scale · matMul(q, kᵀ), −1), v)` at the last matMul.
    private func matchAttention(at i: Int, _ index: Index) -> Fusion? {
        guard nodes[i].operation == .matMul(activation: .identity), nodes[i].inputs.count == 2,
              let sm = privateProducer(nodes[i].inputs[0], index), case let .softmax(axis) = nodes[sm].operation,
              let rank = values[nodes[sm].inputs[0]]?.shape.count, axis == -1 || axis == rank - 1
        else { return nil }
        var absorbed: Set<Int> = [sm]
        var scores = nodes[sm].inputs[0], scale: Float = 1
        if let s = privateProducer(scores, index), case let .binary(op, .identity) = nodes[s].operation,
           op == .multiply || op == .divide {
            let ins = nodes[s].inputs
            if let c = scalar(ins[1]) {
                scale = op == .multiply ? c : 1 / c
                scores = ins[0]
                absorbed.insert(s)
            } else if op == .multiply, let c = scalar(ins[0]) {
                scale = c
                scores = ins[1]
                absorbed.insert(s)
            }
        }
        guard let mm = privateProducer(scores, index), nodes[mm].operation == .matMul(activation: .identity),
              nodes[mm].inputs.count == 2 else { return nil }
        absorbed.insert(mm)
        var key = nodes[mm].inputs[1], keyTransposed = true
        if let t = privateProducer(key, index), case let .transpose(perm) = nodes[t].operation, perm.count >= 2,
           perm == Array(0..<(perm.count - 2)) + [perm.count - 1, perm.count - 2] {
            key = nodes[t].inputs[0]
            keyTransposed = false
            absorbed.insert(t)
        }
        return Fusion(last: i, absorbed: absorbed, operation: .attention(scale: scale, keyTransposed: keyTransposed),
                      inputs: [nodes[mm].inputs[0], key, nodes[i].inputs[1]])
    }
}
