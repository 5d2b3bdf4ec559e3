import Foundation

extension ONNXParser {
    /// Decodes a `TensorProto` and normalises its data to little-endian bytes.
    mutating func parseTensor(_ range: Range<Int>) throws -> ONNXTensor {
        var r = ProtobufReader(bytes: bytes, range: range)
        let m = "TensorProto"
        var dims: [UInt64] = []
        var rawType: Int32 = 0
        var name = ""
        var raw: Range<Int>?
        var floats: [UInt32] = [], varints: [UInt64] = [], doubles: [UInt64] = []
        var typedField: Int?
        var strings: [[UInt8]] = []
        var external: [ONNXStringPair] = []
        var location: UInt64 = 0
        var hasSegment = false
        func noteTyped(_ field: Int) throws {
            if let typedField, typedField != field {
                throw FormatViolation(.invalidModel, "data in both field \(typedField) and field \(field)")
            }
            typedField = field
        }
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.appendVarints(wire, to: &dims, budget: &budget, field: field, in: m)
            case 2: try ProtobufReader.expect(wire, .varint, field: field, in: m); rawType = Int32(truncatingIfNeeded: try r.varint())
            case 3: hasSegment = true; try r.skip(wire)
            case 4: try noteTyped(field); try r.appendFixed32s(wire, to: &floats, budget: &budget, field: field, in: m)
            case 5, 7, 11: try noteTyped(field); try r.appendVarints(wire, to: &varints, budget: &budget, field: field, in: m)
            case 10: try noteTyped(field); try r.appendFixed64s(wire, to: &doubles, budget: &budget, field: field, in: m)
            case 6:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let b = try r.bytesField()
                try budget.spend(1 + b.count / 8)
                strings.append(b)
            case 8: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); name = try r.string(field: field, in: m)
            case 9: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); raw = try r.lengthDelimited()
            case 13:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                external.append(try parseExternalPair(try r.lengthDelimited()))
            case 14: try ProtobufReader.expect(wire, .varint, field: field, in: m); location = try r.varint()
            default: try r.skip(wire)
            }
        }
        return try withLocation("tensor '\(name)'") {
            guard !hasSegment else { throw FormatViolation(.unsupported, "segmented tensors are not supported") }
            guard let type = ONNXDataType(rawValue: rawType) else {
                throw FormatViolation(rawType == 0 ? .invalidModel : .unsupported, "unknown data_type \(rawType)")
            }
            // Element count, overflow-checked; dims are int64 and must be non-negative.
            var count = 1
            var signedDims: [Int64] = []
            for d in dims {
                let v = Int64(bitPattern: d)
                guard v >= 0 else { throw FormatViolation(.invalidModel, "negative dimension \(v)") }
                let (p, o) = count.multipliedReportingOverflow(by: Int(v))
                guard !o else { throw FormatViolation(.invalidModel, "dims \(dims) overflow") }
                count = p
                signedDims.append(v)
            }
            var storage: ONNXTensor.Storage
            var data: [UInt8] = []
            switch location {
            case 0: break
            case 1: break
            default: throw FormatViolation(.invalidModel, "unknown data_location \(location)")
            }
            if location == 1 {
                guard raw == nil, typedField == nil else {
                    throw FormatViolation(.invalidModel, "data_location is EXTERNAL but data is also stored inline")
                }
                let (path, offset, length) = try Self.externalReference(external)
                data = try externalData.load(location: path, offset: offset, length: length)
                storage = .external(location: path, offset: offset ?? 0, length: data.count)
            } else if let raw {
                guard typedField == nil else { throw FormatViolation(.invalidModel, "data in both raw_data and a typed field") }
                data = Array(bytes[raw])
                storage = .raw
            } else if let typedField {
                data = try Self.packTyped(type: type, field: typedField, floats: floats, varints: varints, doubles: doubles)
                storage = .typed(field: typedField)
            } else if !strings.isEmpty {
                storage = .strings
            } else {
                storage = .empty
            }

            // The data must match the shape exactly.
            if type == .string {
                guard data.isEmpty else { throw FormatViolation(.invalidModel, "STRING tensor with binary data") }
                guard strings.count == count else {
                    throw FormatViolation(.invalidModel, "\(strings.count) strings for shape \(signedDims) (\(count) elements)")
                }
            } else {
                let expected: Int
                if let width = type.byteWidth {
                    let (e, o) = count.multipliedReportingOverflow(by: width)
                    guard !o else { throw FormatViolation(.invalidModel, "dims \(signedDims) overflow") }
                    expected = e
                } else {
                    expected = (count + 1) / 2  // 4-bit types: two per byte
                }
                guard data.count == expected else {
                    throw FormatViolation(.invalidModel,
                                          "holds \(data.count) bytes but shape \(signedDims) of \(type) needs \(expected)")
                }
                guard strings.isEmpty else { throw FormatViolation(.invalidModel, "\(type) tensor with string_data") }
            }
            return ONNXTensor(name: name, dims: signedDims, dataType: type, storage: storage, rawBytes: data, strings: strings)
        }
    }

    private func parseExternalPair(_ range: Range<Int>) throws -> ONNXStringPair {
        var r = ProtobufReader(bytes: bytes, range: range)
        var pair = ONNXStringPair(key: "", value: "")
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "external_data"); pair.key = try r.string(field: field, in: "external_data")
            case 2: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "external_data"); pair.value = try r.string(field: field, in: "external_data")
            default: try r.skip(wire)
            }
        }
        return pair
    }

    /// `location` (required), `offset` and `length` (optional, decimal) from `external_data`.
    static func externalReference(_ pairs: [ONNXStringPair]) throws -> (String, Int?, Int?) {
        var location: String?
        var offset: Int?, length: Int?
        for pair in pairs {
            switch pair.key {
            case "location": location = pair.value
            case "offset", "length":
                guard let v = Int(pair.value), v >= 0 else {
                    throw FormatViolation(.externalData, "external data \(pair.key) '\(pair.value)' is not a non-negative integer")
                }
                if pair.key == "offset" { offset = v } else { length = v }
            default: break  // "checksum" and unknown keys are ignored
            }
        }
        guard let location, !location.isEmpty else {
            throw FormatViolation(.externalData, "data_location is EXTERNAL but external_data has no location")
        }
        return (location, offset, length)
    }

    /// Packs a typed repeated field into little-endian bytes of `type`'s width.
    ///
    /// onnx.proto: FLOAT and COMPLEX64 use float_data; INT32, INT16, INT8, UINT16, UINT8, BOOL,
    /// FLOAT16, BFLOAT16 and the FLOAT8 types use int32_data (fp16 as its bit pattern); INT64
    /// uses int64_data; UINT32 and UINT64 use uint64_data; DOUBLE and COMPLEX128 use double_data.
    static func packTyped(type: ONNXDataType, field: Int, floats: [UInt32], varints: [UInt64],
                          doubles: [UInt64]) throws -> [UInt8] {
        func mismatch() -> FormatViolation {
            FormatViolation(.invalidModel, "\(type) data stored in field \(field), which onnx.proto reserves for other types")
        }
        func pack(_ values: [UInt64], width: Int) -> [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(values.count * width)
            for v in values { for k in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
            return out
        }
        switch (type, field) {
        case (.float, 4), (.complex64, 4): return pack(floats.map(UInt64.init), width: 4)
        case (.double, 10), (.complex128, 10): return pack(doubles, width: 8)
        case (.int64, 7): return pack(varints, width: 8)
        case (.uint32, 11): return pack(varints, width: 4)
        case (.uint64, 11): return pack(varints, width: 8)
        case (.int32, 5): return pack(varints, width: 4)
        case (.int16, 5), (.uint16, 5), (.float16, 5), (.bfloat16, 5): return pack(varints, width: 2)
        case (.int8, 5), (.uint8, 5), (.bool, 5), (.float8e4m3fn, 5), (.float8e4m3fnuz, 5), (.float8e5m2, 5),
             (.float8e5m2fnuz, 5):
            return pack(varints, width: 1)
        default: throw mismatch()
        }
    }
}

/// Loads external tensor data from files beside the model, refusing anything outside its folder.
struct ONNXExternalDataLoader: Sendable {
    let directory: URL?

    /// The bytes at `offset` (default 0) of length `length` (default: to the end of the file).
    func load(location: String, offset: Int?, length: Int?) throws -> [UInt8] {
        guard let directory else {
            throw FormatViolation(.externalData, "refers to external data '\(location)' but the model was not read from a file")
        }
        // ONNX locations are POSIX paths relative to the model's folder. Refuse absolute paths,
        // parent references and NULs before touching the file system, then check again after
        // resolving symbolic links.
        let components = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\0"), !location.contains("\\"),
              !components.contains(where: { $0 == ".." }) else {
            throw FormatViolation(.externalData, "external data location '\(location)' escapes the model's folder")
        }
        let base = directory.standardizedFileURL.resolvingSymlinksInPath()
        let file = base.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        let basePath = base.path.hasSuffix("/") ? base.path : base.path + "/"
        guard file.path.hasPrefix(basePath) else {
            throw FormatViolation(.externalData, "external data location '\(location)' resolves outside the model's folder")
        }
        if let kind = ModelImportError.irregularKind(atPath: file.path) {
            throw FormatViolation(.externalData, "external data '\(location)' is \(kind), not a regular file")
        }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: file)
        } catch {
            throw FormatViolation(.externalData, "cannot open external data '\(location)': \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        do {
            let size = Int(try handle.seekToEnd())
            let start = offset ?? 0
            guard start <= size else {
                throw FormatViolation(.externalData, "external data '\(location)': offset \(start) is past its end (\(size) bytes)")
            }
            let count = length ?? (size - start)
            guard count <= size - start else {
                throw FormatViolation(.externalData,
                                      "external data '\(location)': \(count) bytes at offset \(start) run past its end (\(size) bytes)")
            }
            try handle.seek(toOffset: UInt64(start))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw FormatViolation(.externalData, "external data '\(location)': read \(data.count) of \(count) bytes")
            }
            return [UInt8](data)
        } catch let violation as FormatViolation {
            throw violation
        } catch {
            throw FormatViolation(.externalData, "cannot read external data '\(location)': \(error.localizedDescription)")
        }
    }
}
