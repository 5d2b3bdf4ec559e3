import CMattingKernels

/// Runs independent pieces of work on a fixed number of threads.
///
/// Kernels split their output into tiles with one owner each, so results never depend
/// on the thread count or on scheduling. `threadCount == 1` runs everything on the
/// calling thread.
///
/// The pool keeps `threadCount − 1` persistent worker threads (the caller is the last one).
/// Between regions they poll for a few tens of microseconds, then park, so a network's
/// hundred small layers each start in about a microsecond rather than paying a thread
/// wake-up. Regions from different threads on one pool run one after another; a
/// `parallelFor` nested inside another runs serially on its calling thread.
public final class ThreadPool: @unchecked Sendable {
    // @unchecked: the C pool serialises regions with its own mutex; `pool` never changes.

    /// The number of threads work is spread over (≥ 1).
    public let threadCount: Int
    private let pool: OpaquePointer?

    /// Creates a pool of `threadCount` threads (clamped to at least 1).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        pool = self.threadCount > 1 ? mk_threadpool_create(self.threadCount) : nil
    }

    deinit {
        if let pool { mk_threadpool_destroy(pool) }
    }

    /// A pool with one thread, running work on the caller's thread.
    public static let serial = ThreadPool(threadCount: 1)

    /// Calls `body(i)` once for every `i` in `0..<count`, spread over the pool's threads.
    ///
    /// Returns when every call has returned. Calls may run concurrently: `body` must
    /// only write memory that belongs to index `i`.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelFor(count) { index, _ in body(index) }
    }

    /// Like `parallelFor(_:_:)`, and also passes the worker (`0..<threadCount`) running the
    /// call, so a kernel can give each worker its own slice of scratch memory.
    ///
    /// Which worker runs which index is unspecified; kernels must not let results depend on it.
    func parallelFor(_ count: Int, _ body: (_ index: Int, _ worker: Int) -> Void) {
        if count <= 0 { return }
        guard let pool, count > 1 else {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The C pool calls back with a pointer to the closure; it returns only after
            // every call has returned, so the pointer outlives its use.
            var closure = body
            withUnsafeMutablePointer(to: &closure) { context in
                mk_threadpool_run(pool, count, { context, index, worker in
                    let body = context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee
                    body(index, worker)
                }, context)
            }
        }
    }
}
