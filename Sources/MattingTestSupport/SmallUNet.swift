import MattingEngine

/// A small MobileNetV3-style segmentation UNet written with ``GraphBuilder``: stride-2
/// encoder convolutions, depthwise convolutions, hard-swish, a squeeze-and-excite gate,
/// batch norm (to be folded), a transposed-convolution decoder, skip connections through
/// `add` and `concat`, a bilinear resize and a sigmoid head. Input `[1, H, W, 3]` with H and W
/// multiples of 8; output `"mask"` is `[1, H, W, 1]`.
public enum SmallUNet {
    /// Builds the network with seeded random weights (scaled so activations stay O(1)).
    public static func make(seed: UInt64 = 7, width: Int = 8) throws -> Graph {
        var rng = SeededGenerator(seed: seed)
        var b = GraphBuilder()
        func w(_ o: Int, _ kh: Int, _ kw: Int, _ i: Int) -> Tensor {
            let fanIn = Float(kh * kw * i)
            return Tensor(shape: [o, kh, kw, i], floats: rng.floats(o * kh * kw * i, in: -1...1).map { $0 * 1.7 / fanIn.squareRoot() })
        }
        func bias(_ n: Int) -> [Float] { rng.floats(n, in: -0.1...0.1) }
        let c1 = width, c2 = 2 * width, c3 = 3 * width
        let x = b.input("input", shape: [1, nil, nil, 3])

        // Encoder, 1/2: stride-2 conv, separate hard-swish node (fused by the compiler).
        var e1 = b.conv2d(x, weights: w(c1, 3, 3, 3), bias: bias(c1), stride: 2, padding: .same)
        e1 = b.hardSwish(e1)
        e1 = b.depthwiseConv2d(e1, weights: w(c1, 3, 3, 1), bias: bias(c1), activation: .relu)
        // 1x1 expansion with a batch norm (folded) and hard-swish.
        var e = b.conv2d(e1, weights: w(c2, 1, 1, c1))
        e = b.batchNorm(e, scale: rng.floats(c2, in: 0.5...1.5), offset: rng.floats(c2, in: -0.2...0.2),
                        mean: rng.floats(c2, in: -0.2...0.2), variance: rng.floats(c2, in: 0.5...2))
        e = b.hardSwish(e)
        // Encoder, 1/4.
        var e2 = b.depthwiseConv2d(e, weights: w(c2, 3, 3, 1), bias: bias(c2), stride: 2, activation: .relu)
        // Squeeze-and-excite: global pool, two 1x1 convs, hard-sigmoid gate, multiply.
        let pooled = b.globalAveragePool(e2)
        let squeezed = b.conv2d(pooled, weights: w(4, 1, 1, c2), bias: bias(4), activation: .relu)
        let gate = b.conv2d(squeezed, weights: w(c2, 1, 1, 4), bias: bias(c2), activation: .hardSigmoid(alpha: 1.0 / 6, beta: 0.5))
        e2 = b.multiply(e2, gate)
        // Encoder, 1/8.
        var e3 = b.depthwiseConv2d(e2, weights: w(c2, 5, 5, 1), bias: bias(c2), stride: 2, activation: .hardSwish)
        e3 = b.conv2d(e3, weights: w(c3, 1, 1, c2), bias: bias(c3), activation: .hardSwish)

        // Decoder: transposed conv to 1/4, add the skip, relu (a separate node, fused into add).
        var d2 = b.transposedConv2d(e3, weights: w(c2, 2, 2, c3), bias: bias(c2), stride: 2)
        d2 = b.relu(b.add(d2, e2))
        // Bilinear up to 1/2, concatenate the skip, 3x3 conv, average pool.
        let h1 = b.node(.resize(ResizeParameters(mode: .bilinear, coordinateTransform: .halfPixel, target: .scales(height: 2, width: 2))), d2)
        var d1 = b.concat([h1, e1], axis: -1)
        d1 = b.conv2d(d1, weights: w(c1, 3, 3, c2 + c1), bias: bias(c1), activation: .relu)
        d1 = b.averagePool(d1, size: 3, stride: 1, padding: .same)
        // Head: transposed conv to full size, sigmoid.
        let logits = b.transposedConv2d(d1, weights: w(1, 2, 2, c1), bias: bias(1), stride: 2)
        let mask = b.sigmoid(logits)
        return try b.build(outputs: ["mask": mask])
    }
}
