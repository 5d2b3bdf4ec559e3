#if canImport(Glibc)
import Glibc
#endif

/// The programs' malloc settings: keep freed memory for reuse instead of giving it back.
///
/// glibc serves blocks above its mmap threshold (128 KB at start, raised as large blocks are
/// freed, at most 32 MB) with fresh `mmap`s and returns them with `munmap`, and trims the
/// heap's free top; every picture-sized buffer the pipeline makes is then new memory, and
/// each new page costs a fault and a clear. With every block up to 32 MB taken from the
/// heap, no trimming below 256 MB of free top, and one arena (so a block freed by a worker
/// thread serves the next request of any thread), freed buffers are reused: far fewer page
/// faults for the same peak (figures in Docs/Benchmarks.md, Pipeline). The freeing then
/// happens at exit. The settings must come before any other thread allocates (a thread
/// that already has an arena keeps it), so `matte` applies them first thing in `main`. One-shot
/// programs only: a library must not change its host's allocator, and `matte-batch` runs
/// photos concurrently, where one arena would make its jobs' allocations take turns (after
/// its first photo glibc's own raised threshold already keeps the buffers).
public enum HeapPolicy {
    /// Applies the settings; call first thing in `main`, before any other thread starts. A no-op where
    /// the C library is not glibc.
    public static func preferReuse() {
        #if canImport(Glibc)
        // mallopt is not in Swift's Glibc module; its parameters are glibc's ABI (malloc.h).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, arenaMax: Int32 = -8
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        _ = mallopt(arenaMax, 1)
        #endif
    }
}
