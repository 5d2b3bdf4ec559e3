extension GraphCompiler {
    /// Folds batch norms into the convolution before them, fuses activations into the
    /// convolution or binary operator before them, a constant bias add into the matrix
    /// product before it, and merges a zero `pad` of H and W into the
    /// convolution after it, whenever the intermediate value has no other reader (and is not
    /// a graph output).
    mutating func fuse() {
        var changed = true
        while changed {
            changed = false
            let uses = useCounts()
            var producer: [String: Int] = [:]
            for (i, n) in nodes.enumerated() { for o in n.outputs { producer[o] = i } }
            for (j, consumer) in nodes.enumerated() {
                guard let source = consumer.inputs.first, uses[source] == 1, let p = producer[source] else { continue }
                guard let fusedOperation = fused(nodes[p], into: consumer) else { continue }
                nodes[p].operation = fusedOperation.operation
                nodes[p].inputs = fusedOperation.inputs
                nodes[p].outputs = consumer.outputs
                nodes.remove(at: j)
                fusedNodeCount += 1
                changed = true
                break
            }
        }
    }

    /// The producer rewritten to include the consumer, or nil if they do not fuse.
    private mutating func fused(_ producer: Node, into consumer: Node) -> (operation: Operation, inputs: [String])? {
        switch (producer.operation, consumer.operation) {
        case (.conv2d(var p), .activation(let a)) where p.activation == .identity:
            p.activation = a
            return (.conv2d(p), producer.inputs)
        case (.transposedConv2d(var p), .activation(let a)) where p.activation == .identity:
            p.activation = a
            return (.transposedConv2d(p), producer.inputs)
        case (.channelMix(.identity), .activation(let a)):
            return (.channelMix(activation: a), producer.inputs)
        case (.matMul(.identity), .activation(let a)):
            return (.matMul(activation: a), producer.inputs)
        case (.matMul(.identity), .binary(.add, let a)) where producer.inputs.count == 2:
            // `MatMul + bias` as exporters write a Linear layer: a constant that varies only
            // along the last axis becomes the product's bias.
            guard consumer.inputs.count == 2, consumer.inputs[0] != consumer.inputs[1],
                  let k = values[consumer.inputs[1]]?.constant, k.dataType == .float32,
                  let n = values[producer.outputs[0]]?.shape.last, k.shape.last == n, k.count == n,
                  values[consumer.outputs[0]]?.shape == values[producer.outputs[0]]?.shape else { return nil }
            let name = "\(producer.name)/bias_\(fusedNodeCount)"
            let bias = Tensor(shape: [n], floats: k.floats)
            values[name] = ValueDescription(shape: [n], dataType: .float32, constant: bias)
            return (.matMul(activation: a), producer.inputs + [name])
        case (.splitNorm(let split, let epsilon, .identity), .activation(let a)):
            return (.splitNorm(split: split, epsilon: epsilon, activation: a), producer.inputs)
        case (.binary(let op, .identity), .activation(let a)):
            return (.binary(op, activation: a), producer.inputs)
        case (.conv2d(let p), .batchNorm(let epsilon)) where p.activation == .identity:
            guard let (scale, shift) = batchNormAffine(consumer, epsilon: epsilon),
                  let inputs = foldChannelAffine(into: producer, scale: scale, shift: shift) else { return nil }
            return (producer.operation, inputs)
        case (.transposedConv2d(let p), .batchNorm(let epsilon)) where p.activation == .identity:
            guard let (scale, shift) = batchNormAffine(consumer, epsilon: epsilon),
                  let inputs = foldChannelAffine(into: producer, scale: scale, shift: shift) else { return nil }
            return (producer.operation, inputs)
        case (.conv2d(var p), .binary(let op, let a)) where p.activation == .identity:
            guard let inputs = foldConstantOperand(op, consumer, into: producer) else { return nil }
            p.activation = a
            return (.conv2d(p), inputs)
        case (.transposedConv2d(var p), .binary(let op, let a)) where p.activation == .identity:
            guard let inputs = foldConstantOperand(op, consumer, into: producer) else { return nil }
            p.activation = a
            return (.transposedConv2d(p), inputs)
        case (.pad(let before, let after, .constant(0)), .conv2d(var p)):
            guard before.count == 4, before[0] == 0, before[3] == 0, after[0] == 0, after[3] == 0 else { return nil }
            switch p.padding {
            case .valid:
                p.padding = .explicit(top: before[1], left: before[2], bottom: after[1], right: after[2])
            case let .explicit(t, l, b, r):
                p.padding = .explicit(top: t + before[1], left: l + before[2], bottom: b + after[1], right: r + after[2])
            default:
                return nil
            }
            return (.conv2d(p), [producer.inputs[0]] + consumer.inputs.dropFirst())
        default:
            return nil
        }
    }

    /// A batch norm as `x · scale + shift` per channel: `scale = γ / √(σ² + ε)`, `shift = β − μ · scale`.
    func batchNormAffine(_ bn: Node, epsilon: Float) -> (scale: [Float], shift: [Float])? {
        let params = bn.inputs.dropFirst().map { values[$0]?.constant?.floats }
        guard params.count == 4, let c = params[0]?.count, params.allSatisfy({ $0?.count == c }) else { return nil }
        let (gamma, beta, mean, variance) = (params[0]!, params[1]!, params[2]!, params[3]!)
        let scale = (0..<c).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        return (scale, (0..<c).map { beta[$0] - mean[$0] * scale[$0] })
    }

    /// `conv + k`, `conv − k` or `conv · k` with a constant `k` that is per channel (`[C]`,
    /// `[1, 1, 1, C]`) or a single value, folded into the convolution's weights and bias.
    private mutating func foldConstantOperand(_ op: BinaryOperator, _ binary: Node, into conv: Node) -> [String]? {
        guard binary.inputs.count == 2, binary.inputs[0] != binary.inputs[1],
              let k = values[binary.inputs[1]]?.constant, k.dataType == .float32,
              let outC = values[conv.inputs[1]]?.constant?.shape.first,
              k.shape.dropLast().allSatisfy({ $0 == 1 }), k.rank <= 4, k.count == outC || k.count == 1
        else { return nil }
        let v = k.count == outC ? k.floats : [Float](repeating: k.floats[0], count: outC)
        let ones = [Float](repeating: 1, count: outC), zeros = [Float](repeating: 0, count: outC)
        switch op {
        case .add: return foldChannelAffine(into: conv, scale: ones, shift: v)
        case .subtract: return foldChannelAffine(into: conv, scale: ones, shift: v.map { -$0 })
        case .multiply: return foldChannelAffine(into: conv, scale: v, shift: zeros)
        default: return nil
        }
    }

    /// Rewrites a convolution so its output becomes `output · scale[c] + shift[c]`: each output
    /// channel's weights are scaled and the bias becomes `bias · scale + shift`. Returns the
    /// convolution's new inputs (the new constants are registered).
    private mutating func foldChannelAffine(into conv: Node, scale: [Float], shift: [Float]) -> [String]? {
        guard let w = values[conv.inputs[1]]?.constant, w.dataType == .float32, let outC = w.shape.first,
              scale.count == outC, shift.count == outC else { return nil }
        let oldBias = conv.inputs.count > 2 ? values[conv.inputs[2]]?.constant?.floats : [Float](repeating: 0, count: outC)
        guard let oldBias, oldBias.count == outC else { return nil }
        var weights = w.floats
        let perChannel = weights.count / outC
        for o in 0..<outC {
            for k in 0..<perChannel { weights[o * perChannel + k] *= scale[o] }
        }
        let bias = (0..<outC).map { oldBias[$0] * scale[$0] + shift[$0] }
        let wName = "\(conv.name)/folded_weights_\(fusedNodeCount)", bName = "\(conv.name)/folded_bias_\(fusedNodeCount)"
        let wt = Tensor(shape: w.shape, floats: weights), bt = Tensor(shape: [outC], floats: bias)
        values[wName] = ValueDescription(shape: wt.shape, dataType: .float32, constant: wt)
        values[bName] = ValueDescription(shape: bt.shape, dataType: .float32, constant: bt)
        return [conv.inputs[0], wName, bName]
    }
}
