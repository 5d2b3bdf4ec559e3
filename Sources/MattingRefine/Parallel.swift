import Dispatch
import Synchronization

/// Runs `body(index)` for every index in `0..<count` on up to `threads` threads.
///
/// Work is split into contiguous chunks of indices, each owned by one thread, so callers
/// that write only to the outputs of their own index get results that do not depend on the
/// thread count. Reductions are done by the caller, in index order, after this returns.
@usableFromInline
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    let threads = max(1, min(threads, count))
    if threads == 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = count * t / threads, hi = count * (t + 1) / threads
            for i in lo..<hi { box.value(i) }
        }
    }
}

/// Wraps a value that is shared across threads under a discipline the compiler cannot see
/// (disjoint writes, one owner per output tile).
@usableFromInline
struct UncheckedSendable<T>: @unchecked Sendable {
    @usableFromInline let value: T
    @usableFromInline init(_ value: T) { self.value = value }
}

/// The number of worker threads refinement uses unless told otherwise (the target machine
/// has 2 cores). Results never depend on it.
public let defaultRefineThreads = 2

/// Runs `body(range)` for `threads` contiguous, disjoint ranges covering `0..<count`,
/// one per thread, so each thread can allocate its scratch once.
@usableFromInline
func parallelChunks(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let threads = max(1, min(threads, count))
    parallelFor(threads, threads: threads) { t in
        body(count * t / threads..<count * (t + 1) / threads)
    }
}

/// Runs `body(index, worker)` for every index in `0..<count` on up to `threads` workers
/// that take the next index as they become free (dynamic scheduling): on a busy machine a
/// descheduled worker no longer holds back a fixed half of the work. `worker` (0..<threads)
/// lets callers keep per-worker scratch. Outputs must depend only on the index, never on
/// the worker, so results stay identical for any thread count.
func parallelDynamic(_ count: Int, threads: Int, _ body: (Int, Int) -> Void) {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        for i in 0..<count { body(i, 0) }
        return
    }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                box.value(i, worker)
            }
        }
    }
}
