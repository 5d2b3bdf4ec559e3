/// A bounds-checked reader of the protobuf wire format (proto2/proto3 binary encoding).
///
/// Reads one message's bytes field by field. Every length is checked against the enclosing
/// message before use and varints longer than 10 bytes are rejected, so malformed input throws
/// a ``FormatViolation`` instead of trapping. Unknown fields are skipped, as protobuf requires;
/// groups (wire types 3 and 4, deprecated and unused by ONNX) are rejected.
struct ProtobufReader {
    /// Wire types of the protobuf encoding.
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// A reader over `range` of `bytes` (the range must lie in `bytes`; callers pass ranges
    /// this reader produced or the whole buffer).
    init(bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    init(bytes: [UInt8]) {
        self.init(bytes: bytes, range: 0..<bytes.count)
    }

    var isAtEnd: Bool { position >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: WireType)? {
        guard position < end else { return nil }
        let start = position
        let key = try varint()
        let number = key >> 3
        guard number > 0, number <= 536_870_911 else {
            throw FormatViolation(.malformed, "invalid field number \(number) at byte \(start)")
        }
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw FormatViolation(.malformed, "invalid wire type \(key & 7) at byte \(start)")
        }
        return (Int(number), wireType)
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw FormatViolation(.outOfBounds, "varint at byte \(start) runs past the end of its message (byte \(end))")
            }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw FormatViolation(.malformed, "varint at byte \(start) is longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else {
            throw FormatViolation(.outOfBounds, "4-byte field at byte \(position) runs past the end of its message (byte \(end))")
        }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[position + k]) << (8 * k) }
        position += 4
        return v
    }

    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else {
            throw FormatViolation(.outOfBounds, "8-byte field at byte \(position) runs past the end of its message (byte \(end))")
        }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[position + k]) << (8 * k) }
        position += 8
        return v
    }

    /// The byte range of a length-delimited field's payload.
    mutating func lengthDelimited() throws -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw FormatViolation(
                .outOfBounds,
                "length \(length) at byte \(start) runs past the end of its message (\(end - position) bytes left)")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Skips a field's value.
    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup:
            throw FormatViolation(.malformed, "groups (wire type \(wireType.rawValue)) are not used by this format")
        }
    }

    /// Throws unless the field has the wire type its schema declares.
    static func expect(_ wireType: WireType, _ expected: WireType, field: Int, in message: String) throws {
        guard wireType == expected else {
            throw FormatViolation(.malformed, "\(message) field \(field) has wire type \(wireType.rawValue), expected \(expected.rawValue)")
        }
    }

    // MARK: Typed payloads

    mutating func string(field: Int, in message: String) throws -> String {
        let range = try lengthDelimited()
        guard let s = String(validating: bytes[range], as: UTF8.self) else {
            throw FormatViolation(.malformed, "\(message) field \(field) is not valid UTF-8")
        }
        return s
    }

    mutating func bytesField() throws -> [UInt8] {
        Array(bytes[try lengthDelimited()])
    }

    /// Appends a repeated varint field's values, accepting both packed and unpacked encodings.
    mutating func appendVarints(_ wireType: WireType, to values: inout [UInt64], budget: inout DecodeBudget,
                                field: Int, in message: String) throws {
        switch wireType {
        case .varint:
            try budget.spend(1)
            values.append(try varint())
        case .lengthDelimited:
            var inner = ProtobufReader(bytes: bytes, range: try lengthDelimited())
            while !inner.isAtEnd {
                try budget.spend(1)
                values.append(try inner.varint())
            }
        default:
            throw FormatViolation(.malformed, "\(message) field \(field) has wire type \(wireType.rawValue), expected a varint list")
        }
    }

    /// Appends a repeated fixed32 field's values (float), packed or unpacked.
    mutating func appendFixed32s(_ wireType: WireType, to values: inout [UInt32], budget: inout DecodeBudget,
                                 field: Int, in message: String) throws {
        switch wireType {
        case .fixed32:
            try budget.spend(1)
            values.append(try fixed32())
        case .lengthDelimited:
            let range = try lengthDelimited()
            guard range.count % 4 == 0 else {
                throw FormatViolation(.malformed, "\(message) field \(field): packed 4-byte list of \(range.count) bytes")
            }
            try budget.spend(range.count / 4)
            var inner = ProtobufReader(bytes: bytes, range: range)
            while !inner.isAtEnd { values.append(try inner.fixed32()) }
        default:
            throw FormatViolation(.malformed, "\(message) field \(field) has wire type \(wireType.rawValue), expected a 4-byte list")
        }
    }

    /// Appends a repeated fixed64 field's values (double), packed or unpacked.
    mutating func appendFixed64s(_ wireType: WireType, to values: inout [UInt64], budget: inout DecodeBudget,
                                 field: Int, in message: String) throws {
        switch wireType {
        case .fixed64:
            try budget.spend(1)
            values.append(try fixed64())
        case .lengthDelimited:
            let range = try lengthDelimited()
            guard range.count % 8 == 0 else {
                throw FormatViolation(.malformed, "\(message) field \(field): packed 8-byte list of \(range.count) bytes")
            }
            try budget.spend(range.count / 8)
            var inner = ProtobufReader(bytes: bytes, range: range)
            while !inner.isAtEnd { values.append(try inner.fixed64()) }
        default:
            throw FormatViolation(.malformed, "\(message) field \(field) has wire type \(wireType.rawValue), expected an 8-byte list")
        }
    }
}
