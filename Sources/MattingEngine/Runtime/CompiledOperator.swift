/// The buffers one operator invocation reads and writes, resolved by the session.
struct OperatorIO {
    let inputs: UnsafePointer<UnsafeRawPointer>
    let outputs: UnsafePointer<UnsafeMutableRawPointer>
    /// `scratchByteCount` bytes, 64-byte aligned (nil when the operator needs none).
    let scratch: UnsafeMutableRawPointer?

    @inline(__always) func input(_ i: Int) -> UnsafePointer<Float> {
        inputs[i].assumingMemoryBound(to: Float.self)
    }
    @inline(__always) func output(_ i: Int) -> UnsafeMutablePointer<Float> {
        outputs[i].assumingMemoryBound(to: Float.self)
    }
}

/// An operator with every shape and parameter fixed at compile time.
///
/// `execute` must not allocate, must write every output element, and must give each output
/// element exactly one writer (so results do not depend on the thread count). Operators
/// the planner runs in place (see `LoweredNode.inPlaceInputs`) must read each element before
/// writing the same index of the output.
protocol CompiledOperator: Sendable {
    /// Scratch bytes needed per call.
    var scratchByteCount: Int { get }
    func execute(_ io: OperatorIO, pool: ThreadPool)
}

extension CompiledOperator {
    var scratchByteCount: Int { 0 }
}

/// Splits `count` elements into chunks of a size that amortises thread hand-off.
@inline(__always)
func parallelChunks(_ count: Int, chunk: Int = 16384, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
    let chunks = (count + chunk - 1) / chunk
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    pool.parallelFor(chunks) { i in body((i * chunk)..<min(count, (i + 1) * chunk)) }
}

/// Runs `body` over runs of consecutive rows, a few runs per thread (taken dynamically, so a
/// descheduled worker holds back little). For row kernels whose neighbouring rows read the
/// same input rows (convolutions, resizes): one core then loads each input row once, where
/// a task per row had both cores load most of them (the selfie model's depthwise layers were
/// slower on 2 threads than on 1).
@inline(__always)
func parallelRowRuns(_ rows: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
    let tasks = min(rows, 4 * pool.threadCount)
    if tasks <= 1 {
        if rows > 0 { body(0..<rows) }
        return
    }
    pool.parallelFor(tasks) { task in body(rows * task / tasks ..< rows * (task + 1) / tasks) }
}
