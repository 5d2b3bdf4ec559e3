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
    init(count: Int) {
        precondition(count >= 0, "negative image storage size")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Component>.stride
        // 64-byte alignment: one cache line, and a full AVX-512 register.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: Component.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
