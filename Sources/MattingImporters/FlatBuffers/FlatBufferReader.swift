/// A bounds-checked reader of FlatBuffers binary data.
///
/// Every offset and length read from the data is checked against the buffer before use, with
/// overflow-checked arithmetic, and every multi-byte value is read unaligned and little-endian,
/// so malformed input throws a ``FormatViolation`` instead of trapping or reading out of bounds.
/// Positions are plain `Int` byte offsets from the start of the buffer.
///
/// Layout reminders (FlatBuffers binary format):
/// - the buffer starts with a `uoffset` (u32) to the root table, optionally followed by a
///   4-byte file identifier;
/// - a table starts with an `soffset` (i32): its vtable is at `table - soffset`;
/// - a vtable is `[vtableSize: u16, tableSize: u16, fieldOffset: u16...]`, field `i` at slot
///   `4 + 2 * i`; a zero or missing slot means "absent, use the default";
/// - reference fields hold a `uoffset` relative to the field's own position;
/// - vectors and strings are `[count: u32, elements...]` (strings add a NUL not counted).
struct FlatBufferReader {
    let bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var count: Int { bytes.count }

    /// Throws unless `size` bytes starting at `position` lie inside the buffer.
    @inline(__always)
    func check(_ position: Int, size: Int, _ what: @autoclosure () -> String) throws {
        guard position >= 0, size >= 0, position <= bytes.count, size <= bytes.count - position else {
            throw FormatViolation(
                .outOfBounds,
                "\(what()) at byte \(position) (\(size) bytes) lies outside the \(bytes.count)-byte file")
        }
    }

    func u8(_ position: Int) throws -> UInt8 {
        try check(position, size: 1, "1-byte value")
        return bytes[position]
    }

    func u16(_ position: Int) throws -> UInt16 {
        try check(position, size: 2, "2-byte value")
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    func u32(_ position: Int) throws -> UInt32 {
        try check(position, size: 4, "4-byte value")
        var value: UInt32 = 0
        for k in 0..<4 { value |= UInt32(bytes[position + k]) << (8 * k) }
        return value
    }

    func u64(_ position: Int) throws -> UInt64 {
        try check(position, size: 8, "8-byte value")
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[position + k]) << (8 * k) }
        return value
    }

    func i32(_ position: Int) throws -> Int32 { Int32(bitPattern: try u32(position)) }

    /// `base + delta`, throwing on overflow (positions come from untrusted data).
    @inline(__always)
    static func add(_ base: Int, _ delta: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (sum, overflow) = base.addingReportingOverflow(delta)
        guard !overflow else { throw FormatViolation(.outOfBounds, "\(what()): offset overflows") }
        return sum
    }

    /// Follows the `uoffset` stored at `position` and returns the position it points to.
    func followOffset(at position: Int, _ what: @autoclosure () -> String) throws -> Int {
        let offset = try u32(position)
        let target = try Self.add(position, Int(offset), what())
        try check(target, size: 4, what())
        return target
    }

    /// The root table (the `uoffset` at byte 0).
    func rootTable() throws -> FlatBufferTable {
        guard bytes.count >= 8 else {
            throw FormatViolation(.outOfBounds, "file is \(bytes.count) bytes, too short for a FlatBuffer")
        }
        return try table(at: try followOffset(at: 0, "root table"), "root table")
    }

    /// The 4-byte file identifier after the root offset.
    func fileIdentifier() throws -> [UInt8] {
        try check(4, size: 4, "file identifier")
        return Array(bytes[4..<8])
    }

    /// Validates the table at `position` and its vtable.
    func table(at position: Int, _ what: @autoclosure () -> String) throws -> FlatBufferTable {
        try check(position, size: 4, what())
        let soffset = Int(try i32(position))
        let (vtable, overflow) = position.subtractingReportingOverflow(soffset)
        guard !overflow else { throw FormatViolation(.outOfBounds, "\(what()): vtable offset overflows") }
        try check(vtable, size: 4, "\(what()): vtable")
        let vtableSize = Int(try u16(vtable))
        let tableSize = Int(try u16(vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw FormatViolation(.malformed, "\(what()): vtable size \(vtableSize) is not an even number ≥ 4")
        }
        guard tableSize >= 4 else {
            throw FormatViolation(.malformed, "\(what()): table size \(tableSize) is smaller than its vtable offset")
        }
        try check(vtable, size: vtableSize, "\(what()): vtable")
        try check(position, size: tableSize, "\(what()): table")
        return FlatBufferTable(reader: self, position: position, vtable: vtable,
                               vtableSize: vtableSize, tableSize: tableSize)
    }

    /// Validates the vector whose `[count: u32]` header is at `position`.
    func vector(at position: Int, elementSize: Int, _ what: @autoclosure () -> String) throws -> FlatBufferVector {
        let count = Int(try u32(position))
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw FormatViolation(.outOfBounds, "\(what()): \(count) elements overflow") }
        let start = position + 4
        try check(start, size: byteCount, "\(what()): vector of \(count) elements")
        return FlatBufferVector(reader: self, start: start, count: count, elementSize: elementSize)
    }
}

/// A validated table: its vtable lies in the buffer and the table's inline bytes too.
struct FlatBufferTable {
    let reader: FlatBufferReader
    let position: Int
    let vtable: Int
    let vtableSize: Int
    let tableSize: Int

    /// Position of field `index` if present, checking that `size` bytes fit inside the table.
    func fieldPosition(_ index: Int, size: Int) throws -> Int? {
        let slot = 4 + 2 * index
        guard slot + 2 <= vtableSize else { return nil }  // older writer: field absent
        let offset = Int(try reader.u16(vtable + slot))
        guard offset != 0 else { return nil }
        guard offset >= 4, offset <= tableSize - size else {
            throw FormatViolation(
                .outOfBounds,
                "field \(index) at offset \(offset) (\(size) bytes) lies outside its \(tableSize)-byte table")
        }
        return position + offset
    }

    func bool(_ index: Int, default value: Bool = false) throws -> Bool {
        guard let p = try fieldPosition(index, size: 1) else { return value }
        return try reader.u8(p) != 0
    }

    func int8(_ index: Int, default value: Int8 = 0) throws -> Int8 {
        guard let p = try fieldPosition(index, size: 1) else { return value }
        return Int8(bitPattern: try reader.u8(p))
    }

    func uint8(_ index: Int, default value: UInt8 = 0) throws -> UInt8 {
        guard let p = try fieldPosition(index, size: 1) else { return value }
        return try reader.u8(p)
    }

    func int32(_ index: Int, default value: Int32 = 0) throws -> Int32 {
        guard let p = try fieldPosition(index, size: 4) else { return value }
        return try reader.i32(p)
    }

    func uint32(_ index: Int, default value: UInt32 = 0) throws -> UInt32 {
        guard let p = try fieldPosition(index, size: 4) else { return value }
        return try reader.u32(p)
    }

    func uint64(_ index: Int, default value: UInt64 = 0) throws -> UInt64 {
        guard let p = try fieldPosition(index, size: 8) else { return value }
        return try reader.u64(p)
    }

    func float32(_ index: Int, default value: Float = 0) throws -> Float {
        guard let p = try fieldPosition(index, size: 4) else { return value }
        return Float(bitPattern: try reader.u32(p))
    }

    /// The position a reference field points to, or nil if absent.
    private func target(_ index: Int, _ what: String) throws -> Int? {
        guard let p = try fieldPosition(index, size: 4) else { return nil }
        return try reader.followOffset(at: p, what)
    }

    func table(_ index: Int, _ what: @autoclosure () -> String) throws -> FlatBufferTable? {
        let name = what()
        guard let t = try target(index, name) else { return nil }
        return try reader.table(at: t, name)
    }

    func vector(_ index: Int, elementSize: Int, _ what: @autoclosure () -> String) throws -> FlatBufferVector? {
        let name = what()
        guard let t = try target(index, name) else { return nil }
        return try reader.vector(at: t, elementSize: elementSize, name)
    }

    /// A string field, required to be valid UTF-8.
    func string(_ index: Int, _ what: @autoclosure () -> String) throws -> String? {
        let name = what()
        guard let v = try vector(index, elementSize: 1, name) else { return nil }
        guard let s = String(validating: reader.bytes[v.start..<(v.start + v.count)], as: UTF8.self) else {
            throw FormatViolation(.malformed, "\(name): string is not valid UTF-8")
        }
        return s
    }
}

/// A validated vector: `count * elementSize` bytes from `start` lie in the buffer.
struct FlatBufferVector {
    let reader: FlatBufferReader
    let start: Int
    let count: Int
    let elementSize: Int

    var byteRange: Range<Int> { start..<(start + count * elementSize) }

    func int32s() throws -> [Int32] {
        precondition(elementSize == 4)  // programming error, not data
        return try (0..<count).map { try reader.i32(start + 4 * $0) }
    }

    func uint32s() throws -> [UInt32] {
        precondition(elementSize == 4)
        return try (0..<count).map { try reader.u32(start + 4 * $0) }
    }

    /// The table that element `i` of a vector of tables points to.
    func table(_ i: Int, _ what: @autoclosure () -> String) throws -> FlatBufferTable {
        precondition(elementSize == 4 && i >= 0 && i < count)
        let name = what()
        return try reader.table(at: try reader.followOffset(at: start + 4 * i, name), name)
    }
}
