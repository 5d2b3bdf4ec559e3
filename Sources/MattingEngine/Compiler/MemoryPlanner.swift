/// Where a step finds a value at run time.
enum ValueLocation: Sendable, Hashable {
    /// A byte offset in the session's arena.
    case arena(Int)
    /// An index into the compiled graph's constants.
    case constant(Int)
}

/// One arena allocation: a byte range alive from step `first` to step `last` (inclusive).
struct PlannedBuffer {
    var byteCount: Int
    var first: Int
    var last: Int
    var offset = 0
}

/// Assigns every intermediate value an offset in one arena, reusing memory by liveness.
///
/// Time 0 copies the graph inputs in; node `k` runs at time `k + 1`. A value's buffer is
/// live from its producer to its last reader (graph outputs to the end). Views (reshape,
/// squeeze, …) share their input's buffer; element-wise operators take over an input's
/// buffer when that input dies at them (in place). Buffers are then placed largest first,
/// each into the smallest gap left by buffers whose lifetimes overlap (greedy best-fit, as
/// TFLite's arena planner does).
struct MemoryPlanner {
    let compiler: GraphCompiler

    func makeCompiledGraph() throws -> CompiledGraph {
        let nodes = compiler.nodes, values = compiler.values, graph = compiler.graph
        let end = nodes.count + 1
        var lastUse: [String: Int] = [:]
        for (k, node) in nodes.enumerated() { for i in node.inputs { lastUse[i] = k + 1 } }
        for v in graph.outputs.values { lastUse[v] = end }

        var buffers: [PlannedBuffer] = []
        var root: [String: Int] = [:]
        var naiveBytes = 0
        func newBuffer(_ value: String, at time: Int) {
            let bytes = values[value]!.byteCount
            naiveBytes += bytes
            root[value] = buffers.count
            buffers.append(PlannedBuffer(byteCount: bytes, first: time, last: max(time, lastUse[value] ?? time)))
        }
        for input in graph.inputs where lastUse[input.name] != nil { newBuffer(input.name, at: 0) }

        var steps: [CompiledStep] = []
        var constantIndex: [String: Int] = [:]
        var constants: [Tensor] = []
        var stepRoots: [(inputs: [String], outputs: [String])] = []
        var statistics = CompileStatistics()
        for (k, node) in nodes.enumerated() {
            let t = k + 1
            let inputs = node.inputs.map { values[$0]! }
            let lowered = try Lowering(node: node, inputs: inputs, instantiate: true, threads: compiler.threads).lower()
            statistics.flops += lowered.flops
            statistics.operatorCounts[node.operation.kindName, default: 0] += 1
            if lowered.isView, let r = root[node.inputs[0]] {
                root[node.outputs[0]] = r
                buffers[r].last = max(buffers[r].last, lastUse[node.outputs[0]] ?? t)
                continue
            }
            let inPlace = lowered.inPlaceInputs.first { i in
                guard let r = root[node.inputs[i]] else { return false }
                return buffers[r].last == t && buffers[r].byteCount == values[node.outputs[0]]!.byteCount
            }
            for (j, output) in node.outputs.enumerated() {
                if j == 0, let i = inPlace {
                    let r = root[node.inputs[i]]!
                    root[output] = r
                    buffers[r].last = max(t, lastUse[output] ?? t)
                    naiveBytes += values[output]!.byteCount
                } else {
                    newBuffer(output, at: t)
                }
            }
            for name in node.inputs where root[name] == nil && constantIndex[name] == nil {
                guard let c = values[name]?.constant else { throw EngineError.notConstant(node: node.name, value: name) }
                constantIndex[name] = constants.count
                constants.append(c)
            }
            let op = lowered.op ?? CopyOperator(byteCount: values[node.outputs[0]]!.byteCount)
            steps.append(CompiledStep(name: node.name, kind: node.operation.kindName, op: op, inputs: [], outputs: [],
                                      outputShapes: lowered.outputs.map(\.shape), flops: lowered.flops))
            stepRoots.append((node.inputs, node.outputs))
        }

        let arenaBytes = Self.place(&buffers)
        func location(_ name: String) -> ValueLocation {
            if let r = root[name] { return .arena(buffers[r].offset) }
            return .constant(constantIndex[name]!)
        }
        for (i, names) in stepRoots.enumerated() {
            steps[i].inputs = names.inputs.map(location)
            steps[i].outputs = names.outputs.map { buffers[root[$0]!].offset }
        }
        var outputs: [CompiledGraph.Binding] = []
        for (name, value) in graph.outputs.sorted(by: { $0.key < $1.key }) {
            let d = values[value]!
            if root[value] == nil, constantIndex[value] == nil, let c = d.constant {
                constantIndex[value] = constants.count
                constants.append(c)
            }
            outputs.append(.init(name: name, location: location(value), shape: d.shape, dataType: d.dataType))
        }
        let inputs: [CompiledGraph.Binding] = graph.inputs.map { input in
            let d = values[input.name]!
            let loc = root[input.name].map { ValueLocation.arena(buffers[$0].offset) }
            return .init(name: input.name, location: loc ?? .arena(-1), shape: d.shape, dataType: d.dataType)
        }
        statistics.plannedBytes = arenaBytes
        statistics.naiveBytes = naiveBytes
        statistics.scratchBytes = steps.map(\.op.scratchByteCount).max() ?? 0
        statistics.constantBytes = constants.reduce(0) { $0 + $1.count * $1.dataType.byteCount }
        statistics.foldedNodeCount = compiler.foldedNodeCount
        statistics.fusedNodeCount = compiler.fusedNodeCount
        return CompiledGraph(steps: steps, constants: constants, inputs: inputs, outputs: outputs,
                             statistics: statistics, pool: compiler.pool)
    }

    /// Greedy best-fit placement, largest buffer first; returns the arena size.
    static func place(_ buffers: inout [PlannedBuffer]) -> Int {
        func aligned(_ n: Int) -> Int { (n + 63) / 64 * 64 }
        let order = buffers.indices.sorted {
            (buffers[$0].byteCount, -buffers[$0].first) > (buffers[$1].byteCount, -buffers[$1].first)
        }
        var placed: [Int] = []
        var arena = 0
        for b in order {
            let size = aligned(buffers[b].byteCount)
            let overlapping = placed
                .filter { buffers[$0].first <= buffers[b].last && buffers[b].first <= buffers[$0].last }
                .sorted { buffers[$0].offset < buffers[$1].offset }
            var best: Int?, bestGap = Int.max, cursor = 0
            for o in overlapping {
                let gap = buffers[o].offset - cursor
                if gap >= size && gap < bestGap { best = cursor; bestGap = gap }
                cursor = max(cursor, buffers[o].offset + aligned(buffers[o].byteCount))
            }
            buffers[b].offset = best ?? cursor
            arena = max(arena, buffers[b].offset + size)
            placed.append(b)
        }
        return arena
    }
}
