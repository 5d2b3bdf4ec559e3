import Foundation

/// A parsed TensorFlow Lite model: plain values mirroring the parts of `schema.fbs` that
/// MattingKit uses, with every index checked against what it refers to.
///
/// Parsing does no arithmetic on tensor data; constant data stays in ``fileBytes`` and is read
/// through ``data(of:)`` and the typed accessors. Field numbers follow TensorFlow's
/// `tensorflow/lite/schema/schema.fbs` (see `Docs/Importers.md`).
///
/// ```swift
/// let model = try TFLiteModel(contentsOf: url)
/// let graph = model.subgraphs[0]
/// print(graph.tensors[graph.inputs[0]].shape)  // [1, 256, 256, 3]
/// ```
package struct TFLiteModel: Sendable {
    /// The file name (or label) the model was read from, used in error messages.
    package let fileName: String
    /// Schema version (3 for all current models).
    package let version: UInt32
    /// The converter's description string, if any.
    package let description: String?
    /// The operator codes that ``TFLiteOperator/opcodeIndex`` refers to.
    package let operatorCodes: [TFLiteOperatorCode]
    /// The subgraphs; subgraph 0 is the main graph.
    package let subgraphs: [TFLiteSubgraph]
    /// The buffers that ``TFLiteTensor/buffer`` refers to; buffer 0 is always empty.
    package let buffers: [TFLiteBuffer]
    /// The whole file, which buffer byte ranges index into.
    ///
    /// The model's properties are constants because buffer ranges and tensor indices were
    /// checked against each other at parse time; the accessors below rely on that.
    package let fileBytes: [UInt8]

    /// Reads and parses a `.tflite` file.
    ///
    /// - Throws: ``ModelImportError`` if the file cannot be read or violates the format.
    package init(contentsOf url: URL) throws {
        let name = url.lastPathComponent
        let bytes = try ModelImportError.contents(of: url, format: .tflite)
        try self.init(bytes: bytes, fileName: name)
    }

    /// Parses a `.tflite` model held in memory.
    ///
    /// - Parameters:
    ///   - bytes: the whole FlatBuffer.
    ///   - fileName: a label for error messages.
    /// - Throws: ``ModelImportError`` naming what is wrong and where.
    package init(bytes: [UInt8], fileName: String = "<memory>") throws {
        do {
            self = try TFLiteParser(bytes: bytes, fileName: fileName).parse()
        } catch let violation as FormatViolation {
            throw ModelImportError(file: fileName, format: .tflite, kind: violation.kind,
                                   message: violation.message)
        }
    }

    init(fileName: String, version: UInt32, description: String?, operatorCodes: [TFLiteOperatorCode],
         subgraphs: [TFLiteSubgraph], buffers: [TFLiteBuffer], fileBytes: [UInt8]) {
        self.fileName = fileName
        self.version = version
        self.description = description
        self.operatorCodes = operatorCodes
        self.subgraphs = subgraphs
        self.buffers = buffers
        self.fileBytes = fileBytes
    }

    /// The raw bytes of buffer `index` (empty for buffer 0 and for tensors computed at run time).
    ///
    /// `index` must be a valid buffer index (tensor buffer indices are checked at parse time).
    package func data(of index: Int) -> ArraySlice<UInt8> {
        fileBytes[buffers[index].byteRange]
    }

    /// The operator code of `op`, which must be an operator of this model (its index was checked).
    package func operatorCode(of op: TFLiteOperator) -> TFLiteOperatorCode {
        operatorCodes[op.opcodeIndex]
    }

    /// The constant data of a tensor as stored, or nil if it has none.
    ///
    /// The byte count was checked at parse time against the shape and element type. For a
    /// sparse tensor (``TFLiteTensor/sparsity``) these are the stored values only; the typed
    /// readers below expand them.
    package func constantBytes(of tensor: TFLiteTensor) -> ArraySlice<UInt8>? {
        let bytes = data(of: tensor.buffer)
        return bytes.isEmpty ? nil : bytes
    }

    /// A FLOAT32 tensor's constant values.
    ///
    /// - Throws: ``ModelImportError`` if the tensor is not FLOAT32 or has no constant data.
    package func float32Values(of tensor: TFLiteTensor) throws -> [Float] {
        try littleEndianValues(of: tensor, type: .float32, width: 4) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    /// A FLOAT16 tensor's constant values as IEEE binary16 bit patterns.
    ///
    /// Use ``TFLiteModel/float16ToFloat32(_:)`` to widen them (exact).
    package func float16Bits(of tensor: TFLiteTensor) throws -> [UInt16] {
        try littleEndianValues(of: tensor, type: .float16, width: 2) { UInt16(truncatingIfNeeded: $0) }
    }

    /// An INT32 tensor's constant values.
    package func int32Values(of tensor: TFLiteTensor) throws -> [Int32] {
        try littleEndianValues(of: tensor, type: .int32, width: 4) { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    private func littleEndianValues<T>(of tensor: TFLiteTensor, type: TFLiteTensorType, width: Int,
                                       _ make: (UInt64) -> T) throws -> [T] {
        guard tensor.type == type else {
            throw ModelImportError(file: fileName, format: .tflite, kind: .invalidModel,
                                   message: "tensor '\(tensor.name)' is \(tensor.type), not \(type)")
        }
        guard let bytes = constantBytes(of: tensor) else {
            throw ModelImportError(file: fileName, format: .tflite, kind: .invalidModel,
                                   message: "tensor '\(tensor.name)' has no constant data")
        }
        let values = littleEndianElements(bytes, width: width, make)
        guard let sparsity = tensor.sparsity else { return values }
        return sparsity.expanded(values, shape: tensor.shape.map(Int.init), zero: make(0))
    }

    /// Widens an IEEE binary16 bit pattern to Float (exact: every half is a float).
    ///
    /// Decoding only (a format conversion, no arithmetic on values): done with bit operations so
    /// it works where `Float16` is unavailable (macOS on x86_64).
    package static func float16ToFloat32(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F {  // inf / NaN
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal half: normalise.
            var e: UInt32 = 113  // 127 - 15 + 1
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            return Float(bitPattern: sign | e << 23 | (mantissa & 0x3FF) << 13)
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
}

/// Reads consecutive little-endian elements of `width` bytes (1...8) from `bytes`.
func littleEndianElements<T>(_ bytes: ArraySlice<UInt8>, width: Int, _ make: (UInt64) -> T) -> [T] {
    let n = bytes.count / width
    var result = [T]()
    result.reserveCapacity(n)
    var p = bytes.startIndex
    for _ in 0..<n {
        var v: UInt64 = 0
        for k in 0..<width { v |= UInt64(bytes[p + k]) << (8 * k) }
        result.append(make(v))
        p += width
    }
    return result
}

/// An entry of the model's operator code table.
package struct TFLiteOperatorCode: Sendable, Hashable {
    /// The builtin operator, or ``TFLiteBuiltinOperator/custom`` for custom ops.
    ///
    /// Resolved with TensorFlow's rule: the larger of `deprecated_builtin_code` (i8, field 0)
    /// and `builtin_code` (i32, field 3), since old writers fill only the first and new ones
    /// put 127 (`PLACEHOLDER_FOR_GREATER_OP_CODES`) there for codes above 127.
    package var builtin: TFLiteBuiltinOperator
    /// The custom operator's name (e.g. `Convolution2DTransposeBias`), for custom ops.
    package var customCode: String?
    /// The operator's version (default 1).
    package var version: Int32
}

/// One subgraph: tensors, the operators between them, and the graph's inputs and outputs.
package struct TFLiteSubgraph: Sendable {
    /// All tensors; operator and graph inputs/outputs index into this array.
    package var tensors: [TFLiteTensor]
    /// Indices of the graph's input tensors.
    package var inputs: [Int]
    /// Indices of the graph's output tensors.
    package var outputs: [Int]
    /// Operators in execution order.
    package var operators: [TFLiteOperator]
    /// The subgraph's name, if any.
    package var name: String?
}

/// A tensor's description; constant data, if any, is in its buffer.
package struct TFLiteTensor: Sendable, Hashable {
    /// Debug name.
    package var name: String
    /// Shape (NHWC for image tensors); empty for scalars.
    package var shape: [Int32]
    /// Shape with -1 for dynamic dimensions, if the converter wrote one.
    package var shapeSignature: [Int32]?
    /// Element type.
    package var type: TFLiteTensorType
    /// Index into ``TFLiteModel/buffers``; 0 means no constant data.
    package var buffer: Int
    /// For a sparse constant, how its stored values spread over the shape (nil: dense).
    package var sparsity: TFLiteSparsity?
    /// Whether the tensor is quantized: quantization parameters with a scale, zero point or
    /// custom details (an empty parameters table, common for float tensors, does not count).
    /// MattingKit runs float models only.
    package var hasQuantization: Bool
    /// Whether this is a variable (stateful) tensor.
    package var isVariable: Bool
}

/// Where a buffer's bytes lie in the file.
package struct TFLiteBuffer: Sendable, Hashable {
    /// Byte range inside ``TFLiteModel/fileBytes`` (empty if the buffer has no data).
    ///
    /// Either the inline `data` vector or, for models above 2 GB, the `offset`/`size` pair
    /// (fields 1 and 2) counted from the start of the file.
    package var byteRange: Range<Int>
}

/// A TFLite element type (`TensorType` in the schema).
package enum TFLiteTensorType: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6
    case int16 = 7, complex64 = 8, int8 = 9, float64 = 10, complex128 = 11, uint64 = 12
    case resource = 13, variant = 14, uint32 = 15, uint16 = 16, int4 = 17, bfloat16 = 18

    /// Bytes per element, or nil for types without a fixed size (string, resource, variant,
    /// int4 which packs two per byte).
    package var byteWidth: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .float16, .int16, .uint16, .bfloat16: return 2
        case .float32, .int32, .uint32: return 4
        case .int64, .uint64, .float64, .complex64: return 8
        case .complex128: return 16
        case .string, .resource, .variant, .int4: return nil
        }
    }

    /// The schema's name, e.g. `FLOAT32`.
    package var description: String {
        // Raw values are dense from 0, so the index is always valid.
        ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
         "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16",
         "INT4", "BFLOAT16"][Int(rawValue)]
    }
}
