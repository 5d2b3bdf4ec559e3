import Dispatch

/// Runs independent pieces of work on a fixed number of threads.
///
/// Kernels split their output into tiles with one owner each, so results never depend
/// on the thread count or on scheduling. `threadCount == 1` runs everything on the
/// calling thread.
public final class ThreadPool: Sendable {
    /// The number of threads work is spread over (≥ 1).
    public let threadCount: Int

    /// Creates a pool of `threadCount` threads (clamped to at least 1).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
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
        let workers = min(threadCount, count)
        if workers == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // Kernels hand over closures that capture raw pointers to disjoint tiles; the
            // one-writer-per-index rule above is what makes sharing them safe.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < count {
                    body(i, worker)
                    i += workers
                }
            }
        }
    }
}
