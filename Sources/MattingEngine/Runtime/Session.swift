/// Runs a ``CompiledGraph``: owns the activation arena and the operators' scratch memory.
///
/// Create one session per thread with ``CompiledGraph/makeSession()``; a session is not
/// thread-safe, but any number of sessions may run the same compiled graph concurrently.
/// Every buffer address is resolved when the session is created, so a run allocates nothing
/// except the output tensors ``run(_:)->Tensor`` returns (``run(_:outputs:)`` reuses the caller's
/// tensors instead) and whatever Dispatch allocates internally when spreading work over
/// threads.
///
/// ```swift
/// let session = compiled.makeSession()
/// let mask = try session.run(["input": image])["mask"]
/// ```
public final class Session {
    /// The graph this session runs.
    public let compiled: CompiledGraph
    private let arena: UnsafeMutableRawPointer
    private let scratch: UnsafeMutableRawPointer?
    private let inputPointers: UnsafeMutablePointer<UnsafeRawPointer>
    private let outputPointers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let inputCount: Int, outputCount: Int
    private let stepInputStart: [Int], stepOutputStart: [Int]

    init(compiled: CompiledGraph) {
        self.compiled = compiled
        let s = compiled.statistics
        arena = .allocate(byteCount: max(s.plannedBytes, 64), alignment: 64)
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(s.plannedBytes, 64))
        scratch = s.scratchBytes > 0 ? .allocate(byteCount: s.scratchBytes, alignment: 64) : nil
        inputCount = compiled.steps.reduce(0) { $0 + $1.inputs.count }
        outputCount = compiled.steps.reduce(0) { $0 + $1.outputs.count }
        inputPointers = .allocate(capacity: max(inputCount, 1))
        outputPointers = .allocate(capacity: max(outputCount, 1))
        var ins: [Int] = [], outs: [Int] = []
        var i = 0, o = 0
        for step in compiled.steps {
            ins.append(i); outs.append(o)
            for loc in step.inputs {
                switch loc {
                case let .arena(offset): (inputPointers + i).initialize(to: UnsafeRawPointer(arena + offset))
                case let .constant(c): (inputPointers + i).initialize(to: UnsafeRawPointer(compiled.constants[c].storage.pointer))
                }
                i += 1
            }
            for offset in step.outputs {
                (outputPointers + o).initialize(to: arena + offset)
                o += 1
            }
        }
        stepInputStart = ins; stepOutputStart = outs
    }

    deinit {
        arena.deallocate()
        scratch?.deallocate()
        inputPointers.deallocate()
        outputPointers.deallocate()
    }

    /// Runs the graph and returns new output tensors, keyed by output name.
    /// - Parameter inputs: one tensor per graph input, with the compiled shape and type.
    /// - Throws: ``EngineError/missingInput(_:)``, ``EngineError/unknownInput(_:)``,
    ///   ``EngineError/inputShapeMismatch(input:expected:actual:)``, ``EngineError/dataTypeMismatch(node:value:expected:actual:)``.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        var outputs: [String: Tensor] = [:]
        try run(inputs, outputs: &outputs)
        return outputs
    }

    /// Runs a graph with exactly one input and one output.
    /// - Throws: ``EngineError/unsupported(node:reason:)`` naming `<graph>` if the graph has
    ///   more inputs or outputs, and the errors of ``run(_:)``.
    public func run(_ input: Tensor) throws -> Tensor {
        guard compiled.inputs.count == 1, compiled.outputs.count == 1 else {
            throw EngineError.unsupported(
                node: "<graph>",
                reason: "run(_:) needs one input and one output; the graph has \(compiled.inputs.count) and \(compiled.outputs.count)")
        }
        let outputs = try run([compiled.inputs[0].name: input])
        return outputs[compiled.outputs[0].name]!  // run fills every compiled output
    }

    /// Runs the graph, writing into `outputs`: a tensor already there with the right shape
    /// and type, and not shared, is overwritten in place (no allocation); others are replaced.
    /// - Throws: as ``run(_:)->Tensor``; `CancellationError` between two steps when the run is part
    ///   of a cancelled job of the graph's pool (`ThreadPool.run(_:)`).
    public func run(_ inputs: [String: Tensor], outputs: inout [String: Tensor]) throws {
        try bindInputs(inputs)
        try execute()
        collectOutputs(into: &outputs)
    }

    private func collectOutputs(into outputs: inout [String: Tensor]) {
        for binding in compiled.outputs {
            let bytes = elementCount(binding.shape) * binding.dataType.byteCount
            let source: UnsafeRawPointer
            switch binding.location {
            case let .arena(offset): source = UnsafeRawPointer(arena + offset)
            case let .constant(c): source = UnsafeRawPointer(compiled.constants[c].storage.pointer)
            }
            if var t = outputs.removeValue(forKey: binding.name), t.shape == binding.shape,
               t.dataType == binding.dataType, t.isUniquelyReferenced {
                t.storage.pointer.copyMemory(from: source, byteCount: bytes)
                outputs[binding.name] = t
            } else {
                let t = Tensor(zeros: binding.shape, dataType: binding.dataType)
                t.storage.pointer.copyMemory(from: source, byteCount: bytes)
                outputs[binding.name] = t
            }
        }
    }

    private func bindInputs(_ inputs: [String: Tensor]) throws {
        for name in inputs.keys where !compiled.inputs.contains(where: { $0.name == name }) {
            throw EngineError.unknownInput(name)
        }
        for binding in compiled.inputs {
            guard let t = inputs[binding.name] else { throw EngineError.missingInput(binding.name) }
            if t.shape != binding.shape {
                throw EngineError.inputShapeMismatch(input: binding.name, expected: binding.shape, actual: t.shape)
            }
            if t.dataType != binding.dataType {
                throw EngineError.dataTypeMismatch(node: "<input>", value: binding.name, expected: binding.dataType, actual: t.dataType)
            }
            if case let .arena(offset) = binding.location, offset >= 0 {
                (arena + offset).copyMemory(from: t.storage.pointer, byteCount: t.count * t.dataType.byteCount)
            }
        }
    }

    /// The time one step took in ``runProfiled(_:)``.
    public struct StepTiming: Sendable, Hashable {
        /// The node name (after fusion, the first node of the fused group).
        public let name: String
        /// The operator kind (`conv2d`, `resize`, …).
        public let kind: String
        public let seconds: Double
    }

    /// Runs the graph like ``run(_:)->Tensor`` and also returns how long each step took, in order.
    /// - Throws: as ``run(_:)->Tensor``.
    public func runProfiled(_ inputs: [String: Tensor]) throws -> (outputs: [String: Tensor], timings: [StepTiming]) {
        try bindInputs(inputs)
        var timings: [StepTiming] = []
        timings.reserveCapacity(compiled.steps.count)
        let clock = ContinuousClock()
        for k in compiled.steps.indices {
            let start = clock.now
            executeStep(k)
            let elapsed = (clock.now - start).seconds
            timings.append(StepTiming(name: compiled.steps[k].name, kind: compiled.steps[k].kind,
                                      seconds: elapsed))
        }
        var outputs: [String: Tensor] = [:]
        collectOutputs(into: &outputs)
        return (outputs, timings)
    }

    private func executeStep(_ k: Int) {
        compiled.steps[k].op.execute(
            OperatorIO(inputs: inputPointers + stepInputStart[k], outputs: outputPointers + stepOutputStart[k],
                       scratch: scratch),
            pool: compiled.pool)
    }

    private func execute() throws {
        let pool = compiled.pool
        for (k, step) in compiled.steps.enumerated() {
            try pool.checkCancellation()
            step.op.execute(
                OperatorIO(inputs: inputPointers + stepInputStart[k], outputs: outputPointers + stepOutputStart[k],
                           scratch: scratch),
                pool: pool)
        }
    }
}
