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

    /// Max pooling over H and W of NHWC input with a square window.
    public mutating func maxPool(_ x: Value, size: Int, stride: Int, padding: Padding = .valid) -> Value {
        node(.pool(PoolParameters(kind: .max, kernelHeight: size, kernelWidth: size,
                                  strideHeight: stride, strideWidth: stride, padding: padding)), x)
    }

    /// Average pooling over H and W of NHWC input with a square window.
    public mutating func averagePool(
        _ x: Value, size: Int, stride: Int, padding: Padding = .valid, countIncludesPadding: Bool = false
    ) -> Value {
        node(.pool(PoolParameters(kind: .average, kernelHeight: size, kernelWidth: size,
                                  strideHeight: stride, strideWidth: stride, padding: padding,
                                  countIncludesPadding: countIncludesPadding)), x)
    }

    /// Mean over H and W of NHWC input: `[n, h, w, c] → [n, 1, 1, c]`.
    public mutating func globalAveragePool(_ x: Value) -> Value { node(.globalAveragePool, x) }

    /// Mean over `axes` (negative axes count from the end).
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

    /// Resize with full control over mode, coordinate mapping and target.
    public mutating func resize(_ x: Value, _ parameters: ResizeParameters) -> Value { node(.resize(parameters), x) }

    /// An element-wise binary operator with numpy broadcasting and an optional fused activation.
    public mutating func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, activation: Activation = .identity) -> Value {
        node(.binary(op, activation: activation), a, b)
    }
    /// `a + b`, broadcast, then `activation`.
    public mutating func add(_ a: Value, _ b: Value, activation: Activation = .identity) -> Value {
        binary(.add, a, b, activation: activation)
    }
    /// `a − b`, broadcast.
    public mutating func subtract(_ a: Value, _ b: Value) -> Value { binary(.subtract, a, b) }
    /// `a · b`, broadcast.
    public mutating func multiply(_ a: Value, _ b: Value) -> Value { binary(.multiply, a, b) }
    /// `a / b`, broadcast.
    public mutating func divide(_ a: Value, _ b: Value) -> Value { binary(.divide, a, b) }

    /// A standalone activation (fused into a preceding convolution or binary operator when possible).
    /// `a · b` over the last two axes, batch axes broadcast (see ``Operation/matMul(activation:)``).
    public mutating func matMul(_ a: Value, _ b: Value) -> Value { node(.matMul(activation: .identity), a, b) }

    public mutating func activation(_ x: Value, _ a: Activation) -> Value { node(.activation(a), x) }
    /// `max(x, 0)`.
    public mutating func relu(_ x: Value) -> Value { activation(x, .relu) }
    /// `x · relu6(x + 3) / 6`.
    public mutating func hardSwish(_ x: Value) -> Value { activation(x, .hardSwish) }
    /// `1 / (1 + e^-x)`.
    public mutating func sigmoid(_ x: Value) -> Value { activation(x, .sigmoid) }
    /// An element-wise function (GELU, exp, log, sqrt, …).
    public mutating func unary(_ x: Value, _ f: UnaryFunction) -> Value { node(.unary(f), x) }
    /// PReLU with one slope per channel (last axis).
    public mutating func prelu(_ x: Value, slope: [Float]) -> Value {
        node(.prelu, x, constant(slope, shape: [slope.count]))
    }
    /// Softmax along `axis`.
    public mutating func softmax(_ x: Value, axis: Int = -1) -> Value { node(.softmax(axis: axis), x) }

    /// Concatenation along `axis`.
    public mutating func concat(_ values: [Value], axis: Int = -1) -> Value {
        add(.concat(axis: axis), inputs: values)[0]
    }
    /// Splits along `axis` into pieces of `sizes`; returns one value per piece.
    public mutating func split(_ x: Value, axis: Int, sizes: [Int]) -> [Value] {
        add(.split(axis: axis, sizes: sizes), inputs: [x])
    }
    /// A strided slice (see ``SliceParameters``).
    public mutating func slice(_ x: Value, _ p: SliceParameters) -> Value { node(.slice(p), x) }
    /// Pads each axis by `before[i]` / `after[i]` elements.
    public mutating func pad(_ x: Value, before: [Int], after: [Int], mode: PadMode = .constant(0)) -> Value {
        node(.pad(before: before, after: after, mode: mode), x)
    }
    /// Reorders axes: output axis `i` is input axis `permutation[i]`.
    public mutating func transpose(_ x: Value, _ permutation: [Int]) -> Value {
        node(.transpose(permutation: permutation), x)
    }
    /// Reshape to a fixed shape (`0` copies an input dimension, `-1` is inferred); a view, no copy.
    public mutating func reshape(_ x: Value, _ shape: [Int]) -> Value { node(.reshape(shape: shape), x) }
    /// Reshape to a shape computed by the graph (an int64 value known at compile time).
    public mutating func reshape(_ x: Value, shape: Value) -> Value { node(.reshape(shape: nil), x, shape) }
    /// Flattens to 2-D around `axis`; a view.
    public mutating func flatten(_ x: Value, axis: Int = 1) -> Value { node(.flatten(axis: axis), x) }
    /// Removes size-1 axes; a view.
    public mutating func squeeze(_ x: Value, axes: [Int]) -> Value { node(.squeeze(axes: axes), x) }
    /// Inserts size-1 axes at `axes` (positions in the output); a view.
    public mutating func unsqueeze(_ x: Value, axes: [Int]) -> Value { node(.unsqueeze(axes: axes), x) }
    /// The shape of `x` as a 1-D int64 value (always folded at compile time).
    public mutating func shape(_ x: Value) -> Value { node(.shape, x) }
    /// Gathers slices along `axis` at int64 `indices`.
    public mutating func gather(_ x: Value, indices: Value, axis: Int = 0) -> Value {
        node(.gather(axis: axis), x, indices)
    }
    /// Converts the element type.
    public mutating func cast(_ x: Value, to type: DataType) -> Value { node(.cast(to: type), x) }
    /// NHWC depth-to-space with square blocks (DCR order).
    public mutating func depthToSpace(_ x: Value, blockSize: Int) -> Value {
        node(.depthToSpace(blockSize: blockSize), x)
    }
}
