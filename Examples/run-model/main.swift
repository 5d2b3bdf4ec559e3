// run-model: runs a .tflite or .onnx model on .npy inputs and writes .npy outputs.
//
//   run-model MODEL.(tflite|onnx) --input NAME=FILE.npy ... --output-dir DIR
//             [--threads N] [--repeat K] [--info]
//
// Inputs are float32 C-order .npy arrays in the model's declared layout (NCHW for ONNX image
// models, NHWC for TFLite); outputs are written as DIR/<output name>.npy, all or nothing.
// On failure: one line `run-model: <message>` on stderr and exit status 1.
import ArgumentParser
import Foundation
import MattingKit

struct RunModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-model",
        abstract: "Run a TFLite or ONNX model on .npy inputs and write .npy outputs.")

    @Argument(help: "The model file (.tflite or .onnx; the format is read from the bytes).")
    var model: String

    @Option(name: .customLong("input"), help: "NAME=FILE.npy: a float32 array in the model's layout (repeatable).")
    var inputs: [String] = []

    @Option(name: .customLong("output-dir"), help: "Folder for <output name>.npy files (created if missing).")
    var outputDirectory: String?

    @Option(help: "Threads per run.")
    var threads: Int = 1

    @Option(name: .customLong("repeat"), help: "Time K runs after a warm-up run and print the median and minimum.")
    var repeatCount: Int = 0

    @Flag(help: "Print inputs, outputs, operator counts and FLOPs.")
    var info = false

    @Flag(help: "With --repeat: time every step and print the slowest steps and kinds (median over runs).")
    var profile = false

    @Option(help: "With --profile: how many of the slowest steps to print (0: every step, in graph order).")
    var profileSteps: Int = 12

    /// A float32, C-order `.npy` file as a tensor; anything else is an error naming the file.
    static func readFloat32(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure("\(path): cannot read the file (missing or unreadable)")
        }
        let array = try NumpyFile(bytes: [UInt8](data), name: path)
        guard array.dtype == "<f4" else {
            throw Failure("\(path): dtype '\(array.dtype)' is not supported; run-model reads float32 ('<f4') arrays, "
                + "e.g. np.save(path, a.astype(np.float32))")
        }
        return Tensor(shape: array.shape, floats: array.floats)
    }

    func run() throws {
        guard threads >= 1 else { throw Failure("--threads must be at least 1") }
        guard repeatCount >= 0 else { throw Failure("--repeat must not be negative") }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Failure("\(model): no such file") }
        let loaded = try Model(contentsOf: url)

        // Inputs, checked against the model's names before any work.
        let declared = Set(loaded.inputs.map(\.name))
        var feeds: [String: Tensor] = [:]
        for spec in inputs {
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
                throw Failure("--input '\(spec)' is not NAME=FILE.npy")
            }
            let name = String(spec[..<eq]), path = String(spec[spec.index(after: eq)...])
            guard declared.contains(name) else {
                throw Failure("unknown input '\(name)'; the model's inputs are: \(loaded.inputs.map(\.name).joined(separator: ", "))")
            }
            guard feeds[name] == nil else { throw Failure("input '\(name)' is given twice") }
            feeds[name] = try Self.readFloat32(path)
        }
        if !feeds.isEmpty || !info {
            if let missing = loaded.inputs.first(where: { feeds[$0.name] == nil }) {
                throw Failure("missing --input \(missing.name)=FILE.npy (\(missing))")
            }
        }
        let running = !feeds.isEmpty
        if running && outputDirectory == nil { throw Failure("--output-dir is required") }

        var shapes = feeds.mapValues(\.shape)
        if !running {
            for input in loaded.inputs {
                guard input.shape.allSatisfy({ $0 != nil }) else {
                    throw Failure("input '\(input.name)' has dynamic dimensions (\(input)); give --input to choose them")
                }
                shapes[input.name] = input.shape.compactMap { $0 }
            }
        }
        let compiled = try loaded.compile(inputShapes: shapes, threads: threads)
        if info { printInfo(loaded, compiled) }
        guard running, let outputDirectory else { return }

        let session = compiled.makeSession()
        let outputs = try session.run(feeds)
        if profile && repeatCount > 0 { try printProfile(session, feeds) }
        if repeatCount > 0 {
            var seconds: [Double] = [], cpuSeconds: [Double] = []
            for _ in 0..<repeatCount {
                let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Self.processCPUSeconds()
                _ = try session.run(feeds)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                cpuSeconds.append(Self.processCPUSeconds() - cpuStart)
            }
            print(String(format: "latency: median %.3f ms, min %.3f ms over %d runs (%d thread%@)",
                         Self.median(seconds) * 1e3, (seconds.min() ?? 0) * 1e3, repeatCount, threads, threads == 1 ? "" : "s"))
            // Process CPU time (every thread): on a shared machine, a 1-thread run's CPU time is
            // what its latency would be on an idle one.
            print(String(format: "cpu: median %.3f ms per run", Self.median(cpuSeconds) * 1e3))
        }
        try writeAtomically(outputs, to: URL(fileURLWithPath: outputDirectory))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted(), count = sorted.count
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }

    /// CPU time used so far by the whole process (all threads), in seconds.
    static func processCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Per-step medians over `repeatCount` profiled runs: the `profileSteps` slowest steps (or
    /// every step in graph order), then totals per kind.
    func printProfile(_ session: Session, _ feeds: [String: Tensor]) throws {
        var samples: [[Double]] = []
        var steps: [Session.StepTiming] = []
        for _ in 0..<repeatCount {
            let (_, timings) = try session.runProfiled(feeds)
            if samples.isEmpty { samples = Array(repeating: [], count: timings.count); steps = timings }
            for (i, t) in timings.enumerated() { samples[i].append(t.seconds) }
        }
        let medians = samples.map { s in s.sorted()[s.count / 2] }
        let total = medians.reduce(0, +)
        print(String(format: "profile: sum of step medians %.3f ms over %d steps", total * 1e3, medians.count))
        let shown = profileSteps > 0
            ? Array(medians.indices.sorted(by: { medians[$0] > medians[$1] }).prefix(profileSteps)) : Array(medians.indices)
        for i in shown {
            print(String(format: "  %8.1f us  %-18@ %@", medians[i] * 1e6, steps[i].kind, steps[i].name))
        }
        var byKind: [String: (Double, Int)] = [:]
        for i in medians.indices { byKind[steps[i].kind, default: (0, 0)].0 += medians[i]; byKind[steps[i].kind, default: (0, 0)].1 += 1 }
        for (kind, v) in byKind.sorted(by: { $0.value.0 > $1.value.0 }) {
            print(String(format: "  %8.1f us  %@ (%d)", v.0 * 1e6, kind, v.1))
        }
    }

    func printInfo(_ model: Model, _ compiled: CompiledGraph) {
        print("model: \(self.model) (\(model.format.rawValue))")
        for b in compiled.inputs { print("input  \(b.name): \(b.dataType)\(b.shape)" + layoutNote(model, b.name)) }
        for b in compiled.outputs { print("output \(b.name): \(b.dataType)\(b.shape)" + layoutNote(model, b.name)) }
        let stats = compiled.statistics
        print("operators (\(stats.operatorCounts.values.reduce(0, +)) after folding \(stats.foldedNodeCount) and fusing \(stats.fusedNodeCount) nodes):")
        for (kind, count) in stats.operatorCounts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            print("  \(kind): \(count)")
        }
        print(String(format: "FLOPs: %.3f G per run", Double(stats.flops) / 1e9))
    }

    func layoutNote(_ model: Model, _ name: String) -> String {
        let port = model.inputs.first { $0.name == name } ?? model.outputs.first { $0.name == name }
        return port?.layout.map { " (\($0))" } ?? ""
    }

    /// Writes every output to a temporary file, then renames them all; on any failure the
    /// temporaries are removed and no output file is left behind.
    func writeAtomically(_ outputs: [String: Tensor], to directory: URL) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure("cannot create \(directory.path): \(error.localizedDescription)")
        }
        var used: Set<String> = []
        var plan: [(temporary: URL, final: URL)] = []
        defer { for p in plan { try? fm.removeItem(at: p.temporary) } }
        for name in outputs.keys.sorted() {
            guard let tensor = outputs[name] else { continue }
            guard tensor.dataType == .float32 else { throw Failure("output '\(name)' is \(tensor.dataType), not float32") }
            var file = sanitizedFileName(name)
            var n = 2
            while used.contains(file) { file = sanitizedFileName(name) + "_\(n)"; n += 1 }
            used.insert(file)
            let final = directory.appendingPathComponent(file + ".npy")
            let temporary = directory.appendingPathComponent(".\(file).npy.tmp-\(getpid())")
            plan.append((temporary, final))
            let bytes = NumpyFile(shape: tensor.shape, floats: tensor.floats).bytes
            guard fm.createFile(atPath: temporary.path, contents: Data(bytes)) else {
                throw Failure("cannot write \(temporary.path)")
            }
        }
        for p in plan {
            if rename(p.temporary.path, p.final.path) != 0 {
                throw Failure("cannot write \(p.final.path): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// An output name made safe as a file name: letters, digits, `.`, `_`, `-`; no leading dot.
func sanitizedFileName(_ name: String) -> String {
    var s = String(name.unicodeScalars.map { c -> Character in
        CharacterSet.alphanumerics.contains(c) && c.isASCII || c == "." || c == "_" || c == "-" ? Character(c) : "_"
    })
    if s.isEmpty { s = "output" }
    if s.hasPrefix(".") { s = "_" + s.dropFirst() }
    return s
}

/// A failure reported as one line.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).joined(separator: " ")
}

do {
    // `--help` parses to ArgumentParser's own help command, so run whatever was parsed.
    var command = try RunModel.parseAsRoot()
    try command.run()
} catch {
    if RunModel.exitCode(for: error) == .success {
        print(RunModel.fullMessage(for: error))
        exit(0)
    }
    let message = error is ModelImportError || error is EngineError || error is Failure || error is NumpyFileError
        ? oneLine(String(describing: error)) : oneLine(RunModel.message(for: error))
    FileHandle.standardError.write(Data("run-model: \(message)\n".utf8))
    exit(1)
}
