import MattingEngine

/// Transformer operators: MatMul, Gemm, LayerNormalization, Gelu (opset 20), Where,
/// comparisons, Tile, GatherElements, and the refusal of DeformConv. They work on the model's
/// own layout (NCHW for 4-D values); weights are wired, never computed, here: Gemm's `alpha`,
/// `beta` and transposes are emitted as nodes the compiler folds when their inputs are constant.
extension ONNXConverter {
    /// Broadcast batch dimensions, as far as known.
    private func broadcastDims(_ a: [Int?], _ b: [Int?]) -> [Int?] {
        let rank = max(a.count, b.count)
        let pa = [Int?](repeating: 1, count: rank - a.count) + a, pb = [Int?](repeating: 1, count: rank - b.count) + b
        return zip(pa, pb).map { x, y in
            if x == 1 { return y }
            if y == 1 { return x }
            return x ?? y
        }
    }

    mutating func convertMatMul(_ node: ONNXNode) throws {
        let aName = try requiredInput(node, 0), bName = try requiredInput(node, 1)
        let ta = try peek(aName), tb = try peek(bName)
        let ra = try knownRank(ta, aName), rb = try knownRank(tb, bName)
        guard ra >= 1, rb >= 1 else { throw invalid("MatMul of a scalar ('\(aName)' rank \(ra), '\(bName)' rank \(rb))") }
        if let ka = ta.dims?.last ?? nil, let kb = (rb == 1 ? tb.dims?.last : tb.dims?[rb - 2]) ?? nil, ka != kb {
            throw invalid("MatMul of \(formatDims(ta.dims)) by \(formatDims(tb.dims)): inner sizes \(ka) and \(kb) differ")
        }
        // numpy: a 1-D a is a row [1, K], a 1-D b a column [K, 1]; the added axis is dropped after.
        var a = try nchw(aName), b = try nchw(bName)
        if ra == 1 { a = emit(.unsqueeze(axes: [0]), [a], name: engineName("a2d")) }
        if rb == 1 { b = emit(.unsqueeze(axes: [1]), [b], name: engineName("b2d")) }
        let da = ta.dims.map { ra == 1 ? [1] + $0 : $0 }, db = tb.dims.map { rb == 1 ? $0 + [1] : $0 }
        var dims: [Int?]? = nil
        if let da, let db { dims = broadcastDims(Array(da.dropLast(2)), Array(db.dropLast(2))) + [da[da.count - 2], db[db.count - 1]] }
        if ra > 1 && rb > 1 {
            define(node, 0, emit(.matMul(activation: .identity), [a, b]), nhwc: false, dims: dims)
            return
        }
        let product = emit(.matMul(activation: .identity), [a, b], name: engineName("product"))
        let axes = (ra == 1 ? [-2] : []) + (rb == 1 ? [-1] : [])
        dims = dims.map { d in Array(d.dropLast(2)) + (ra == 1 ? [] : [d[d.count - 2]]) + (rb == 1 ? [] : [d[d.count - 1]]) }
        let y = emit(.squeeze(axes: axes), [product])
        define(node, 0, y, nhwc: false, dims: dims)
    }

    mutating func convertGemm(_ node: ONNXNode) throws {
        let aName = try requiredInput(node, 0), bName = try requiredInput(node, 1)
        for name in [aName, bName] {
            let r = try knownRank(try peek(name), name)
            if r != 2 { throw invalid("Gemm input '\(name)' must be 2-D, has rank \(r)") }
        }
        let alpha = attrFloat(node, "alpha", 1), beta = attrFloat(node, "beta", 1)
        var a = try nchw(aName), b = try nchw(bName)
        var da = try peek(aName).dims ?? [nil, nil], db = try peek(bName).dims ?? [nil, nil]
        if attrInt(node, "transA", 0) != 0 { a = emit(.transpose(permutation: [1, 0]), [a], name: engineName("aT")); da.reverse() }
        if attrInt(node, "transB", 0) != 0 { b = emit(.transpose(permutation: [1, 0]), [b], name: engineName("bT")); db.reverse() }
        if let k1 = da[1], let k2 = db[0], k1 != k2 { throw invalid("Gemm inner sizes \(k1) and \(k2) differ") }
        if alpha != 1 {
            // Scales the weights when B is constant (folded by the compiler), else the product's input.
            b = emit(.binary(.multiply, activation: .identity), [b, emitConstant(Tensor(scalar: alpha), name: engineName("alpha"))],
                     name: engineName("alphaB"))
        }
        let n = db[1]
        var inputs = [a, b]
        var addend: Value?
        if let cName = input(node, 2) {
            let c = try peek(cName)
            var bias = try nchw(cName)
            if beta != 1 {
                bias = emit(.binary(.multiply, activation: .identity), [bias, emitConstant(Tensor(scalar: beta), name: engineName("beta"))],
                            name: engineName("betaC"))
            }
            // A constant [N] or [1, N] C is the product's bias; anything else is added after.
            if let cc = constants[cName], let n, cc.count == n, cc.shape.last == n, beta == 1 {
                inputs.append(cc.rank == 1 ? bias : emit(.reshape(shape: [n]), [bias], name: engineName("bias")))
            } else if c.rank.map({ $0 <= 2 }) ?? false {
                addend = bias
            } else {
                throw invalid("Gemm C '\(cName)' must have rank ≤ 2")
            }
        }
        let dims: [Int?] = [da[0], n]
        guard let addend else {
            define(node, 0, emit(.matMul(activation: .identity), inputs), nhwc: false, dims: dims)
            return
        }
        let product = emit(.matMul(activation: .identity), inputs, name: engineName("product"))
        define(node, 0, emit(.binary(.add, activation: .identity), [product, addend]), nhwc: false, dims: dims)
    }

    mutating func convertLayerNormalization(_ node: ONNXNode) throws {
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty && isConsumed($0) }) {
            throw unsupported("the Mean and InvStdDev outputs (training) are not supported")
        }
        let xName = try requiredInput(node, 0)
        let t = try peek(xName)
        let rank = try knownRank(t, xName)
        let axis = normalizedAxis(attrInt(node, "axis", -1), rank: rank)
        guard axis >= 0 && axis < rank else { throw invalid("axis \(attrInt(node, "axis", -1)) is out of range for rank \(rank)") }
        guard let scale = try constantInput(node, 1, "Scale") else { throw invalid("input 1 (Scale) is missing") }
        if let inner = t.dims.map({ Array($0[axis...]) }), inner.allSatisfy({ $0 != nil }) {
            let count = inner.reduce(1) { $0 * $1! }
            if scale.count != count { throw invalid("Scale has \(scale.count) values, the normalised axes \(count)") }
        }
        let scaleName = try requiredInput(node, 1)
        let offset: Value
        if let b = try constantInput(node, 2, "B") {
            if b.count != scale.count { throw invalid("B has \(b.count) values, Scale \(scale.count)") }
            offset = emitConstant(b.reshaped([b.count]), name: "\(try requiredInput(node, 2))#flat")
        } else {
            offset = emitConstant(Tensor(shape: [scale.count], floats: [Float](repeating: 0, count: scale.count)), name: engineName("zeros"))
        }
        let x = try nchw(xName)
        let s = emitConstant(scale.reshaped([scale.count]), name: "\(scaleName)#flat")
        define(node, 0, emit(.layerNorm(axis: axis, epsilon: attrFloat(node, "epsilon", 1e-5)), [x, s, offset]),
               nhwc: false, dims: t.dims)
    }

    /// Opset-20 `Gelu` (`approximate` = none or tanh).
    mutating func convertGelu(_ node: ONNXNode) throws {
        switch attrString(node, "approximate", "none") {
        case "none": try convertUnary(node, .gelu)
        case "tanh": try convertUnary(node, .geluTanh)
        case let other: throw invalid("approximate '\(other)' (none or tanh)")
        }
    }

    mutating func convertWhere(_ node: ONNXNode) throws {
        let names = try (0..<3).map { try requiredInput(node, $0) }
        let (operands, nhwc, dims) = try broadcastOperands(names)
        define(node, 0, emit(.where, operands), nhwc: nhwc, dims: dims)
    }

    mutating func convertComparison(_ node: ONNXNode, _ op: ComparisonOperator) throws {
        let (operands, nhwc, dims) = try broadcastOperands([try requiredInput(node, 0), try requiredInput(node, 1)])
        define(node, 0, emit(.compare(op), operands), nhwc: nhwc, dims: dims)
    }

    mutating func convertTile(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0), repeatsName = try requiredInput(node, 1)
        let t = try peek(name)
        var dims: [Int?]? = t.dims.map { [Int?](repeating: nil, count: $0.count) }
        if let r = try constantInts(node, 1, "repeats"), let d = t.dims {
            if r.count != d.count { throw invalid("repeats has \(r.count) values for rank \(d.count)") }
            dims = zip(d, r).map { x, k in x.map { $0 * k } }
        }
        define(node, 0, emit(.tile, [try nchw(name), try nchw(repeatsName)]), nhwc: false, dims: dims)
    }

    mutating func convertGatherElements(_ node: ONNXNode) throws {
        let name = try requiredInput(node, 0), indicesName = try requiredInput(node, 1)
        let t = try peek(name), indices = try peek(indicesName)
        let rank = try knownRank(t, name)
        if let r = indices.rank, r != rank { throw invalid("indices have rank \(r), data rank \(rank)") }
        let axis = try engineAxis(attrInt(node, "axis", 0), rank: rank, nhwc: false)
        define(node, 0, emit(.gatherElements(axis: axis), [try nchw(name), try nchw(indicesName)]), nhwc: false,
               dims: indices.dims)
    }

    /// Deformable convolution (opset 19) is not implemented: a clear refusal.
    func refuseDeformConv(_ node: ONNXNode) throws {
        throw unsupported("DeformConv (deformable convolution) is not supported by the engine. BiRefNet's decoder and models built on it "
            + "(RMBG-2.0, BiRefNet-lite/-portrait/-matting) use it; U²-Net, ISNet, MODNet and plain ViT/Swin segmenters do not")
    }

    private func formatDims(_ d: [Int?]?) -> String {
        guard let d else { return "[?]" }
        return "[" + d.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// The transformer operators' handlers (merged into ``ONNXConverter/handlers``).
    static let transformerHandlers: [String: Handler] = [
        "MatMul": { try $0.convertMatMul($1) },
        "Gemm": { try $0.convertGemm($1) },
        "LayerNormalization": { try $0.convertLayerNormalization($1) },
        "Gelu": { try $0.convertGelu($1) },
        "Where": { try $0.convertWhere($1) },
        "Equal": { try $0.convertComparison($1, .equal) },
        "Less": { try $0.convertComparison($1, .less) },
        "Greater": { try $0.convertComparison($1, .greater) },
        "LessOrEqual": { try $0.convertComparison($1, .lessOrEqual) },
        "GreaterOrEqual": { try $0.convertComparison($1, .greaterOrEqual) },
        "Tile": { try $0.convertTile($1) },
        "GatherElements": { try $0.convertGatherElements($1) },
        "DeformConv": { try $0.refuseDeformConv($1) },
    ]
}
