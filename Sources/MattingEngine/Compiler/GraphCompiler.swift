extension Graph {
    /// Compiles the graph for concrete input shapes.
    ///
    /// Pipeline: structural validation and topological sort → shape inference → constant
    /// folding (every node whose inputs are all known, including `shape` of any value, so
    /// Shape/Gather/Concat/Cast/Reshape chains disappear) → pattern fusion (GELU, decomposed
    /// layer norm, attention, MODNet's IBNorm) → batch-norm folding into the
    /// preceding convolution → activation fusion into convolutions and binary operators →
    /// dead-node elimination → operator instantiation (convolution weights packed once) →
    /// memory planning into one arena.
    ///
    /// - Parameters:
    ///   - inputShapes: a concrete shape per graph input whose declaration has `nil`
    ///     dimensions (fully static inputs may be omitted).
    ///   - threads: threads each run uses (results are identical for any count); the
    ///     compiled graph gets a pool of its own.
    /// - Throws: ``EngineError`` naming the node or input at fault.
    public func compile(inputShapes: [String: [Int]] = [:], threads: Int = 1) throws -> CompiledGraph {
        try compile(inputShapes: inputShapes, pool: ThreadPool(threadCount: threads))
    }

    /// Compiles the graph to run on `pool`: every run spreads its work over the pool's threads,
    /// and a run inside one of the pool's jobs (`ThreadPool.run(_:)`) stops with
    /// `CancellationError` between two steps once the job is cancelled.
    ///
    /// - Throws: ``EngineError`` naming the node or input at fault.
    public func compile(inputShapes: [String: [Int]] = [:], pool: ThreadPool) throws -> CompiledGraph {
        var compiler = GraphCompiler(graph: self, pool: pool)
        return try compiler.compile(inputShapes: inputShapes)
    }
}

/// The compile pipeline's state: what is known about each value, and the surviving nodes.
struct GraphCompiler {
    let graph: Graph
    let pool: ThreadPool
    var threads: Int { pool.threadCount }
    var values: [String: ValueDescription] = [:]
    var nodes: [Node] = []
    var foldedNodeCount = 0
    var fusedNodeCount = 0

    init(graph: Graph, pool: ThreadPool) {
        self.graph = graph
        self.pool = pool
    }

    mutating func compile(inputShapes: [String: [Int]]) throws -> CompiledGraph {
        try inferAll(inputShapes: inputShapes)
        fusePatterns()
        fuse()
        eliminateDeadNodes()
        return try MemoryPlanner(compiler: self).makeCompiledGraph()
    }

    /// Binds inputs and constants, then infers and folds every live node in order.
    mutating func inferAll(inputShapes: [String: [Int]]) throws {
        let order = try graph.topologicalOrder()
        try bindInputs(inputShapes)
        for (name, tensor) in graph.constants {
            values[name] = ValueDescription(shape: tensor.shape, dataType: tensor.dataType, constant: tensor)
        }
        // Nodes that reach no output are dropped before shape inference, so errors in unused
        // branches of an imported model do not stop compilation.
        var needed = Set(graph.outputs.values)
        var live = Set<Int>()
        for index in order.reversed() where graph.nodes[index].outputs.contains(where: needed.contains) {
            live.insert(index)
            needed.formUnion(graph.nodes[index].inputs)
        }
        for index in order where live.contains(index) { try inferAndFold(graph.nodes[index]) }
    }

    private mutating func bindInputs(_ shapes: [String: [Int]]) throws {
        let declared = Set(graph.inputs.map(\.name))
        if let unknown = shapes.keys.sorted().first(where: { !declared.contains($0) }) {
            throw EngineError.unknownInput(unknown)
        }
        for input in graph.inputs {
            let fixed = input.shape.allSatisfy { $0 != nil } ? input.shape.compactMap { $0 } : nil
            guard let shape = shapes[input.name] ?? fixed else { throw EngineError.missingInput(input.name) }
            let matches = shape.count == input.shape.count
                && zip(shape, input.shape).allSatisfy { $0.0 >= 0 && ($0.1 == nil || $0.1 == $0.0) }
            if !matches { throw EngineError.inputShapeMismatch(input: input.name, expected: input.shape, actual: shape) }
            values[input.name] = ValueDescription(shape: shape, dataType: input.dataType, constant: nil)
        }
    }

    /// Infers the node's output shapes; evaluates it now if every input is known.
    private mutating func inferAndFold(_ node: Node) throws {
        let inputs = node.inputs.map { values[$0]! }  // topologicalOrder checked every name
        if case .shape = node.operation {
            let s = inputs[0].shape
            let t = Tensor(shape: [s.count], int64s: s.map { Int64($0) })
            values[node.outputs[0]] = ValueDescription(shape: t.shape, dataType: .int64, constant: t)
            foldedNodeCount += 1
            return
        }
        let lowered = try Lowering(node: node, inputs: inputs, instantiate: false, threads: threads).lower()
        if !inputs.isEmpty && inputs.allSatisfy({ $0.constant != nil }) {
            let results = try evaluate(node, inputs)
            for (name, t) in zip(node.outputs, results) {
                values[name] = ValueDescription(shape: t.shape, dataType: t.dataType, constant: t)
            }
            foldedNodeCount += 1
            return
        }
        for (name, o) in zip(node.outputs, lowered.outputs) {
            values[name] = ValueDescription(shape: o.shape, dataType: o.dataType, constant: nil)
        }
        nodes.append(node)
    }

    /// Runs one node on constant inputs (single-threaded) with the runtime's own operators.
    func evaluate(_ node: Node, _ inputs: [ValueDescription]) throws -> [Tensor] {
        let lowered = try Lowering(node: node, inputs: inputs, instantiate: true, threads: 1).lower()
        if lowered.isView { return [inputs[0].constant!.reshaped(lowered.outputs[0].shape)] }
        guard let op = lowered.op else {
            throw EngineError.unsupported(node: node.name, reason: "cannot evaluate at compile time")
        }
        let outputs = lowered.outputs.map { Tensor(zeros: $0.shape, dataType: $0.dataType) }
        let inPointers = inputs.map { UnsafeRawPointer($0.constant!.storage.pointer) }
        let outPointers = outputs.map { $0.storage.pointer }
        let scratch = op.scratchByteCount > 0
            ? UnsafeMutableRawPointer.allocate(byteCount: op.scratchByteCount, alignment: 64) : nil
        defer { scratch?.deallocate() }
        inPointers.withUnsafeBufferPointer { ip in
            outPointers.withUnsafeBufferPointer { op2 in
                op.execute(OperatorIO(inputs: ip.baseAddress!, outputs: op2.baseAddress!, scratch: scratch),
                           pool: .serial)
            }
        }
        return outputs
    }

    /// How many times each value is read (graph outputs count as readers).
    func useCounts() -> [String: Int] {
        var uses: [String: Int] = [:]
        for node in nodes { for input in node.inputs { uses[input, default: 0] += 1 } }
        for value in graph.outputs.values { uses[value, default: 0] += 1 }
        return uses
    }

    /// Removes nodes none of whose outputs reach a graph output.
    mutating func eliminateDeadNodes() {
        var needed = Set(graph.outputs.values)
        var keep = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() where nodes[i].outputs.contains(where: needed.contains) {
            keep[i] = true
            needed.formUnion(nodes[i].inputs)
        }
        nodes = nodes.indices.filter { keep[$0] }.map { nodes[$0] }
    }
}

/// What shape inference found for one value.
public struct ValueInfo: Sendable, Hashable {
    public let shape: [Int]
    public let dataType: DataType
    /// Whether the value is known at compile time (a constant, or folded from constants).
    public let isConstant: Bool
}

extension Graph {
    /// Infers every live value's shape and type for concrete input shapes, folding constants
    /// as ``compile(inputShapes:threads:)`` does (no fusion, no planning). Importers and
    /// `--info` printouts use it to inspect a graph.
    /// - Throws: ``EngineError`` naming the node at fault.
    public func inferShapes(inputShapes: [String: [Int]] = [:]) throws -> [String: ValueInfo] {
        var compiler = GraphCompiler(graph: self, pool: .serial)
        try compiler.inferAll(inputShapes: inputShapes)
        return compiler.values.mapValues {
            ValueInfo(shape: $0.shape, dataType: $0.dataType, isConstant: $0.constant != nil)
        }
    }
}
