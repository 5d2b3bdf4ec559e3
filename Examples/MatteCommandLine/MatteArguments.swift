import ArgumentParser
import CProcessStats
import Foundation
import MattingFiles
import MattingKit

/// The matting options `matte` and `matte-batch` share, with the same names, help and checks.
public struct MatteArguments: ParsableArguments {
    @Option(help: "Background colour for JPEG output and previews, #rrggbb.")
    public var background: String = "#ffffff"

    @Option(help: "portrait, product, complexBackground or none. Default: portrait on the model path; with --trimap none (the solver's alpha as it is); with --studio product.")
    public var preset: Preset?

    // `.unconditional`: `--erode -1` is a value out of range (an error saying so), not a
    // missing value followed by an unknown option.
    @Option(parsing: .unconditional, help: "Alpha below N/255 becomes 0 (0…50).")
    public var alphaThreshold: Int?

    @Option(parsing: .unconditional, help: "Shrink the opaque region by N pixels (0…5).")
    public var erode: Int?

    @Flag(inversion: .prefixedNo, help: "Smooth the alpha transition at edges.")
    public var feather: Bool?

    @Flag(help: "Product on a plain backdrop: no model, trimap from colour distance to the border.")
    public var studio = false

    @Flag(help: "Pre-enhance the photo first (CLAHE on lightness + sharpen).")
    public var enhance = false

    @Option(help: "A .tflite or .onnx model instead of the default (its preset is chosen from its interface).")
    public var model: String?

    @Flag(inversion: .prefixedNo, help: "Model path: keep only mask regions that belong to a person the pose or face detector finds (a separate statue, flag or bush is dropped; a person neither finds is dropped too; nothing found: mask as it is). Default: off.")
    public var peopleOnly: Bool?

    @Flag(inversion: .prefixedNo, help: "Model path: run the selfie model again on a head-and-shoulders square around each person the pose or face detector finds and blend its mask in (raising alpha only, feathered to the square's edge). Default: off.")
    public var personCrops: Bool?

    @Flag(help: "Solve the alpha with the information-flow terms (Aksoy et al. 2017) added to the closed form: a closer matte on the repository's items with a true alpha (composites, real cut-outs), but many times the solver's CPU time; Docs/Quality.md. Default: off.")
    public var informationFlow = false

    @Option(help: "How far the alpha solver goes: exact (the closed-form energy's minimiser, as pymatting's estimate_alpha_cf; a little slower than fast on a trimap's band, much slower on wide soft bands; Docs/Benchmarks.md) or fast (stopped early). Default: exact with --trimap; fast on the model path and with --studio.")
    public var solver: SolverAccuracy?

    @Flag(inversion: .prefixedNo, help: "Model path: widen the trimap's unknown band where the edge looks like hair (soft network alpha over a broad zone, fine texture along the edge), narrow elsewhere. Default: off.")
    public var hairAwareTrimap: Bool?

    public init() {}

    /// A preset as the programs spell it: one of the library's ``MatteOperations/presets``.
    public struct Preset: ExpressibleByArgument, Sendable {
        public let name: String
        public let operations: MatteOperations

        public init(name: String, operations: MatteOperations) {
            self.name = name
            self.operations = operations
        }

        public init?(argument: String) {
            guard let operations = MatteOperations.preset(named: argument) else { return nil }
            self.init(name: argument, operations: operations)
        }

        public static var allValueStrings: [String] { MatteOperations.presets.map(\.name) }
        public var defaultValueDescription: String { name }
    }

    /// Range checks, made when the command runs rather than while parsing, so that a value
    /// out of range is one line and exit status 1, like every other bad input (not usage
    /// text and status 64).
    ///
    /// - Throws: ``ArgumentFailure`` naming the option, its range and the value given.
    public func checkRanges() throws {
        if let t = alphaThreshold, !(0...50).contains(t) { throw ArgumentFailure("--alpha-threshold must be 0…50, got \(t)") }
        if let e = erode, !(0...5).contains(e) { throw ArgumentFailure("--erode must be 0…5, got \(e)") }
    }

    /// The pipeline options: the preset, with each explicit parameter overriding it.
    ///
    /// With none of --preset, --alpha-threshold, --erode, --feather given, the post-processing
    /// is left to the path (``MattingOptions/operations`` nil); an explicit parameter with no
    /// preset starts from the path's own default, which a program knows by `pathDefault`.
    public func options(pathDefault: MatteOperations) throws -> MattingOptions {
        let operations: MatteOperations?
        if preset == nil && alphaThreshold == nil && erode == nil && feather == nil {
            operations = nil
        } else {
            let base = preset?.operations ?? pathDefault
            operations = try MatteOperations(
                threshold: alphaThreshold ?? base.threshold, feather: feather ?? base.feathers, erosion: erode ?? base.erosion)
        }
        var options = MattingOptions(
            operations: operations, background: try RGBColor(parsing: background), enhance: enhance,
            peopleOnly: peopleOnly ?? MattingOptions.defaultPeopleOnly, solverAccuracy: solver)
        if informationFlow { options.informationFlow = InformationFlow() }
        options.hairAwareTrimap = hairAwareTrimap ?? false
        options.personCrops = personCrops ?? MattingOptions.defaultPersonCrops
        return options
    }

    /// The post-processing a path uses when none is asked for: `portrait` on the model path,
    /// none with a caller's trimap, `product` in studio mode.
    public static func pathDefault(trimap: Bool, studio: Bool) -> MatteOperations {
        trimap ? .identity : (studio ? .product : .portrait)
    }

    /// The segmentation model: the default one, or `--model`.
    public func segmenter() throws -> ModelSegmenter {
        try model.map { try ModelSegmenter(contentsOf: URL(fileURLWithPath: $0)) } ?? ModelSegmenter.defaultModel()
    }
}

extension SolverAccuracy: ExpressibleByArgument {}

/// Output formats as the programs spell them.
public enum OutputFormatArgument: String, ExpressibleByArgument, Sendable {
    case png, jpeg, jpg
    public var format: ImageFormat { self == .png ? .png : .jpeg }
}

/// A bad argument value, reported as one line: `program: message`.
public struct ArgumentFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Checks a count option against its lower bound. Out of range is an ``ArgumentFailure``,
/// so the programs report it as one line with exit status 1, like every other bad value,
/// rather than as a usage error.
public func requireAtLeast(_ minimum: Int, _ value: Int, _ option: String) throws {
    if value < minimum { throw ArgumentFailure("\(option) must be at least \(minimum), got \(value)") }
}

/// The format to write `path` in: `format` when given, else the file's extension (.png, .jpg,
/// .jpeg in any case); any other extension is refused rather than written as PNG bytes under
/// the wrong name.
///
/// - Throws: ``ArgumentFailure`` naming the file and what to do.
public func outputFormat(for path: String, format: ImageFormat?) throws -> ImageFormat {
    if let format { return format }
    let ext = URL(fileURLWithPath: path).pathExtension
    guard let chosen = ImageFormat(fileExtension: ext) else {
        throw ArgumentFailure(ext.isEmpty
            ? "\(path): the output has no extension; name it .png or .jpg, or pass --format png|jpeg"
            : "\(path): .\(ext) is not an output format; name it .png or .jpg, or pass --format png|jpeg")
    }
    return chosen
}

/// Prints `program: subject: error` as one line on stderr, the programs' failure message.
/// Codec errors already begin with the file they are about; then the subject is not repeated.
public func printFailure(_ program: String, _ subject: String, _ error: any Error) {
    let detail = "\(error)"
    if error is ArgumentFailure {
        FileHandle.standardError.write(Data("\(program): \(detail)\n".utf8))
        return
    }
    // A model error names the model file, not the photo it was loaded for.
    let namesItsFile = detail.hasPrefix(subject + ":") || detail.hasPrefix(URL(fileURLWithPath: subject).path + ":")
        || error is ModelImportError
        || { if case .modelFailed = error as? MattingError { return true }; return false }()
        || { if case .incompatibleModel = error as? MattingError { return true }; return false }()
    let line = namesItsFile ? "\(program): \(detail)" : "\(program): \(subject): \(detail)"
    let text = line.replacingOccurrences(of: "\n", with: " ")
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Milliseconds with one decimal: "12.3 ms".
public func milliseconds(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

/// The process's own CPU time and memory, for `--timings` lines.
public struct ProcessUsage: Sendable {
    /// User plus system CPU seconds of every thread since the process started.
    public let cpuSeconds: Double
    /// Resident memory now and at its peak, in MiB (Linux: /proc/self/status; 0 elsewhere).
    public let residentMiB: Int
    public let peakResidentMiB: Int
    /// Bytes the C allocator has handed out and not had back, in KiB: what a leak would raise
    /// even while the resident size hides it in freed pages (0 where the C library cannot say).
    public let heapInUseKiB: Int
    /// The process's threads now (Linux: /proc/self/status; 0 elsewhere).
    public let threads: Int

    public static var current: ProcessUsage {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func kib(_ key: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(key + ":") } ?? ""
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        return ProcessUsage(cpuSeconds: cpu, residentMiB: kib("VmRSS") / 1024, peakResidentMiB: kib("VmHWM") / 1024,
                            heapInUseKiB: process_heap_bytes_in_use() / 1024, threads: kib("Threads"))
    }
}
