extension GraphCompiler {
    /// Folds batch norms into the convolution before them, fuses activations into the
    /// convolution or binary operator before them, and merges a zero `pad` of H and W into the
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
        case (.binary(let op, .identity), .activation(let a)):
            return (.binary(op, activation: a), producer.inputs)
        case (.conv2d(let p), .batchNorm(let epsilon)) where p.activation == .identity:
            guard let inputs = foldBatchNorm(producer, consumer, epsilon: epsilon) else { return nil }
            return (producer.operation, inputs)
        case (.transposedConv2d(let p), .batchNorm(let epsilon)) where p.activation == .identity:
            guard let inputs = foldBatchNorm(producer, consumer, epsilon: epsilon) else { return nil }
            return (producer.operation, inputs)
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

    /// Scales each output channel's weights by `γ / √(σ² + ε)` and moves the rest into the
    /// bias; returns the convolution's new inputs (new constants are registered).
    private mutating func foldBatchNorm(_ conv: Node, _ bn: Node, epsilon: Float) -> [String]? {
        guard let w = values[conv.inputs[1]]?.constant, w.dataType == .float32 else { return nil }
        let params = bn.inputs.dropFirst().map { values[$0]?.constant?.floats }
        let outC = w.shape[0]
        guard params.allSatisfy({ $0?.count == outC }) else { return nil }
        let (gamma, beta, mean, variance) = (params[0]!, params[1]!, params[2]!, params[3]!)
        let oldBias = conv.inputs.count > 2 ? values[conv.inputs[2]]?.constant?.floats : [Float](repeating: 0, count: outC)
        guard let oldBias, oldBias.count == outC else { return nil }
        var weights = w.floats
        let perChannel = weights.count / outC
        var bias = oldBias
        for o in 0..<outC {
            let s = gamma[o] / (variance[o] + epsilon).squareRoot()
            for k in 0..<perChannel { weights[o * perChannel + k] *= s }
            bias[o] = (oldBias[o] - mean[o]) * s + beta[o]
        }
        let wName = "\(conv.name)/bn_folded_weights", bName = "\(conv.name)/bn_folded_bias"
        let wt = Tensor(shape: w.shape, floats: weights), bt = Tensor(shape: [outC], floats: bias)
        values[wName] = ValueDescription(shape: wt.shape, dataType: .float32, constant: wt)
        values[bName] = ValueDescription(shape: bt.shape, dataType: .float32, constant: bt)
        return [conv.inputs[0], wName, bName]
    }
}
