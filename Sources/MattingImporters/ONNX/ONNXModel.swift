import Foundation

/// A parsed ONNX model: plain values mirroring the parts of `onnx.proto` MattingKit uses.
///
/// Read with a hand-written, bounds-checked protobuf reader (see `Docs/Importers.md` for why).
/// Tensor data from every storage form (`raw_data`, typed fields such as `float_data` or
/// `int32_data`, and external data files) is normalised to little-endian bytes in
/// ``ONNXTensor/rawBytes``, and its size is checked against the tensor's shape.
///
/// ```swift
/// let model = try ONNXModel(contentsOf: url)   // resolves external data beside `url`
/// for node in model.graph.nodes { print(node.opType, node.inputs, node.outputs) }
/// ```
package struct ONNXModel: Sendable {
    /// The file name (or label) the model was read from, used in error messages.
    package var fileName: String
    /// `ir_version` (field 1).
    package var irVersion: Int64
    /// Operator sets the model uses (field 8); the default domain is `""` (or `ai.onnx`).
    package var opsetImports: [ONNXOperatorSetID]
    /// `producer_name` (field 2), e.g. `pytorch`.
    package var producerName: String
    /// `producer_version` (field 3).
    package var producerVersion: String
    /// `domain` (field 4): the model's reverse-DNS namespace, often empty.
    package var domain: String
    /// `model_version` (field 5).
    package var modelVersion: Int64
    /// `doc_string` (field 6).
    package var docString: String
    /// The main graph (field 7).
    package var graph: ONNXGraph
    /// `metadata_props` (field 14), in file order.
    package var metadata: [ONNXStringPair]

    /// The opset version of the default (`""` / `ai.onnx`) domain, if imported.
    package var defaultOpsetVersion: Int64? {
        opsetImports.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }

    /// Reads and parses an `.onnx` file, loading external data from files beside it.
    ///
    /// - Throws: ``ModelImportError`` if the file cannot be read, violates the format, or refers
    ///   to external data outside its folder or beyond the end of a data file.
    package init(contentsOf url: URL) throws {
        let name = url.lastPathComponent
        let bytes = try ModelImportError.contents(of: url, format: .onnx)
        try self.init(bytes: bytes, fileName: name, externalDataDirectory: url.deletingLastPathComponent())
    }

    /// Parses an ONNX model held in memory.
    ///
    /// - Parameters:
    ///   - bytes: the serialised `ModelProto`.
    ///   - fileName: a label for error messages.
    ///   - externalDataDirectory: the folder external data paths are relative to; if nil, a
    ///     tensor with external data is an error.
    /// - Throws: ``ModelImportError`` naming what is wrong and where.
    package init(bytes: [UInt8], fileName: String = "<memory>", externalDataDirectory: URL? = nil) throws {
        do {
            var parser = ONNXParser(bytes: bytes, externalData: ONNXExternalDataLoader(directory: externalDataDirectory))
            self = try parser.parseModel(fileName: fileName)
        } catch let violation as FormatViolation {
            throw ModelImportError(file: fileName, format: .onnx, kind: violation.kind, message: violation.message)
        }
    }

    init(fileName: String, irVersion: Int64, opsetImports: [ONNXOperatorSetID], producerName: String,
         producerVersion: String, domain: String, modelVersion: Int64, docString: String, graph: ONNXGraph,
         metadata: [ONNXStringPair]) {
        self.fileName = fileName
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.graph = graph
        self.metadata = metadata
    }
}

/// `OperatorSetIdProto`: a domain and its version.
package struct ONNXOperatorSetID: Sendable, Hashable {
    /// The operator domain; `""` (or `ai.onnx`) is the default ONNX domain.
    package var domain: String
    /// The operator set version, e.g. 17.
    package var version: Int64
}

/// `StringStringEntryProto`.
package struct ONNXStringPair: Sendable, Hashable {
    /// The key.
    package var key: String
    /// The value.
    package var value: String
}

/// `GraphProto`: nodes in topological order, initializers (constant tensors), inputs, outputs.
package struct ONNXGraph: Sendable, Hashable {
    /// The graph's name.
    package var name: String
    /// Nodes in topological order (as ONNX requires).
    package var nodes: [ONNXNode]
    /// Constant tensors; an initializer may also appear in ``inputs`` (as a default value).
    package var initializers: [ONNXTensor]
    /// Graph inputs (may include initializers, as default values, in older IR versions).
    package var inputs: [ONNXValueInfo]
    /// Graph outputs.
    package var outputs: [ONNXValueInfo]
    /// Optional type information for intermediate values.
    package var valueInfo: [ONNXValueInfo]
    /// `doc_string` (field 10).
    package var docString: String

    /// The initializer named `name`, if any.
    package func initializer(named name: String) -> ONNXTensor? {
        initializers.first { $0.name == name }
    }
}

/// `NodeProto`: one operator application. Empty input names mark omitted optional inputs.
package struct ONNXNode: Sendable, Hashable {
    /// The node's name (may be empty).
    package var name: String
    /// The operator, e.g. `Conv`.
    package var opType: String
    /// Operator domain; `""` is the default `ai.onnx` domain.
    package var domain: String
    /// Input value names; `""` marks an omitted optional input.
    package var inputs: [String]
    /// Output value names; `""` marks an omitted optional output.
    package var outputs: [String]
    /// Attributes in file order.
    package var attributes: [ONNXAttribute]

    /// The attribute named `name`, if present.
    package func attribute(_ name: String) -> ONNXAttributeValue? {
        attributes.first { $0.name == name }?.value
    }
}

/// `AttributeProto`: a named, typed operator parameter.
package struct ONNXAttribute: Sendable, Hashable {
    /// The attribute's name, e.g. `kernel_shape`.
    package var name: String
    /// The typed value.
    package var value: ONNXAttributeValue
}

/// An attribute's value, by `AttributeProto.type`.
package indirect enum ONNXAttributeValue: Sendable, Hashable {
    case float(Float)
    case int(Int64)
    /// Bytes (usually UTF-8 text, e.g. `auto_pad`, `mode`); see ``stringValue``.
    case string([UInt8])
    case tensor(ONNXTensor)
    case graph(ONNXGraph)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    case tensors([ONNXTensor])
    case graphs([ONNXGraph])
    /// A type MattingKit does not read (sparse tensors, type protos); the `type` code is kept.
    case unsupported(type: Int32)

    /// The value as UTF-8 text, for `.string`.
    package var stringValue: String? {
        if case .string(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// The value for `.int`.
    package var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    /// The value for `.ints`.
    package var intsValue: [Int64]? {
        if case .ints(let v) = self { return v }
        return nil
    }

    /// The value for `.float`.
    package var floatValue: Float? {
        if case .float(let v) = self { return v }
        return nil
    }
}

/// `ValueInfoProto` with a tensor type: a name, element type and (possibly symbolic) shape.
package struct ONNXValueInfo: Sendable, Hashable {
    /// The value's name.
    package var name: String
    /// Element type, or nil if the type is not a tensor type or not given.
    package var elementType: ONNXDataType?
    /// Dimensions, or nil if the shape is unknown (even its rank).
    package var shape: [ONNXDimension]?
}

/// One dimension of a `TensorShapeProto`.
package enum ONNXDimension: Sendable, Hashable {
    /// A fixed size (`dim_value`).
    case value(Int64)
    /// A symbolic size (`dim_param`), e.g. `"H"`.
    case parameter(String)
    /// Neither set.
    case unknown
}

/// `TensorProto.DataType`.
package enum ONNXDataType: Int32, Sendable, Hashable, CaseIterable {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, complex64 = 14, complex128 = 15, bfloat16 = 16
    case float8e4m3fn = 17, float8e4m3fnuz = 18, float8e5m2 = 19, float8e5m2fnuz = 20
    case uint4 = 21, int4 = 22, float4e2m1 = 23

    /// Bytes per element, or nil for strings and the sub-byte types (4-bit, packed).
    package var byteWidth: Int? {
        switch self {
        case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float, .int32, .uint32: return 4
        case .int64, .double, .uint64, .complex64: return 8
        case .complex128: return 16
        case .string, .uint4, .int4, .float4e2m1: return nil
        }
    }
}

/// `TensorProto`: a constant tensor (initializer, `Constant` value, or tensor attribute).
package struct ONNXTensor: Sendable, Hashable {
    /// Where the data was stored in the file.
    package enum Storage: Sendable, Hashable {
        /// No data (a zero-element tensor).
        case empty
        /// `raw_data` (field 9).
        case raw
        /// A typed repeated field: `float_data` (4), `int32_data` (5), `int64_data` (7),
        /// `double_data` (10) or `uint64_data` (11); the field number is kept.
        case typed(field: Int)
        /// `string_data` (6).
        case strings
        /// `data_location = EXTERNAL` (14) with `external_data` (13): a file beside the model.
        case external(location: String, offset: Int, length: Int)
    }

    /// The tensor's name (initializer name, or empty for attribute values).
    package var name: String
    /// Shape; empty for a scalar; every entry ≥ 0.
    package let dims: [Int64]
    /// Element type.
    package let dataType: ONNXDataType
    /// Where the data came from in the file.
    package let storage: Storage
    /// The data as packed little-endian elements (IEEE formats for floats; fp16 as binary16),
    /// whatever the storage; empty for strings. Its count is `elementCount × byteWidth`.
    package let rawBytes: [UInt8]
    /// `string_data`, for STRING tensors.
    package let strings: [[UInt8]]

    /// The number of elements (product of ``dims``; 1 for a scalar).
    ///
    /// The shape-describing properties are constants: the parser checked them against the data.
    package var elementCount: Int { dims.reduce(1) { $0 * Int($1) } }

    /// FLOAT values.
    package func floatValues() throws -> [Float] {
        try values(.float, width: 4) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    /// FLOAT16 values as IEEE binary16 bit patterns.
    package func float16Bits() throws -> [UInt16] {
        try values(.float16, width: 2) { UInt16(truncatingIfNeeded: $0) }
    }

    /// INT64 values.
    package func int64Values() throws -> [Int64] {
        try values(.int64, width: 8) { Int64(bitPattern: $0) }
    }

    /// INT32 values.
    package func int32Values() throws -> [Int32] {
        try values(.int32, width: 4) { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    /// DOUBLE values.
    package func doubleValues() throws -> [Double] {
        try values(.double, width: 8) { Double(bitPattern: $0) }
    }

    private func values<T>(_ type: ONNXDataType, width: Int, _ make: (UInt64) -> T) throws -> [T] {
        guard dataType == type else {
            // A tensor does not know its file; the tensor name stands in for it.
            throw ModelImportError(file: "tensor '\(name)'", format: .onnx, kind: .invalidModel,
                                   message: "is \(dataType), not \(type)")
        }
        return littleEndianElements(rawBytes[...], width: width, make)
    }
}
