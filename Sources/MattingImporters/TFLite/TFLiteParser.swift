/// Turns a TFLite FlatBuffer into a ``TFLiteModel``, checking every reference.
///
/// Field indices are those of TensorFlow's `schema.fbs` (a field's vtable slot is
/// `4 + 2 * index`). Only the fields MattingKit uses are read; unknown fields are ignored as
/// FlatBuffers intends.
struct TFLiteParser {
    let reader: FlatBufferReader
    let fileName: String

    init(bytes: [UInt8], fileName: String) {
        reader = FlatBufferReader(bytes: bytes)
        self.fileName = fileName
    }

    // Field indices (schema.fbs).
    private enum ModelField { static let version = 0, operatorCodes = 1, subgraphs = 2, description = 3, buffers = 4 }
    private enum OpCodeField { static let deprecatedBuiltinCode = 0, customCode = 1, version = 2, builtinCode = 3 }
    private enum SubGraphField { static let tensors = 0, inputs = 1, outputs = 2, operators = 3, name = 4 }
    private enum TensorField {
        static let shape = 0, type = 1, buffer = 2, name = 3, quantization = 4, isVariable = 5
        static let sparsity = 6, shapeSignature = 7
    }
    private enum SparsityField { static let traversalOrder = 0, blockMap = 1, dimensionMetadata = 2 }
    private enum DimensionField { static let format = 0, denseSize = 1, segmentsType = 2, segments = 3, indicesType = 4, indices = 5 }
    private enum OperatorField {
        static let opcodeIndex = 0, inputs = 1, outputs = 2, builtinOptionsType = 3, builtinOptions = 4
        static let customOptions = 5, largeCustomOptionsOffset = 9, largeCustomOptionsSize = 10
    }
    private enum BufferField { static let data = 0, offset = 1, size = 2 }

    func parse() throws -> TFLiteModel {
        var budget = DecodeBudget(fileSize: reader.count)
        let root = try reader.rootTable()
        let identifier = try reader.fileIdentifier()
        guard identifier == Array("TFL3".utf8) else {
            let shown = identifier.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "?" }.joined()
            throw FormatViolation(.malformed, "file identifier is '\(shown)', expected 'TFL3' (not a TFLite model?)")
        }
        let version = try root.uint32(ModelField.version)

        let buffers = try parseBuffers(root, budget: &budget)

        guard let codesVector = try root.vector(ModelField.operatorCodes, elementSize: 4, "operator_codes") else {
            throw FormatViolation(.invalidModel, "model has no operator_codes")
        }
        try budget.spend(codesVector.count)
        var codes: [TFLiteOperatorCode] = []
        for i in 0..<codesVector.count {
            codes.append(try withLocation("operator code \(i)") { try parseOperatorCode(codesVector.table(i, "operator code")) })
        }

        guard let subgraphsVector = try root.vector(ModelField.subgraphs, elementSize: 4, "subgraphs"),
              subgraphsVector.count > 0 else {
            throw FormatViolation(.invalidModel, "model has no subgraphs")
        }
        try budget.spend(subgraphsVector.count)
        var subgraphs: [TFLiteSubgraph] = []
        for i in 0..<subgraphsVector.count {
            subgraphs.append(try withLocation("subgraph \(i)") {
                try parseSubgraph(subgraphsVector.table(i, "subgraph"), codeCount: codes.count,
                                  buffers: buffers, budget: &budget)
            })
        }
        let description = try root.string(ModelField.description, "description")
        return TFLiteModel(fileName: fileName, version: version, description: description, operatorCodes: codes,
                           subgraphs: subgraphs, buffers: buffers, fileBytes: reader.bytes)
    }

    private func parseBuffers(_ root: FlatBufferTable, budget: inout DecodeBudget) throws -> [TFLiteBuffer] {
        guard let vector = try root.vector(ModelField.buffers, elementSize: 4, "buffers") else {
            throw FormatViolation(.invalidModel, "model has no buffers")
        }
        try budget.spend(vector.count)
        var buffers: [TFLiteBuffer] = []
        buffers.reserveCapacity(vector.count)
        for i in 0..<vector.count {
            try withLocation("buffer \(i)") {
                let table = try vector.table(i, "buffer")
                if let data = try table.vector(BufferField.data, elementSize: 1, "data") {
                    buffers.append(TFLiteBuffer(byteRange: data.byteRange))
                    return
                }
                // Models above 2 GB keep data after the FlatBuffer: offset/size from file start.
                // An offset of 0 or 1 means "no data" (1 is the converter's placeholder).
                let offset = try table.uint64(BufferField.offset)
                let size = try table.uint64(BufferField.size)
                guard offset > 1 else {
                    buffers.append(TFLiteBuffer(byteRange: 0..<0))
                    return
                }
                guard offset <= UInt64(reader.count), size <= UInt64(reader.count) - offset else {
                    throw FormatViolation(.outOfBounds,
                                          "data at offset \(offset) (\(size) bytes) lies outside the \(reader.count)-byte file")
                }
                buffers.append(TFLiteBuffer(byteRange: Int(offset)..<Int(offset + size)))
            }
        }
        return buffers
    }

    private func parseOperatorCode(_ table: FlatBufferTable) throws -> TFLiteOperatorCode {
        let deprecated = Int32(try table.int8(OpCodeField.deprecatedBuiltinCode))
        let builtin = try table.int32(OpCodeField.builtinCode)
        // TensorFlow's GetBuiltinCode: the larger of the two (the deprecated field saturates at
        // 127 for newer codes; old files have only it, so builtin_code defaults to 0 there).
        let code = max(deprecated, builtin)
        guard code >= 0 else { throw FormatViolation(.invalidModel, "negative builtin code \(code)") }
        return TFLiteOperatorCode(builtin: TFLiteBuiltinOperator(rawValue: code),
                                  customCode: try table.string(OpCodeField.customCode, "custom_code"),
                                  version: try table.int32(OpCodeField.version, default: 1))
    }

    private func parseSubgraph(_ table: FlatBufferTable, codeCount: Int, buffers: [TFLiteBuffer],
                               budget: inout DecodeBudget) throws -> TFLiteSubgraph {
        var tensors: [TFLiteTensor] = []
        if let vector = try table.vector(SubGraphField.tensors, elementSize: 4, "tensors") {
            try budget.spend(vector.count)
            tensors.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                tensors.append(try withLocation("tensor \(i)") {
                    try parseTensor(vector.table(i, "tensor"), buffers: buffers, budget: &budget)
                })
            }
        }
        let tensorCount = tensors.count
        func indices(_ field: Int, _ what: String, optional: Bool) throws -> [Int] {
            guard let vector = try table.vector(field, elementSize: 4, what) else { return [] }
            try budget.spend(vector.count)
            return try vector.int32s().map { raw in
                let index = Int(raw)
                guard (0..<tensorCount).contains(index) || (optional && index == -1) else {
                    throw FormatViolation(.invalidModel,
                                          "\(what) names tensor \(index) but the subgraph has \(tensorCount) tensors")
                }
                return index
            }
        }
        let inputs = try indices(SubGraphField.inputs, "inputs", optional: false)
        let outputs = try indices(SubGraphField.outputs, "outputs", optional: false)

        var operators: [TFLiteOperator] = []
        if let vector = try table.vector(SubGraphField.operators, elementSize: 4, "operators") {
            try budget.spend(vector.count)
            operators.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                operators.append(try withLocation("operator \(i)") {
                    try parseOperator(vector.table(i, "operator"), codeCount: codeCount,
                                      tensorCount: tensorCount, budget: &budget)
                })
            }
        }
        return TFLiteSubgraph(tensors: tensors, inputs: inputs, outputs: outputs, operators: operators,
                              name: try table.string(SubGraphField.name, "name"))
    }

    private func parseTensor(_ table: FlatBufferTable, buffers: [TFLiteBuffer],
                             budget: inout DecodeBudget) throws -> TFLiteTensor {
        let name = try table.string(TensorField.name, "name") ?? ""
        return try withLocation("'\(name)'") {
            var shape: [Int32] = []
            if let vector = try table.vector(TensorField.shape, elementSize: 4, "shape") {
                try budget.spend(vector.count)
                shape = try vector.int32s()
            }
            var signature: [Int32]?
            if let vector = try table.vector(TensorField.shapeSignature, elementSize: 4, "shape_signature") {
                try budget.spend(vector.count)
                signature = try vector.int32s()
            }
            let rawType = try table.int8(TensorField.type)
            guard let type = TFLiteTensorType(rawValue: rawType) else {
                throw FormatViolation(.unsupported, "unknown tensor type \(rawType)")
            }
            let buffer = Int(try table.uint32(TensorField.buffer))
            guard buffer < buffers.count else {
                throw FormatViolation(.invalidModel, "refers to buffer \(buffer) but the model has \(buffers.count) buffers")
            }
            let dataCount = buffers[buffer].byteRange.count
            let sparsity = try table.table(TensorField.sparsity, "sparsity").map {
                try parseSparsity($0, shape: shape, budget: &budget)
            }
            if dataCount > 0, let width = type.byteWidth {
                // Constant data must match the shape exactly (overflow-checked element count),
                // or for a sparse tensor hold exactly its stored values.
                var elements = 1
                for d in shape {
                    guard d >= 0 else { throw FormatViolation(.invalidModel, "constant tensor has negative dimension \(d)") }
                    let (p, o) = elements.multipliedReportingOverflow(by: Int(d))
                    guard !o else { throw FormatViolation(.invalidModel, "shape \(shape) overflows") }
                    elements = p
                }
                if let sparsity { elements = sparsity.storedCount }
                let (expected, o) = elements.multipliedReportingOverflow(by: width)
                guard !o, expected == dataCount else {
                    throw FormatViolation(.invalidModel,
                                          "buffer \(buffer) holds \(dataCount) bytes but shape \(shape) of \(type) needs \(o ? "too many" : String(expected))")
                }
            }
            if sparsity != nil && dataCount == 0 {
                throw FormatViolation(.invalidModel, "has sparsity parameters but no constant data")
            }
            return TFLiteTensor(name: name, shape: shape, shapeSignature: signature, type: type, buffer: buffer, sparsity: sparsity,
                                hasQuantization: try Self.hasQuantization(table.table(TensorField.quantization, "quantization")),
                                isVariable: try table.bool(TensorField.isVariable))
        }
    }

    /// A `SparsityParameters` table, checked against the tensor's shape.
    private func parseSparsity(_ table: FlatBufferTable, shape: [Int32], budget: inout DecodeBudget) throws -> TFLiteSparsity {
        try withLocation("sparsity") {
            guard shape.allSatisfy({ $0 > 0 }) else {
                throw FormatViolation(.invalidModel, "sparse tensor has shape \(shape); every dimension must be positive")
            }
            func ints(_ field: Int, _ what: String) throws -> [Int] {
                guard let vector = try table.vector(field, elementSize: 4, what) else { return [] }
                try budget.spend(vector.count)
                return try vector.int32s().map(Int.init)
            }
            let order = try ints(SparsityField.traversalOrder, "traversal_order")
            let blockMap = try ints(SparsityField.blockMap, "block_map")
            var levels: [TFLiteSparsity.Level] = []
            if let vector = try table.vector(SparsityField.dimensionMetadata, elementSize: 4, "dim_metadata") {
                try budget.spend(vector.count)
                for i in 0..<vector.count {
                    let dimension = try vector.table(i, "dim_metadata \(i)")
                    switch try dimension.int8(DimensionField.format) {
                    case 0:
                        levels.append(.dense(size: Int(try dimension.int32(DimensionField.denseSize))))
                    case 1:
                        let segments = try indexVector(dimension, typeField: DimensionField.segmentsType,
                                                       field: DimensionField.segments, "dim_metadata \(i) array_segments", budget: &budget)
                        let indices = try indexVector(dimension, typeField: DimensionField.indicesType,
                                                      field: DimensionField.indices, "dim_metadata \(i) array_indices", budget: &budget)
                        levels.append(.compressed(segments: segments, indices: indices))
                    case let format:
                        throw FormatViolation(.unsupported, "dim_metadata \(i) has unknown format \(format)")
                    }
                }
            }
            return try TFLiteSparsity(traversalOrder: order, blockMap: blockMap, levels: levels, shape: shape.map(Int.init))
        }
    }

    /// A `SparseIndexVector` union member (Int32Vector, Uint16Vector or Uint8Vector; its `values`
    /// is field 0) as integers.
    private func indexVector(_ table: FlatBufferTable, typeField: Int, field: Int, _ what: String,
                             budget: inout DecodeBudget) throws -> [Int] {
        let type = try table.uint8(typeField)
        let width: Int
        switch type {
        case 1: width = 4
        case 2: width = 2
        case 3: width = 1
        default: throw FormatViolation(type == 0 ? .invalidModel : .unsupported, "\(what) has index vector type \(type)")
        }
        guard let member = try table.table(field, what), let vector = try member.vector(0, elementSize: width, what) else {
            throw FormatViolation(.invalidModel, "\(what) is missing")
        }
        try budget.spend(vector.count)
        return try (0..<vector.count).map { i in
            switch width {
            case 4: Int(try reader.i32(vector.start + 4 * i))
            case 2: Int(try reader.u16(vector.start + 2 * i))
            default: Int(try reader.u8(vector.start + i))
            }
        }
    }

    /// Whether a `QuantizationParameters` table actually quantizes: converters often write an
    /// empty table for float tensors, so only a non-empty `scale` (field 2) or `zero_point` (3),
    /// or a `details` union (4), counts.
    private static func hasQuantization(_ table: FlatBufferTable?) throws -> Bool {
        guard let table else { return false }
        if let scale = try table.vector(2, elementSize: 4, "quantization scale"), scale.count > 0 { return true }
        if let zero = try table.vector(3, elementSize: 8, "quantization zero_point"), zero.count > 0 { return true }
        return try table.uint8(4) != 0
    }

    private func parseOperator(_ table: FlatBufferTable, codeCount: Int, tensorCount: Int,
                               budget: inout DecodeBudget) throws -> TFLiteOperator {
        let opcode = Int(try table.uint32(OperatorField.opcodeIndex))
        guard opcode < codeCount else {
            throw FormatViolation(.invalidModel, "uses operator code \(opcode) but the model has \(codeCount)")
        }
        func indices(_ field: Int, _ what: String) throws -> [Int] {
            guard let vector = try table.vector(field, elementSize: 4, what) else { return [] }
            try budget.spend(vector.count)
            return try vector.int32s().map { raw in
                let index = Int(raw)
                guard index == -1 || (0..<tensorCount).contains(index) else {
                    let verb = what == "inputs" ? "reads" : "writes"
                    throw FormatViolation(.invalidModel, "\(verb) tensor \(index) but the subgraph has \(tensorCount) tensors")
                }
                return index
            }
        }
        let inputs = try indices(OperatorField.inputs, "inputs")
        let outputs = try indices(OperatorField.outputs, "outputs")
        let optionsType = try table.uint8(OperatorField.builtinOptionsType)
        let optionsTable = try table.table(OperatorField.builtinOptions, "builtin_options")
        let options = try withLocation("builtin_options") { try Self.decodeOptions(type: optionsType, optionsTable, budget: &budget) }

        var custom: [UInt8]?
        if let vector = try table.vector(OperatorField.customOptions, elementSize: 1, "custom_options") {
            try budget.spend(vector.count)
            custom = Array(reader.bytes[vector.byteRange])
        } else {
            let offset = try table.uint64(OperatorField.largeCustomOptionsOffset)
            let size = try table.uint64(OperatorField.largeCustomOptionsSize)
            if offset > 1 {
                guard offset <= UInt64(reader.count), size <= UInt64(reader.count) - offset else {
                    throw FormatViolation(.outOfBounds,
                                          "large custom options at \(offset) (\(size) bytes) lie outside the \(reader.count)-byte file")
                }
                try budget.spend(Int(size))
                custom = Array(reader.bytes[Int(offset)..<Int(offset + size)])
            }
        }
        return TFLiteOperator(opcodeIndex: opcode, inputs: inputs, outputs: outputs, options: options, customOptions: custom)
    }

    // Union tags of `BuiltinOptions` (position in the union, NONE = 0).
    private enum OptionsTag {
        static let conv2D: UInt8 = 1, depthwiseConv2D: UInt8 = 2, pool2D: UInt8 = 5, softmax: UInt8 = 9
        static let concatenation: UInt8 = 10, add: UInt8 = 11, resizeBilinear: UInt8 = 15, reshape: UInt8 = 17
        static let mul: UInt8 = 21, pad: UInt8 = 22, reducer: UInt8 = 27, sub: UInt8 = 28, div: UInt8 = 29
        static let dequantize: UInt8 = 38, transposeConv: UInt8 = 49, depthToSpace: UInt8 = 94, densify: UInt8 = 99
    }

    private static func padding(_ raw: Int8) throws -> TFLitePadding {
        guard let p = TFLitePadding(rawValue: raw) else { throw FormatViolation(.invalidModel, "unknown padding \(raw)") }
        return p
    }

    private static func activation(_ raw: Int8) throws -> TFLiteActivation {
        guard let a = TFLiteActivation(rawValue: raw) else {
            throw FormatViolation(.invalidModel, "unknown fused activation \(raw)")
        }
        return a
    }

    static func decodeOptions(type: UInt8, _ table: FlatBufferTable?, budget: inout DecodeBudget) throws -> TFLiteBuiltinOptions {
        guard type != 0 else { return .none }
        guard let t = table else {
            throw FormatViolation(.invalidModel, "union type \(type) is set but the options table is missing")
        }
        switch type {
        case OptionsTag.conv2D:
            return .conv2D(TFLiteConv2DOptions(
                padding: try padding(t.int8(0)), strideWidth: try t.int32(1), strideHeight: try t.int32(2),
                activation: try activation(t.int8(3)),
                dilationWidth: try t.int32(4, default: 1), dilationHeight: try t.int32(5, default: 1)))
        case OptionsTag.depthwiseConv2D:
            return .depthwiseConv2D(TFLiteDepthwiseConv2DOptions(
                padding: try padding(t.int8(0)), strideWidth: try t.int32(1), strideHeight: try t.int32(2),
                depthMultiplier: try t.int32(3), activation: try activation(t.int8(4)),
                dilationWidth: try t.int32(5, default: 1), dilationHeight: try t.int32(6, default: 1)))
        case OptionsTag.pool2D:
            return .pool2D(TFLitePool2DOptions(
                padding: try padding(t.int8(0)), strideWidth: try t.int32(1), strideHeight: try t.int32(2),
                filterWidth: try t.int32(3), filterHeight: try t.int32(4), activation: try activation(t.int8(5))))
        case OptionsTag.softmax:
            return .softmax(beta: try t.float32(0))
        case OptionsTag.concatenation:
            return .concatenation(axis: try t.int32(0), activation: try activation(t.int8(1)))
        case OptionsTag.add: return .add(activation: try activation(t.int8(0)))
        case OptionsTag.sub: return .sub(activation: try activation(t.int8(0)))
        case OptionsTag.mul: return .mul(activation: try activation(t.int8(0)))
        case OptionsTag.div: return .div(activation: try activation(t.int8(0)))
        case OptionsTag.resizeBilinear:
            // Fields 0 and 1 (new_height, new_width) are deprecated.
            return .resizeBilinear(TFLiteResizeBilinearOptions(alignCorners: try t.bool(2), halfPixelCenters: try t.bool(3)))
        case OptionsTag.reshape:
            guard let v = try t.vector(0, elementSize: 4, "new_shape") else { return .reshape(newShape: nil) }
            try budget.spend(v.count)
            return .reshape(newShape: try v.int32s())
        case OptionsTag.pad: return .pad
        case OptionsTag.reducer: return .reducer(keepDims: try t.bool(0))
        case OptionsTag.dequantize, OptionsTag.densify: return .dequantize
        case OptionsTag.depthToSpace: return .depthToSpace(blockSize: try t.int32(0))
        case OptionsTag.transposeConv:
            return .transposeConv(TFLiteTransposeConvOptions(
                padding: try padding(t.int8(0)), strideWidth: try t.int32(1), strideHeight: try t.int32(2),
                activation: try activation(t.int8(3))))
        default:
            return .other(unionType: type)
        }
    }
}
