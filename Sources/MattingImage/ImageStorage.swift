/// The reference-counted, 64-byte aligned memory behind one or more ``ImageBuffer`` values.
///
/// Several buffers (a picture and views cropped from it) may share one storage; a buffer
/// copies before it writes unless it is the only owner (copy-on-write). The memory is
/// never resized.
@usableFromInline
final class ImageStorage<Component: ImageComponent>: @unchecked Sendable {
    // Sendable by construction: the memory is only written through a uniquely
    // referenced storage (see ImageBuffer.makeUnique), and read otherwise.
    @usableFromInline let base: UnsafeMutablePointer<Component>
    @usableFromInline let count: Int

    /// Allocates `count` components, zero-filled.
    @usableFromInline
    convenience init(count: Int) {
        self.init(uninitializedCount: count)
        UnsafeMutableRawPointer(base).initializeMemory(
            as: UInt8.self, repeating: 0, count: max(count, 1) * MemoryLayout<Component>.stride)
    }

    /// Allocates `count` components without initialising them: every component must be
    /// written before it is read. For decoders and transforms that write their whole output,
    /// where the zero-fill would be a wasted pass over memory.
    @usableFromInline
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative image storage size")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Component>.stride
        // 64-byte alignment: one cache line, and a full AVX-512 register.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        // Components are trivial types (UInt8, Float), so binding without initialising is
        // sound as long as each one is written before it is read.
        base = raw.bindMemory(to: Component.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
