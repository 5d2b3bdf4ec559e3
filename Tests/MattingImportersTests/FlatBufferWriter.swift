/// A tiny forward-layout FlatBuffer writer for building unusual TFLite files in tests.
///
/// Objects are appended in order; a reference field is patched with `link(_:to:)` once its
/// target (always later in the buffer, as `uoffset`s are unsigned) has been written.
struct FlatBufferWriter {
    private(set) var bytes: [UInt8]

    /// Starts a buffer with a root offset placeholder and a file identifier.
    init(identifier: String) {
        bytes = [0, 0, 0, 0] + Array(identifier.utf8)
    }

    /// A field value: inline scalar bytes, or a reference to patch later.
    enum Field {
        case scalar([UInt8])
        case reference
    }

    static func i8(_ v: Int8) -> Field { .scalar([UInt8(bitPattern: v)]) }
    static func i32(_ v: Int32) -> Field { .scalar(le(UInt32(bitPattern: v))) }
    static func u32(_ v: UInt32) -> Field { .scalar(le(v)) }
    static func u64(_ v: UInt64) -> Field { .scalar((0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }) }
    static func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    private mutating func pad4() { while bytes.count % 4 != 0 { bytes.append(0) } }

    /// Writes a vtable and its table; returns the table position and each field's position.
    mutating func table(_ fields: [Int: Field]) -> (position: Int, fields: [Int: Int]) {
        pad4()
        let maxIndex = fields.keys.max() ?? -1
        // Table layout: soffset, then fields in index order, each padded to 4 bytes.
        var offsets = [Int](repeating: 0, count: maxIndex + 1)
        var inline: [UInt8] = []
        var fieldOffsets: [Int: Int] = [:]
        for index in fields.keys.sorted() {
            let offset = 4 + inline.count
            offsets[index] = offset
            fieldOffsets[index] = offset
            switch fields[index] {
            case .scalar(let b)?: inline += b
            case .reference?: inline += [0, 0, 0, 0]
            case nil: break
            }
            while inline.count % 4 != 0 { inline.append(0) }
        }
        let vtable = bytes.count
        let vtableSize = 4 + 2 * offsets.count
        let tableSize = 4 + inline.count
        bytes += [UInt8(vtableSize & 0xFF), UInt8(vtableSize >> 8), UInt8(tableSize & 0xFF), UInt8(tableSize >> 8)]
        for o in offsets { bytes += [UInt8(o & 0xFF), UInt8(o >> 8)] }
        pad4()
        let table = bytes.count
        bytes += Self.le(UInt32(bitPattern: Int32(table - vtable)))
        bytes += inline
        return (table, fieldOffsets.mapValues { table + $0 })
    }

    /// Writes `[count][int32...]`; returns its position.
    mutating func vector(int32 values: [Int32]) -> Int {
        pad4()
        let p = bytes.count
        bytes += Self.le(UInt32(values.count))
        for v in values { bytes += Self.le(UInt32(bitPattern: v)) }
        return p
    }

    /// Writes `[count][bytes...]` (strings too; a NUL is appended after strings).
    mutating func vector(bytes values: [UInt8], nulTerminated: Bool = false) -> Int {
        pad4()
        let p = bytes.count
        bytes += Self.le(UInt32(values.count)) + values + (nulTerminated ? [0] : [])
        return p
    }

    mutating func string(_ s: String) -> Int { vector(bytes: Array(s.utf8), nulTerminated: true) }

    /// Writes a vector of `count` table references; returns its position and the slot positions.
    mutating func vectorOfReferences(count: Int) -> (position: Int, slots: [Int]) {
        pad4()
        let p = bytes.count
        bytes += Self.le(UInt32(count))
        let slots = (0..<count).map { p + 4 + 4 * $0 }
        bytes += [UInt8](repeating: 0, count: 4 * count)
        return (p, slots)
    }

    /// Points the `uoffset` at `slot` to `target` (which must come later).
    mutating func link(_ slot: Int, to target: Int) {
        precondition(target > slot)
        bytes.replaceSubrange(slot..<(slot + 4), with: Self.le(UInt32(target - slot)))
    }

    mutating func setRoot(_ table: Int) { link(0, to: table) }

    mutating func append(_ raw: [UInt8]) -> Int {
        pad4()
        let p = bytes.count
        bytes += raw
        return p
    }
}
