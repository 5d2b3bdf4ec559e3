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
        if count <= 0 { return }
        let workers = min(threadCount, count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // Kernels hand over closures that capture raw pointers to disjoint tiles; the
            // one-writer-per-index rule above is what makes sharing them safe.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < count {
                    body(i)
                    i += workers
                }
            }
        }
    }
}
