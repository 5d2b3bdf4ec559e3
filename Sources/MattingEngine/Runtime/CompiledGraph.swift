/// One operator of a compiled graph with its buffer locations.
struct CompiledStep: Sendable {
    let name: String
    let kind: String
    let op: any CompiledOperator
    var inputs: [ValueLocation]
    /// Arena offsets of the outputs.
    var outputs: [Int]
    let outputShapes: [[Int]]
    let flops: Int
}

/// One runtime step of a compiled graph, for `--info` listings.
public struct StepInfo: Sendable, Hashable {
    /// The node name (after fusion, the first node of the fused group).
    public let name: String
    /// The operator kind (`conv2d`, `groupedConv2d`, `resize`, …).
    public let kind: String
    public let outputShapes: [[Int]]
    /// Floating-point operations per run.
    public let flops: Int
}

/// Figures about a compiled graph, for `--info` printouts and tests.
public struct CompileStatistics: Sendable, Hashable {
    /// Size of the activation arena (bytes) after liveness-based reuse.
    public var plannedBytes = 0
    /// Sum of the sizes of every graph input and intermediate value (no reuse).
    public var naiveBytes = 0
    /// Largest scratch any operator needs (bytes; one buffer per session).
    public var scratchBytes = 0
    /// Bytes of constants the compiled graph keeps (weights after folding).
    public var constantBytes = 0
    /// Floating-point operations per run (a multiply-add counts two).
    public var flops = 0
    /// Operator kind → number of runtime steps of that kind (views included).
    public var operatorCounts: [String: Int] = [:]
    /// Nodes evaluated at compile time.
    public var foldedNodeCount = 0
    /// Nodes merged into their producer (batch norms, activations).
    public var fusedNodeCount = 0
}

/// A graph compiled for fixed input shapes: operators instantiated, weights packed, memory
/// planned. Immutable and `Sendable`: share it between threads and give each thread its
/// own ``Session``.
public final class CompiledGraph: Sendable {
    /// A graph input or output at run time.
    public struct Binding: Sendable, Hashable {
        public let name: String
        let location: ValueLocation
        public let shape: [Int]
        public let dataType: DataType
    }

    let steps: [CompiledStep]
    let constants: [Tensor]
    /// The inputs `Session.run` expects, with their compiled shapes.
    public let inputs: [Binding]
    /// The outputs `Session.run` returns, sorted by name.
    public let outputs: [Binding]
    /// Memory, operator and FLOP figures.
    public let statistics: CompileStatistics
    let pool: ThreadPool

    init(steps: [CompiledStep], constants: [Tensor], inputs: [Binding], outputs: [Binding],
         statistics: CompileStatistics, pool: ThreadPool) {
        self.steps = steps; self.constants = constants; self.inputs = inputs; self.outputs = outputs
        self.statistics = statistics; self.pool = pool
    }

    /// The runtime steps in execution order (views such as reshape are not steps: they cost nothing).
    public var stepInfos: [StepInfo] {
        steps.map { StepInfo(name: $0.name, kind: $0.kind, outputShapes: $0.outputShapes, flops: $0.flops) }
    }

    /// Threads each run uses.
    public var threadCount: Int { pool.threadCount }

    /// The pool every run of this graph uses.
    public var threadPool: ThreadPool { pool }

    /// Creates a session: the arena and scratch memory one thread runs the graph with.
    public func makeSession() -> Session { Session(compiled: self) }

    /// A multi-line summary: steps by kind, FLOPs, planned and naive bytes.
    public var summary: String {
        let s = statistics
        var lines = [
            "steps: \(steps.count) (folded \(s.foldedNodeCount), fused \(s.fusedNodeCount))",
            "flops: \(s.flops)",
            "arena: \(s.plannedBytes) bytes planned vs \(s.naiveBytes) naive; scratch \(s.scratchBytes); constants \(s.constantBytes)",
        ]
        for (kind, count) in s.operatorCounts.sorted(by: { $0.key < $1.key }) { lines.append("  \(kind): \(count)") }
        return lines.joined(separator: "\n")
    }
}
