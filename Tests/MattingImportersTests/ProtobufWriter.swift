/// A tiny protobuf encoder for building malformed or unusual ONNX models in tests.
enum PB {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    static func key(_ field: Int, _ wire: UInt8) -> [UInt8] { varint(UInt64(field) << 3 | UInt64(wire)) }
    static func int(_ field: Int, _ value: Int64) -> [UInt8] { key(field, 0) + varint(UInt64(bitPattern: value)) }
    static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(payload.count)) + payload }
    static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }

    /// `TensorProto` with FLOAT data in raw_data.
    static func floatTensor(name: String, dims: [Int64], raw: [UInt8]) -> [UInt8] {
        dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name) + bytes(9, raw)
    }

    /// `TensorProto` with FLOAT data in an external file.
    static func externalTensor(name: String, dims: [Int64], location: String, offset: Int? = nil, length: Int? = nil) -> [UInt8] {
        var t = dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name)
        t += bytes(13, string(1, "location") + string(2, location))
        if let offset { t += bytes(13, string(1, "offset") + string(2, String(offset))) }
        if let length { t += bytes(13, string(1, "length") + string(2, String(length))) }
        return t + int(14, 1)
    }

    /// A `ModelProto` with one Identity node and the given initializers.
    static func model(initializers: [[UInt8]], extraGraph: [UInt8] = []) -> [UInt8] {
        let node = string(1, "x") + string(2, "y") + string(4, "Identity")
        let graph = bytes(1, node) + string(2, "g") + initializers.flatMap { bytes(5, $0) } + extraGraph
        return int(1, 8) + string(2, "test") + bytes(7, graph) + bytes(8, string(1, "") + int(2, 17))
    }
}
