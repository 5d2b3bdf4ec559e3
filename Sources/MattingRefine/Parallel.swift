import MattingThreads

// Refinement's parallel loops, all on the caller's ``ThreadPool`` (the pipeline's one pool).
// Work is split so that every output has one writer and reductions happen in index order
// after the loop, so results do not depend on the pool's thread count.

/// Runs `body(index)` for every index in `0..<count`, in contiguous chunks of indices, one
/// chunk per thread of `pool`.
@usableFromInline
func parallelFor(_ count: Int, pool: ThreadPool, _ body: (Int) -> Void) {
    pool.parallelChunks(count) { range in
        for i in range { body(i) }
    }
}

/// Runs `body(range)` for at most `pool.threadCount` contiguous, disjoint ranges covering
/// `0..<count`, one per thread, so each call can allocate its scratch once.
@usableFromInline
func parallelChunks(_ count: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
    pool.parallelChunks(count, body)
}

/// Runs `body(index, worker)` for every index in `0..<count` on the pool's workers, each
/// taking the next index as it becomes free (dynamic scheduling): on a busy machine a
/// descheduled worker no longer holds back a fixed share of the work. `worker`
/// (`0..<pool.threadCount`) lets callers keep per-worker scratch. Outputs must depend only on
/// the index, never on the worker.
func parallelDynamic(_ count: Int, pool: ThreadPool, _ body: (Int, Int) -> Void) {
    pool.parallelFor(count, body)
}

/// Wraps a value that is shared across threads under a discipline the compiler cannot see
/// (disjoint writes, one owner per output tile).
@usableFromInline
struct UncheckedSendable<T>: @unchecked Sendable {
    @usableFromInline let value: T
    @usableFromInline init(_ value: T) { self.value = value }
}
