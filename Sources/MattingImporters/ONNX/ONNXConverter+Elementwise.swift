import MattingEngine

/// Activations, unary functions and broadcasting binary operators. They keep their input's
/// layout; binary operators bring every operand to one layout first.
extension ONNXConverter {
    mutating func convertActivation(_ node: ONNXNode, _ activation: Activation) throws {
        let t = try tracked(try requiredInput(node, 0))
        define(node, 0, emit(.activation(activation), [t.value]), nhwc: t.nhwc, dims: t.dims)
    }

    mutating func convertUnary(_ node: ONNXNode, _ function: UnaryFunction) throws {
        let t = try tracked(try requiredInput(node, 0))
        define(node, 0, emit(.unary(function), [t.value]), nhwc: t.nhwc, dims: t.dims)
    }

    /// `Identity`, inference-mode `Dropout`: the output is the input.
    mutating func convertIdentity(_ node: ONNXNode) throws {
        try requireOnlyFirstOutput(node)
        let name = try requiredInput(node, 0)
        let t = try tracked(name)
        guard let out = node.outputs.first, !out.isEmpty else { return }
        values[out] = t
        if let c = constants[name] { constants[out] = c }
    }

    mutating func convertClip(_ node: ONNXNode) throws {
        var lo = -Float.infinity, hi = Float.infinity
        if opset < 11 {
            lo = attrFloat(node, "min", lo); hi = attrFloat(node, "max", hi)
        } else {
            if let m = try constantInput(node, 1, "min") { lo = m.floats.first ?? lo }
            if let m = try constantInput(node, 2, "max") { hi = m.floats.first ?? hi }
        }
        let activation: Activation = lo == 0 && hi == .infinity ? .relu : lo == 0 && hi == 6 ? .relu6 : .clip(min: lo, max: hi)
        try convertActivation(node, activation)
    }

    /// Binary (and variadic Max/Min/Sum) element-wise operators with numpy broadcasting.
    mutating func convertBinary(_ node: ONNXNode, _ op: BinaryOperator) throws {
        let names = node.inputs.filter { !$0.isEmpty }
        guard let first = names.first else { throw invalid("no inputs") }
        if names.count == 1 { return try convertIdentity(node) }
        var acc = first
        for (i, next) in names.dropFirst().enumerated() {
            let last = i == names.count - 2
            let (operands, nhwc, dims) = try broadcastOperands([acc, next])
            let name = last ? engineName() : engineName("partial\(i)")
            let out = emit(.binary(op, activation: .identity), operands, name: name)
            let outName = last ? node.outputs.first ?? name : name
            values[outName] = TrackedValue(value: out, nhwc: nhwc, dims: dims)
            acc = outName
        }
    }

    mutating func convertPRelu(_ node: ONNXNode) throws {
        let (operands, nhwc, dims) = try broadcastOperands([try requiredInput(node, 0), try requiredInput(node, 1)])
        define(node, 0, emit(.prelu, operands), nhwc: nhwc, dims: dims)
    }

    /// Brings the operands of a broadcasting operator to one layout: NHWC when the result is
    /// 4-D and some operand is already held in NHWC, NCHW otherwise. Lower-rank operands of an
    /// NHWC result are aligned as numpy would align them against NCHW, then permuted.
    mutating func broadcastOperands(_ names: [String]) throws -> ([Value], nhwc: Bool, dims: [Int?]?) {
        let ts = try names.map { try peek($0) }
        let ranks = ts.compactMap(\.rank)
        let outRank = ranks.count == ts.count ? ranks.max() ?? 0 : nil
        let dims: [Int?]? = outRank.map { r in
            (0..<r).map { axis -> Int? in
                var known: Int? = 1
                for t in ts {
                    guard let d = t.dims else { return nil }
                    let i = axis - (r - d.count)
                    guard i >= 0 else { continue }
                    guard let v = d[i] else { return nil }
                    if v != 1 { known = v }
                }
                return known
            }
        }
        guard outRank == 4, ts.contains(where: \.nhwc) else {
            return (try names.map { try nchw($0) }, false, dims)
        }
        var operands: [Value] = []
        for (name, t) in zip(names, ts) {
            if t.nhwc { operands.append(t.value); continue }
            let rank = t.rank ?? 0
            if rank == 4 { operands.append(try nhwc(name)); continue }
            if let c = constants[name] {
                if c.count == 1 { operands.append(try tracked(name).value); continue }
                // Align to NCHW by prepending 1s, permute, then drop the leading 1s again.
                var nhwcTensor = c.reshaped(Array(repeating: 1, count: 4 - rank) + c.shape).nhwcFromNCHW()
                while nhwcTensor.rank > 1 && nhwcTensor.shape[0] == 1 { nhwcTensor = nhwcTensor.reshaped(Array(nhwcTensor.shape.dropFirst())) }
                operands.append(emitConstant(nhwcTensor, name: "\(name)#nhwc"))
                continue
            }
            // A computed lower-rank operand: make it 4-D, then NHWC.
            let key = "\(t.value.name)#rank4#nhwc"
            if let cached = relayoutCache[key] { operands.append(cached); continue }
            let expanded = emit(.unsqueeze(axes: Array(0..<(4 - rank))), [t.value], name: "\(t.value.name)#rank4")
            let permuted = emit(.transpose(permutation: nchwOfNHWC), [expanded], name: key)
            relayoutCache[key] = permuted
            operands.append(permuted)
        }
        return (operands, true, dims)
    }
}
