import CMattingKernels

/// The threads one matting pipeline (or one engine graph) computes on: every stage —
/// network, solver, foreground estimation, upsampling, post-processing — spreads its work
/// over this pool and nothing else.
///
/// A pool of `threadCount` threads keeps `threadCount − 1` persistent worker threads; the
/// thread that starts a parallel region is the last one. Between regions workers poll for a
/// few tens of microseconds, then park, so a network's hundred small layers each start in
/// about a microsecond rather than paying a thread wake-up. Regions from different threads
/// on one pool run one after another; a `parallelFor` nested inside another runs serially on
/// its calling thread. `threadCount == 1` runs everything on the calling thread.
///
/// Kernels split their output into tiles with one owner each and reduce in a fixed order,
/// so **results never depend on the thread count** or on scheduling: a pool of 1 and a pool
/// of 8 give the same bytes.
///
/// Long work runs as a *job* (``run(_:)``): on the pool's own thread, one job at a time in
/// the order they were submitted, with Swift task cancellation reaching the stages inside
/// (they stop with `CancellationError` at their next check).
///
/// ```swift
/// let pool = ThreadPool(threadCount: 2)
/// let alpha = try await pool.run { try ClosedFormMatting().alpha(for: photo, trimap: trimap, pool: pool) }
/// ```
public final class ThreadPool: @unchecked Sendable {
    // @unchecked: the C pool serialises regions with its own mutex; `pool` never changes; the
    // job queue and the current job are behind mutexes.

    /// The number of threads work is spread over (≥ 1).
    public let threadCount: Int
    private let pool: OpaquePointer?
    private let driver = JobDriver()
    private let current = JobSlot()

    /// The most threads a pool starts, whatever it is asked for: beyond it a request is a
    /// mistake (a typo, an overflowed sum), not a machine.
    public static let maximumThreadCount = 1024

    /// Creates a pool of `threadCount` threads, clamped to 1…``maximumThreadCount``. If the
    /// system refuses to start some of them, the rest compute everything (same results).
    public init(threadCount: Int) {
        self.threadCount = min(max(1, threadCount), Self.maximumThreadCount)
        pool = self.threadCount > 1 ? mk_threadpool_create(self.threadCount) : nil
    }

    deinit {
        driver.stop()
        if let pool { mk_threadpool_destroy(pool) }
    }

    /// A pool with one thread, running work on the caller's thread.
    public static let serial = ThreadPool(threadCount: 1)

    /// The C pool, for C loops that split their own work (nil for one thread).
    package var cPool: OpaquePointer? { pool }

    // MARK: Parallel regions

    /// Calls `body(i)` once for every `i` in `0..<count`, spread over the pool's threads.
    ///
    /// Returns when every call has returned. Calls may run concurrently: `body` must
    /// only write memory that belongs to index `i`.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelFor(count) { index, _ in body(index) }
    }

    /// Like `parallelFor(_:_:)`, and also passes the worker (`0..<threadCount`) running the
    /// call, so a kernel can give each worker its own slice of scratch memory. Indices are
    /// taken dynamically, so a descheduled worker holds back no fixed share of the work.
    ///
    /// Which worker runs which index is unspecified; kernels must not let results depend on it.
    package func parallelFor(_ count: Int, _ body: (_ index: Int, _ worker: Int) -> Void) {
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

    /// Calls `body(range)` for at most ``threadCount`` contiguous, disjoint ranges covering
    /// `0..<count` (one per thread), so each call can set up its scratch once. The split
    /// depends on the thread count: callers write only the outputs of their own indices.
    package func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threadCount, count))
        if count <= 0 { return }
        parallelFor(chunks) { t, _ in body(count * t / chunks..<count * (t + 1) / chunks) }
    }

    // MARK: Jobs

    /// Runs `body` on the pool's own thread as one job and returns its result.
    ///
    /// Jobs run one at a time, in the order they were submitted; while one runs, its stages
    /// use the pool's workers. The calling task is suspended, not blocked, so long CPU work
    /// never occupies Swift's cooperative threads. If the calling task is cancelled, stages
    /// running on the pool see it at their next check (``checkCancellation()``) and the call
    /// throws `CancellationError`; a job cancelled before it starts never runs.
    ///
    /// - Throws: `CancellationError`, or whatever `body` throws.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(progress: nil, body)
    }

    /// ``run(_:)`` with a progress handler: ``reportProgress(_:)`` calls inside the job reach
    /// `progress` on the pool's thread.
    package func run<T: Sendable>(
        progress: (@Sendable (Double) -> Void)?, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        let job = Job(progress: progress)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                driver.submit { [self] in
                    guard !job.isCancelled else {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    current.set(job)
                    let result = Result { try body() }
                    current.set(nil)
                    // A job cancelled while it ran ends with CancellationError, whatever it returned.
                    continuation.resume(with: job.isCancelled ? .failure(CancellationError()) : result)
                }
            }
        } onCancel: {
            job.cancel()
        }
    }

    /// Whether the job running on this pool was cancelled (false outside a job).
    public var isCancelled: Bool { current.get()?.isCancelled ?? false }

    /// Throws `CancellationError` if the job running on this pool was cancelled; stages call
    /// it between steps (and C loops through their callbacks), so cancellation takes effect
    /// within one step.
    public func checkCancellation() throws {
        if isCancelled { throw CancellationError() }
    }

    /// Tells the running job's progress handler how far the current stage has come
    /// (`fraction` in 0…1 of that stage); nothing outside a job or without a handler.
    package func reportProgress(_ fraction: Double) {
        current.get()?.progress?(fraction)
    }
}
