/// How a spatial operator pads its input (convolution, pooling) or crops its output
/// (transposed convolution).
public enum Padding: Sendable, Hashable {
    /// No padding.
    case valid
    /// TensorFlow `SAME` / ONNX `SAME_UPPER`: output size `ceil(input / stride)`, any odd
    /// padding pixel goes at the bottom/right.
    case same
    /// ONNX `SAME_LOWER`: like `same`, but the odd pixel goes at the top/left.
    case sameLower
    /// Explicit pixel counts.
    case explicit(top: Int, left: Int, bottom: Int, right: Int)
}

/// Parameters of a 2-D convolution over NHWC input.
///
/// Node inputs: `x` (NHWC), `weights` (constant, OHWI: `[outC, kh, kw, inC / groups]`),
/// optionally `bias` (constant, `[outC]`).
public struct Conv2DParameters: Sendable, Hashable {
    public var strideHeight = 1, strideWidth = 1
    public var dilationHeight = 1, dilationWidth = 1
    /// Channel groups; `groups == inC == outC` is a depthwise convolution.
    public var groups = 1
    public var padding: Padding = .valid
    /// Applied after the bias (fused by the compiler when a separate activation follows).
    public var activation: Activation = .identity

    public init(
        strideHeight: Int = 1, strideWidth: Int = 1, dilationHeight: Int = 1, dilationWidth: Int = 1,
        groups: Int = 1, padding: Padding = .valid, activation: Activation = .identity
    ) {
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        self.groups = groups; self.padding = padding; self.activation = activation
    }
}

/// Parameters of a 2-D transposed convolution over NHWC input.
///
/// Node inputs: `x`, `weights` (constant, `[outC, kh, kw, inC / groups]`), optionally
/// `bias`. Output size is `(in − 1)·stride + dilation·(k − 1) + 1 − padTotal + outputPadding`;
/// `.same` gives exactly `in · stride`.
public struct TransposedConv2DParameters: Sendable, Hashable {
    public var strideHeight = 1, strideWidth = 1
    public var dilationHeight = 1, dilationWidth = 1
    public var groups = 1
    /// Output cropping.
    public var padding: Padding = .valid
    /// Extra output rows/columns at the bottom/right (ONNX `output_padding`).
    public var outputPaddingHeight = 0, outputPaddingWidth = 0
    public var activation: Activation = .identity

    public init(
        strideHeight: Int = 1, strideWidth: Int = 1, dilationHeight: Int = 1, dilationWidth: Int = 1,
        groups: Int = 1, padding: Padding = .valid, outputPaddingHeight: Int = 0,
        outputPaddingWidth: Int = 0, activation: Activation = .identity
    ) {
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        self.groups = groups; self.padding = padding
        self.outputPaddingHeight = outputPaddingHeight; self.outputPaddingWidth = outputPaddingWidth
        self.activation = activation
    }
}

/// Parameters of max or average pooling over the H and W axes of NHWC input.
public struct PoolParameters: Sendable, Hashable {
    /// Which pooling.
    public enum Kind: Sendable, Hashable { case max, average }
    public var kind: Kind
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padding: Padding
    /// Average pooling: divide by the full window (`true`, ONNX `count_include_pad=1`) or
    /// only by the pixels inside the input (`false`, TFLite's behaviour). Windows that
    /// overrun the padded input in `ceilMode` are clipped first (PyTorch/ONNX rule).
    public var countIncludesPadding: Bool
    /// Round the output size up (ONNX/PyTorch `ceil_mode`, used by U²-Net and ISNet): a
    /// last, partial window is kept when it starts inside the input or its leading padding.
    public var ceilMode: Bool

    public init(
        kind: Kind, kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
        padding: Padding = .valid, countIncludesPadding: Bool = false, ceilMode: Bool = false
    ) {
        self.kind = kind; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padding = padding; self.countIncludesPadding = countIncludesPadding
        self.ceilMode = ceilMode
    }
}

/// A reduction over axes.
public struct ReduceParameters: Sendable, Hashable {
    /// Which reduction.
    public enum Kind: Sendable, Hashable { case mean, sum, max, min }
    public var kind: Kind
    /// Axes to reduce (negative counts from the end); empty reduces every axis.
    public var axes: [Int]
    /// Keep reduced axes with size 1.
    public var keepDimensions: Bool

    public init(kind: Kind, axes: [Int], keepDimensions: Bool) {
        self.kind = kind; self.axes = axes; self.keepDimensions = keepDimensions
    }
}

/// How an output pixel index maps to an input coordinate in a resize (ONNX
/// `coordinate_transformation_mode`; TFLite's `align_corners` / `half_pixel_centers`).
public enum CoordinateTransform: Sendable, Hashable, CaseIterable {
    /// `(x + 0.5) / scale − 0.5` (TFLite `half_pixel_centers`).
    case halfPixel
    /// `x · (in − 1) / (out − 1)`.
    case alignCorners
    /// `x / scale` (TFLite default).
    case asymmetric
    /// Like `halfPixel`, but 0 when the output length is 1.
    case pytorchHalfPixel
    /// `(x + 0.5) / scale` (TFLite nearest with half-pixel centres).
    case tfHalfPixelForNearest
}

/// How nearest-neighbour resize rounds a coordinate to an index.
public enum NearestRounding: Sendable, Hashable, CaseIterable {
    case roundPreferFloor, roundPreferCeil, floor, ceil
}

/// Parameters of a resize over the H and W axes of NHWC input.
public struct ResizeParameters: Sendable, Hashable {
    /// Bilinear, or nearest with a rounding rule.
    public enum Mode: Sendable, Hashable {
        case bilinear
        case nearest(NearestRounding)
    }
    /// How the output size is chosen.
    public enum Target: Sendable, Hashable {
        /// Output size `floor(in · scale)`; the coordinate mapping uses the given scale.
        case scales(height: Float, width: Float)
        /// Output size given; the scale is `out / in`.
        case size(height: Int, width: Int)
        /// `.size` read from a second, int64 input known at compile time: `[H, W]`, or
        /// `[N, H, W, C]` in NHWC order (ONNX `sizes` computed by a Shape chain; the importer
        /// reorders NCHW with a `gather`, which folds too).
        case sizeFromInput
        /// `.scales` read from a second, float32 input known at compile time: `[sH, sW]` or
        /// `[sN, sH, sW, sC]` in NHWC order (N and C scales must be 1).
        case scalesFromInput
    }
    public var mode: Mode
    public var coordinateTransform: CoordinateTransform
    public var target: Target

    public init(mode: Mode, coordinateTransform: CoordinateTransform, target: Target) {
        self.mode = mode; self.coordinateTransform = coordinateTransform; self.target = target
    }
}

/// Element-wise binary operators (numpy broadcasting).
public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case add, subtract, multiply, divide, minimum, maximum, power
}

/// Element-wise unary functions beyond the fusable activations.
public enum UnaryFunction: String, Sendable, Hashable, CaseIterable {
    /// `x · Φ(x)` with the exact error function.
    case gelu
    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (GELU's tanh approximation).
    case geluTanh
    case exp, log, sqrt, reciprocal, negate, abs, erf
    /// Rounding (ONNX `Floor`, `Ceil`, `Round` — the last rounds halves to even).
    case floor, ceil, round
}

/// Element-wise comparisons; the result is an int64 tensor of 0 and 1 (the engine's booleans).
public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case equal, less, greater, lessOrEqual, greaterOrEqual
}

/// How `pad` fills the border.
public enum PadMode: Sendable, Hashable {
    case constant(Float)
    /// Mirror without repeating the edge (`[1 2 3] → 3 2 [1 2 3] 2 1`).
    case reflect
    /// Repeat the edge value.
    case edge
}

/// Parameters of a strided slice.
public struct SliceParameters: Sendable, Hashable {
    /// Per listed axis: start (negative counts from the end), end (exclusive, clamped;
    /// use `Int.max` / `Int.min` for "to the end"), and step (non-zero, may be negative).
    public var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
    /// Axes default to `0..<starts.count`, steps to 1.
    public init(starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) {
        self.starts = starts; self.ends = ends
        self.axes = axes ?? Array(0..<starts.count)
        self.steps = steps ?? Array(repeating: 1, count: starts.count)
    }
}

/// An operation of the graph IR. Spatial operators are defined on NHWC; generic ones take
/// explicit axes (negative axes count from the end).
public enum Operation: Sendable, Hashable {
    /// Inputs: x, weights, [bias].
    case conv2d(Conv2DParameters)
    /// Inputs: x, weights, [bias].
    case transposedConv2d(TransposedConv2DParameters)
    /// Inference batch normalisation over the last axis. Inputs: x, scale, offset, mean, variance.
    case batchNorm(epsilon: Float)
    /// Instance normalisation of NHWC input: per image and channel over H and W,
    /// `(x − μ) / √(σ² + ε) · scale[c] + offset[c]`. Inputs: x, scale `[C]`, offset `[C]`.
    case instanceNorm(epsilon: Float)
    /// MODNet's IBNorm in one pass over NHWC input: the first `split` channels through a
    /// per-channel affine `x · scale[c] + shift[c]` (a batch norm, folded), the others through
    /// an instance norm with `epsilon`, then `activation`. Inputs: x, scale and shift `[split]`,
    /// the instance norm's scale and offset `[C − split]`. The compiler forms it from
    /// `slice → batchNorm`, `slice → instanceNorm`, `concat` over the channel axis.
    case splitNorm(split: Int, epsilon: Float, activation: Activation)
    /// Layer normalisation over axes `axis…` (each row of `prod(shape[axis...])` values);
    /// inputs: x, scale and offset with `prod(shape[axis...])` values each.
    case layerNorm(axis: Int, epsilon: Float)
    case pool(PoolParameters)
    /// Mean over H and W of NHWC input, keeping them as size 1.
    case globalAveragePool
    case reduce(ReduceParameters)
    case resize(ResizeParameters)
    /// Matrix product `a · b (+ bias)`, then `activation`. Inputs: a `[..., M, K]`, b `[K, N]`
    /// or `[..., K, N]` whose leading (batch) dimensions broadcast numpy-style against a's,
    /// optionally bias `[N]` (ONNX `MatMul`, `Gemm` after transposing B at load time; TFLite
    /// `FULLY_CONNECTED`). A constant 2-D `b` runs on the convolution kernel as a 1×1
    /// convolution.
    case matMul(activation: Activation)
    /// A 1×1 convolution on channel-major data (ONNX NCHW): `y[n, o, p…] = activation(Σ_c
    /// w[o, c] · x[n, c, p…] + bias[o])`. Inputs: x `[N, C, …]` (any trailing spatial axes),
    /// weights `[O, C]` (constant), optionally bias `[O]` (constant). Runs as one GEMM with the
    /// weights on the left, so NCHW data needs no transpose.
    case channelMix(activation: Activation)
    /// Scaled dot-product attention without the score matrix: for each query row,
    /// `softmax(scale · q · kᵀ) · v` with one row of scores at a time. Inputs: q `[..., M, D]`,
    /// k `[..., N, D]` (or `[..., D, N]` when `keyTransposed`), v `[..., N, Dv]`; batch
    /// dimensions broadcast as in `matMul`. Output `[..., M, Dv]`. The compiler forms it from
    /// `matMul → scale → softmax(-1) → matMul`.
    case attention(scale: Float, keyTransposed: Bool)
    /// `condition ≠ 0 ? x : y`, broadcast over all three inputs (ONNX `Where`; the condition
    /// is int64 or float32, x and y share a type).
    case `where`
    /// Two inputs of one type, broadcast; int64 0/1 out.
    case compare(ComparisonOperator)
    /// Repeats the input `repeats[i]` times along axis i; repeats from a second int64 input
    /// known at compile time (ONNX `Tile`).
    case tile
    /// `out[i₀…iₙ] = data[i₀…index[i₀…iₙ]…iₙ]` with the index replacing axis `axis`; the
    /// output has the indices' shape (ONNX `GatherElements`). Inputs: data, indices (int64).
    case gatherElements(axis: Int)
    /// Two inputs, broadcast; the activation is applied to the result.
    case binary(BinaryOperator, activation: Activation)
    case activation(Activation)
    case unary(UnaryFunction)
    /// `x ≥ 0 ? x : slope · x`; inputs: x, slope (broadcast, usually `[C]`).
    case prelu
    case softmax(axis: Int)
    case concat(axis: Int)
    /// One output per entry of `sizes`.
    case split(axis: Int, sizes: [Int])
    case slice(SliceParameters)
    /// `before` / `after` per axis.
    case pad(before: [Int], after: [Int], mode: PadMode)
    case transpose(permutation: [Int])
    /// `0` copies the input dimension, `-1` is inferred. With `nil`, the shape comes from a
    /// second (int64) input that must be known at compile time.
    case reshape(shape: [Int]?)
    /// To 2-D: `[prod(dims[..<axis]), prod(dims[axis...])]`.
    case flatten(axis: Int)
    /// Removes the listed size-1 axes (all size-1 axes when empty).
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    /// The input's shape as a 1-D int64 tensor (always folded at compile time).
    case shape
    /// Inputs: data, indices (int64). Output shape: `data[..<axis] + indices + data[axis+1...]`.
    case gather(axis: Int)
    case cast(to: DataType)
    /// NHWC depth-to-space (DCR order, TFLite `DEPTH_TO_SPACE`).
    case depthToSpace(blockSize: Int)
    /// Broadcasts the first input to the shape given by the second (int64, known at compile
    /// time), numpy-style (ONNX `Expand`).
    case expand
    /// A tensor of the shape given by the input (int64, known at compile time) filled with
    /// `value` (ONNX `ConstantOfShape`).
    case constantOfShape(value: Double, dataType: DataType)
    /// `[start, start + delta, …)` up to `limit`; three scalar inputs of one type (ONNX `Range`).
    case range

    /// A short name for statistics and messages (`conv2d`, `add`, …).
    public var kindName: String {
        switch self {
        case let .conv2d(p): p.groups > 1 ? "groupedConv2d" : "conv2d"
        case .transposedConv2d: "transposedConv2d"
        case .batchNorm: "batchNorm"
        case .instanceNorm: "instanceNorm"
        case .splitNorm: "splitNorm"
        case .layerNorm: "layerNorm"
        case let .pool(p): p.kind == .max ? "maxPool" : "averagePool"
        case .globalAveragePool: "globalAveragePool"
        case let .reduce(p): "reduce.\(p.kind)"
        case .resize: "resize"
        case .matMul: "matMul"
        case let .binary(op, _): op.rawValue
        case let .activation(a): "\(a)".split(separator: "(").first.map(String.init) ?? "activation"
        case let .unary(f): f.rawValue
        case .prelu: "prelu"
        case .softmax: "softmax"
        case .concat: "concat"
        case .split: "split"
        case .slice: "slice"
        case .pad: "pad"
        case .transpose: "transpose"
        case .reshape: "reshape"
        case .flatten: "flatten"
        case .squeeze: "squeeze"
        case .unsqueeze: "unsqueeze"
        case .shape: "shape"
        case .gather: "gather"
        case .cast: "cast"
        case .depthToSpace: "depthToSpace"
        case .expand: "expand"
        case .constantOfShape: "constantOfShape"
        case .range: "range"
        case .channelMix: "channelMix"
        case .attention: "attention"
        case .where: "where"
        case let .compare(op): op.rawValue
        case .tile: "tile"
        case .gatherElements: "gatherElements"
        }
    }

    /// Number of outputs the node produces.
    var outputCount: Int {
        if case let .split(_, sizes) = self { return sizes.count }
        return 1
    }
}
