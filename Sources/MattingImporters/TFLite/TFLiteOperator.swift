/// A TFLite builtin operator code (`BuiltinOperator` in the schema, an i32).
///
/// A struct rather than an enum so codes MattingKit does not know still parse; the engine
/// decides what it supports.
package struct TFLiteBuiltinOperator: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    package var rawValue: Int32
    package init(rawValue: Int32) { self.rawValue = rawValue }

    /// Builtin operator code (schema `BuiltinOperator`).
    package static let add = Self(rawValue: 0)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let averagePool2D = Self(rawValue: 1)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let concatenation = Self(rawValue: 2)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let conv2D = Self(rawValue: 3)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let depthwiseConv2D = Self(rawValue: 4)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let depthToSpace = Self(rawValue: 5)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let dequantize = Self(rawValue: 6)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let fullyConnected = Self(rawValue: 9)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let logistic = Self(rawValue: 14)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let maxPool2D = Self(rawValue: 17)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let mul = Self(rawValue: 18)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let relu = Self(rawValue: 19)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let relu6 = Self(rawValue: 21)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let reshape = Self(rawValue: 22)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let resizeBilinear = Self(rawValue: 23)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let softmax = Self(rawValue: 25)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let tanh = Self(rawValue: 28)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let custom = Self(rawValue: 32)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let pad = Self(rawValue: 34)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let transpose = Self(rawValue: 39)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let mean = Self(rawValue: 40)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let sub = Self(rawValue: 41)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let div = Self(rawValue: 42)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let transposeConv = Self(rawValue: 67)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let hardSwish = Self(rawValue: 117)
    /// Builtin operator code (schema `BuiltinOperator`).
    package static let densify = Self(rawValue: 124)

    private static let names: [Int32: String] = [
        0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
        5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
        19: "RELU", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 25: "SOFTMAX", 28: "TANH",
        32: "CUSTOM", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV",
        67: "TRANSPOSE_CONV", 117: "HARD_SWISH", 124: "DENSIFY",
    ]

    /// The schema's name (e.g. `CONV_2D`), or `BUILTIN_<n>` for codes not listed here.
    package var description: String { Self.names[rawValue] ?? "BUILTIN_\(rawValue)" }
}

/// One operator: which code it runs, which tensors it reads and writes, and its options.
package struct TFLiteOperator: Sendable, Hashable {
    /// Index into ``TFLiteModel/operatorCodes`` (checked at parse time).
    package var opcodeIndex: Int
    /// Input tensor indices; -1 marks an omitted optional input.
    package var inputs: [Int]
    /// Output tensor indices; -1 marks an omitted optional output.
    package var outputs: [Int]
    /// The builtin options (union `BuiltinOptions`), decoded for the operators MattingKit uses.
    package var options: TFLiteBuiltinOptions
    /// Custom options bytes (custom operators), if any.
    package var customOptions: [UInt8]?
}

/// Padding scheme of convolutions and pools (`Padding` in the schema).
package enum TFLitePadding: Int8, Sendable, Hashable {
    /// Output size ceil(in / stride), zero padding split with the extra on the bottom/right.
    case same = 0
    /// No padding: output size ceil((in - k + 1) / stride).
    case valid = 1
}

/// A fused activation applied to an operator's output (`ActivationFunctionType`).
package enum TFLiteActivation: Int8, Sendable, Hashable {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, signBit = 5
}

/// `Conv2DOptions` (also used for the dilation of `DepthwiseConv2DOptions`).
package struct TFLiteConv2DOptions: Sendable, Hashable {
    /// Padding scheme.
    package var padding: TFLitePadding
    /// Horizontal stride.
    package var strideWidth: Int32
    /// Vertical stride.
    package var strideHeight: Int32
    /// Fused activation.
    package var activation: TFLiteActivation
    /// Horizontal dilation (default 1).
    package var dilationWidth: Int32
    /// Vertical dilation (default 1).
    package var dilationHeight: Int32
}

/// `DepthwiseConv2DOptions`.
package struct TFLiteDepthwiseConv2DOptions: Sendable, Hashable {
    /// Padding scheme.
    package var padding: TFLitePadding
    /// Horizontal stride.
    package var strideWidth: Int32
    /// Vertical stride.
    package var strideHeight: Int32
    /// Output channels per input channel (often left 0 by converters; derive it from shapes).
    package var depthMultiplier: Int32
    /// Fused activation.
    package var activation: TFLiteActivation
    /// Horizontal dilation (default 1).
    package var dilationWidth: Int32
    /// Vertical dilation (default 1).
    package var dilationHeight: Int32
}

/// `Pool2DOptions` (AVERAGE_POOL_2D, MAX_POOL_2D).
package struct TFLitePool2DOptions: Sendable, Hashable {
    /// Padding scheme.
    package var padding: TFLitePadding
    /// Horizontal stride.
    package var strideWidth: Int32
    /// Vertical stride.
    package var strideHeight: Int32
    /// Pooling window width.
    package var filterWidth: Int32
    /// Pooling window height.
    package var filterHeight: Int32
    /// Fused activation.
    package var activation: TFLiteActivation
}

/// `ResizeBilinearOptions` (fields 0 and 1, `new_height`/`new_width`, are deprecated).
package struct TFLiteResizeBilinearOptions: Sendable, Hashable {
    /// Whether corner pixels of input and output are aligned (`align_corners`).
    package var alignCorners: Bool
    /// Whether sampling uses half-pixel centres (`half_pixel_centers`).
    package var halfPixelCenters: Bool
}

/// `TransposeConvOptions` (builtin TRANSPOSE_CONV).
package struct TFLiteTransposeConvOptions: Sendable, Hashable {
    /// Padding scheme.
    package var padding: TFLitePadding
    /// Horizontal stride.
    package var strideWidth: Int32
    /// Vertical stride.
    package var strideHeight: Int32
    /// Fused activation (default NONE).
    package var activation: TFLiteActivation
}

/// The decoded `builtin_options` union of an operator.
package enum TFLiteBuiltinOptions: Sendable, Hashable {
    /// No options table (e.g. HARD_SWISH, RELU, LOGISTIC, TANH, RELU6, and custom ops).
    case none
    /// CONV_2D.
    case conv2D(TFLiteConv2DOptions)
    /// DEPTHWISE_CONV_2D.
    case depthwiseConv2D(TFLiteDepthwiseConv2DOptions)
    /// AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D.
    case pool2D(TFLitePool2DOptions)
    /// `ReducerOptions` (MEAN, SUM, ...).
    case reducer(keepDims: Bool)
    /// ADD with its fused activation.
    case add(activation: TFLiteActivation)
    /// SUB with its fused activation.
    case sub(activation: TFLiteActivation)
    /// MUL with its fused activation.
    case mul(activation: TFLiteActivation)
    /// DIV with its fused activation.
    case div(activation: TFLiteActivation)
    /// CONCATENATION: the axis (negative counts from the end) and fused activation.
    case concatenation(axis: Int32, activation: TFLiteActivation)
    /// `ReshapeOptions`; the target shape may instead be the operator's second input.
    case reshape(newShape: [Int32]?)
    /// RESIZE_BILINEAR.
    case resizeBilinear(TFLiteResizeBilinearOptions)
    /// TRANSPOSE_CONV.
    case transposeConv(TFLiteTransposeConvOptions)
    /// SOFTMAX with its `beta` (input scale).
    case softmax(beta: Float)
    /// `PadOptions` (empty table).
    case pad
    /// `DequantizeOptions` or `DensifyOptions` (empty tables).
    case dequantize
    /// DEPTH_TO_SPACE's block size.
    case depthToSpace(blockSize: Int32)
    /// An options table of a union type MattingKit does not decode (the union tag is kept).
    case other(unionType: UInt8)
}

/// Parameters of MediaPipe's custom operator `Convolution2DTransposeBias`.
///
/// Its `custom_options` are not FlexBuffers but the raw bytes of TFLite's C struct
/// `TfLiteTransposeConvParams`, which MediaPipe's kernel reinterprets in place
/// (`mediapipe/util/tflite/operations/transpose_conv_bias.cc`): three little-endian i32,
/// `padding` (`TfLitePadding`: 0 unknown, 1 same, 2 valid), `stride_width`, `stride_height`.
/// Newer TFLite versions append fields to that struct that MediaPipe's kernel never reads, so
/// any trailing bytes are ignored. Inputs are (input NHWC, weights OHWI, bias [O]).
package struct TFLiteConvolution2DTransposeBiasOptions: Sendable, Hashable {
    /// The custom code that identifies this operator.
    package static let customCode = "Convolution2DTransposeBias"

    /// Padding (SAME or VALID).
    package var padding: TFLitePadding
    /// Horizontal stride (> 0).
    package var strideWidth: Int32
    /// Vertical stride (> 0).
    package var strideHeight: Int32

    /// Decodes the 12-byte options.
    ///
    /// - Throws: ``ModelImportError`` (format TFLite) if fewer than 12 bytes are given, the
    ///   padding code is not 1 or 2, or a stride is not positive.
    package init(customOptions bytes: [UInt8], fileName: String = "<memory>") throws {
        func fail(_ message: String) -> ModelImportError {
            ModelImportError(file: fileName, format: .tflite, kind: .invalidModel,
                             message: "\(Self.customCode) options: \(message)")
        }
        guard bytes.count >= 12 else { throw fail("\(bytes.count) bytes, expected at least 12") }
        let words = littleEndianElements(bytes[0..<12], width: 4) { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }
        switch words[0] {
        case 1: padding = .same
        case 2: padding = .valid
        default: throw fail("padding code \(words[0]) is neither 1 (same) nor 2 (valid)")
        }
        strideWidth = words[1]
        strideHeight = words[2]
        guard strideWidth > 0, strideHeight > 0 else {
            throw fail("strides \(strideWidth)×\(strideHeight) must be positive")
        }
    }
}
