import Foundation
import Synchronization

/// One job of a ``ThreadPool``: its cancellation flag and progress handler.
final class Job: Sendable {
    private let cancelled = Atomic<Bool>(false)
    let progress: (@Sendable (Double) -> Void)?

    init(progress: (@Sendable (Double) -> Void)?) { self.progress = progress }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    func cancel() { cancelled.store(true, ordering: .releasing) }
}

/// The job a pool is running, if any.
final class JobSlot: Sendable {
    private let job = Mutex<Job?>(nil)
    func get() -> Job? { job.withLock { $0 } }
    func set(_ value: Job?) { job.withLock { $0 = value } }
}

/// The pool's own thread: runs submitted work one item at a time, first in first out.
///
/// The thread starts with the first item and ends when the pool is released (``stop()``);
/// it holds no reference to the pool, only to this queue, so releasing the pool ends it.
final class JobDriver: Sendable {
    private struct State {
        var queue: [@Sendable () -> Void] = []
        var started = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// Stack of the pool's thread: the pipeline's stages keep their large buffers on the
    /// heap, but recursion (the solver's pyramid) and C kernels' locals need more than
    /// Foundation's default for secondary threads.
    static let stackSize = 8 << 20

    func submit(_ work: @escaping @Sendable () -> Void) {
        let start = state.withLock { state -> Bool in
            state.queue.append(work)
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread { [self] in loop() }
            thread.stackSize = Self.stackSize
            thread.name = "MattingKit pool"
            thread.start()
        }
        available.signal()
    }

    func stop() {
        let running = state.withLock { state -> Bool in
            state.stopped = true
            return state.started
        }
        if running { available.signal() }
    }

    private func loop() {
        while true {
            available.wait()
            let work: (@Sendable () -> Void)? = state.withLock { state in
                // Taken out of the queue, so what the work captured is released when it ends.
                state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            if let work {
                work()
            } else if state.withLock({ $0.stopped }) {
                return
            }
        }
    }
}
