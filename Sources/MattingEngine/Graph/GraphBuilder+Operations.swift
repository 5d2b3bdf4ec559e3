/// Convenience methods for each operation.
extension GraphBuilder {
    /// A 2-D convolution. `weights` are OHWI (`[outC, kh, kw, inC / groups]`).
    public mutating func conv2d(
        _ x: Value, weights: Tensor, bias: [Float]? = nil, stride: Int = 1, dilation: Int = 1,
        groups: Int = 1, padding: Padding = .same, activation: Activation = .identity, name: String? = nil
    ) -> Value {
        let p = Conv2DParameters(
            strideHeight: stride, strideWidth: stride, dilationHeight: dilation, dilationWidth: dilation,
            groups: groups, padding: padding, activation: activation)
        var ins = [x, constant(weights)]
        if let bias { ins.append(constant(bias, shape: [bias.count])) }
        return add(.conv2d(p), inputs: ins, name: name)[0]
    }

    /// A depthwise convolution; `weights` are `[channels, kh, kw, 1]`.
    public mutating func depthwiseConv2d(
        _ x: Value, weights: Tensor, bias: [Float]? = nil, stride: Int = 1, dilation: Int = 1,
        padding: Padding = .same, activation: Activation = .identity, name: String? = nil
    ) -> Value {
        conv2d(x, weights: weights, bias: bias, stride: stride, dilation: dilation,
               groups: weights.shape[0], padding: padding, activation: activation, name: name)
    }

    /// A transposed convolution; `weights` are `[outC, kh, kw, inC / groups]`.
    public mutating func transposedConv2d(
        _ x: Value, weights: Tensor, bias: [Float]? = nil, stride: Int = 2, padding: Padding = .same,
        activation: Activation = .identity, name: String? = nil
    ) -> Value {
        let p = TransposedConv2DParameters(
            strideHeight: stride, strideWidth: stride, padding: padding, activation: activation)
        var ins = [x, constant(weights)]
        if let bias { ins.append(constant(bias, shape: [bias.count])) }
        return add(.transposedConv2d(p), inputs: ins, name: name)[0]
    }

    /// Inference batch normalisation over the last (channel) axis.
    public mutating func batchNorm(
        _ x: Value, scale: [Float], offset: [Float], mean: [Float], variance: [Float],
        epsilon: Float = 1e-5, name: String? = nil
    ) -> Value {
        let c = scale.count
        return node(
            .batchNorm(epsilon: epsilon), x, constant(scale, shape: [c]), constant(offset, shape: [c]),
            constant(mean, shape: [c]), constant(variance, shape: [c]), name: name)
    }

    public mutating func maxPool(_ x: Value, size: Int, stride: Int, padding: Padding = .valid) -> Value {
        node(.pool(PoolParameters(kind: .max, kernelHeight: size, kernelWidth: size,
                                  strideHeight: stride, strideWidth: stride, padding: padding)), x)
    }

    public mutating func averagePool(
        _ x: Value, size: Int, stride: Int, padding: Padding = .valid, countIncludesPadding: Bool = false
    ) -> Value {
        node(.pool(PoolParameters(kind: .average, kernelHeight: size, kernelWidth: size,
                                  strideHeight: stride, strideWidth: stride, padding: padding,
                                  countIncludesPadding: countIncludesPadding)), x)
    }

    public mutating func globalAveragePool(_ x: Value) -> Value { node(.globalAveragePool, x) }

    public mutating func mean(_ x: Value, axes: [Int], keepDimensions: Bool = true) -> Value {
        node(.reduce(ReduceParameters(kind: .mean, axes: axes, keepDimensions: keepDimensions)), x)
    }

    /// Bilinear resize of an NHWC tensor to `height × width`.
    public mutating func resizeBilinear(
        _ x: Value, height: Int, width: Int, coordinateTransform: CoordinateTransform = .halfPixel
    ) -> Value {
        node(.resize(ResizeParameters(mode: .bilinear, coordinateTransform: coordinateTransform,
                                      target: .size(height: height, width: width))), x)
    }

    public mutating func resize(_ x: Value, _ parameters: ResizeParameters) -> Value { node(.resize(parameters), x) }

    public mutating func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, activation: Activation = .identity) -> Value {
        node(.binary(op, activation: activation), a, b)
    }
    public mutating func add(_ a: Value, _ b: Value, activation: Activation = .identity) -> Value {
        binary(.add, a, b, activation: activation)
    }
    public mutating func subtract(_ a: Value, _ b: Value) -> Value { binary(.subtract, a, b) }
    public mutating func multiply(_ a: Value, _ b: Value) -> Value { binary(.multiply, a, b) }
    public mutating func divide(_ a: Value, _ b: Value) -> Value { binary(.divide, a, b) }

    public mutating func activation(_ x: Value, _ a: Activation) -> Value { node(.activation(a), x) }
    public mutating func relu(_ x: Value) -> Value { activation(x, .relu) }
    public mutating func hardSwish(_ x: Value) -> Value { activation(x, .hardSwish) }
    public mutating func sigmoid(_ x: Value) -> Value { activation(x, .sigmoid) }
    public mutating func unary(_ x: Value, _ f: UnaryFunction) -> Value { node(.unary(f), x) }
    public mutating func prelu(_ x: Value, slope: [Float]) -> Value {
        node(.prelu, x, constant(slope, shape: [slope.count]))
    }
    public mutating func softmax(_ x: Value, axis: Int = -1) -> Value { node(.softmax(axis: axis), x) }

    public mutating func concat(_ values: [Value], axis: Int = -1) -> Value {
        add(.concat(axis: axis), inputs: values)[0]
    }
    public mutating func split(_ x: Value, axis: Int, sizes: [Int]) -> [Value] {
        add(.split(axis: axis, sizes: sizes), inputs: [x])
    }
    public mutating func slice(_ x: Value, _ p: SliceParameters) -> Value { node(.slice(p), x) }
    public mutating func pad(_ x: Value, before: [Int], after: [Int], mode: PadMode = .constant(0)) -> Value {
        node(.pad(before: before, after: after, mode: mode), x)
    }
    public mutating func transpose(_ x: Value, _ permutation: [Int]) -> Value {
        node(.transpose(permutation: permutation), x)
    }
    public mutating func reshape(_ x: Value, _ shape: [Int]) -> Value { node(.reshape(shape: shape), x) }
    /// Reshape to a shape computed by the graph (an int64 value known at compile time).
    public mutating func reshape(_ x: Value, shape: Value) -> Value { node(.reshape(shape: nil), x, shape) }
    public mutating func flatten(_ x: Value, axis: Int = 1) -> Value { node(.flatten(axis: axis), x) }
    public mutating func squeeze(_ x: Value, axes: [Int]) -> Value { node(.squeeze(axes: axes), x) }
    public mutating func unsqueeze(_ x: Value, axes: [Int]) -> Value { node(.unsqueeze(axes: axes), x) }
    public mutating func shape(_ x: Value) -> Value { node(.shape, x) }
    public mutating func gather(_ x: Value, indices: Value, axis: Int = 0) -> Value {
        node(.gather(axis: axis), x, indices)
    }
    public mutating func cast(_ x: Value, to type: DataType) -> Value { node(.cast(to: type), x) }
    public mutating func depthToSpace(_ x: Value, blockSize: Int) -> Value {
        node(.depthToSpace(blockSize: blockSize), x)
    }
}
