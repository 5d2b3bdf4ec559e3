/// A 64-byte aligned, zero-initialised block of memory owned by one or more `Tensor`s.
///
/// Tensors share a storage object until one of them is mutated (copy-on-write), so the
/// storage's bytes never change while more than one tensor refers to it; that is what
/// makes the `@unchecked Sendable` sound.
final class TensorStorage: @unchecked Sendable {
    /// The first byte; valid for `byteCount` bytes (at least one byte is always allocated).
    let pointer: UnsafeMutableRawPointer
    /// The usable size in bytes.
    let byteCount: Int

    /// Alignment of every tensor's data: a cache line, and enough for any SIMD load.
    static let alignment = 64

    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(
            byteCount: max(byteCount, 1), alignment: TensorStorage.alignment)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    /// A new storage holding a copy of this one's bytes.
    func copy() -> TensorStorage {
        let other = TensorStorage(byteCount: byteCount)
        other.pointer.copyMemory(from: pointer, byteCount: byteCount)
        return other
    }

    deinit { pointer.deallocate() }
}
