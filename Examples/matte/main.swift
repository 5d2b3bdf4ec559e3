import ArgumentParser
import Foundation
import MattingKit

/// `matte`: cut the subject out of one photo.
@main
struct MatteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matte",
        abstract: "Cut the subject out of a photo: a transparent PNG (or a JPEG on a colour), and optionally the alpha mask.",
        discussion: """
            Presets (threshold / feather / erosion): portrait 12/on/1 (default), product 8/on/0, \
            complexBackground 22/on/2. --alpha-threshold, --erode and --feather override the preset.
            """)

    @Argument(help: "The photo (PNG or JPEG).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (default: <input stem>-matte.png beside the input); missing folders are created.")
    var output: String?

    @Option(help: "Output format: png (RGBA, keeps alpha) or jpeg (composited over --background). Default: from the output's extension, else png.")
    var format: OutputFormat?

    @Option(help: "Background colour for JPEG output, #rrggbb.")
    var background: String = "#ffffff"

    @Option(help: "portrait, product or complexBackground.")
    var preset: Preset = .portrait

    @Option(help: "Alpha below N/255 becomes 0 (0…50).")
    var alphaThreshold: Int?

    @Option(help: "Shrink the opaque region by N pixels (0…5).")
    var erode: Int?

    @Flag(inversion: .prefixedNo, help: "Smooth the alpha transition at edges.")
    var feather: Bool?

    @Option(help: "Also write the 8-bit alpha mask (PNG) here.")
    var saveMask: String?

    @Option(help: "Use this trimap (0 background, 255 foreground, other values unknown) instead of the model.")
    var trimap: String?

    @Flag(help: "Product on a plain backdrop: no model, trimap from colour distance to the border.")
    var studio = false

    @Flag(help: "Pre-enhance the photo first (CLAHE on lightness + sharpen).")
    var enhance = false

    @Option(help: "A selfie-style .tflite model instead of the default.")
    var model: String?

    @Option(help: "Threads for the network.")
    var threads: Int = 2

    @Flag(help: "Print per-stage timings to stderr.")
    var timings = false

    enum OutputFormat: String, ExpressibleByArgument { case png, jpeg, jpg }

    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case portrait, product, complexBackground
        var parameters: (threshold: Int, feather: Bool, erosion: Int) {
            switch self {
            case .portrait: (12, true, 1)
            case .product: (8, true, 0)
            case .complexBackground: (22, true, 2)
            }
        }
    }

    func validate() throws {
        if let t = alphaThreshold, !(0...50).contains(t) { throw ValidationError("--alpha-threshold must be 0…50, got \(t)") }
        if let e = erode, !(0...5).contains(e) { throw ValidationError("--erode must be 0…5, got \(e)") }
        if studio && trimap != nil { throw ValidationError("--studio and --trimap exclude each other") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        do {
            try process()
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("matte: \(input): \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    func process() throws {
        let inputURL = URL(fileURLWithPath: input)
        let outputURL = URL(fileURLWithPath: output ?? Self.defaultOutput(for: input, jpeg: format == .jpeg || format == .jpg))
        let jpeg: Bool
        if let format { jpeg = format != .png } else {
            jpeg = ["jpg", "jpeg"].contains(outputURL.pathExtension.lowercased())
        }
        for destination in [outputURL] + (saveMask.map { [URL(fileURLWithPath: $0)] } ?? []) {
            if Self.isSameFile(destination, inputURL) {
                throw MatteFailure("refusing to overwrite the input with \(destination.path)")
            }
        }
        let color = try RGBColor(parsing: background)
        let base = preset.parameters
        var options = MattingOptions(
            operations: try MatteOperations(
                threshold: alphaThreshold ?? base.threshold, feather: feather ?? base.feather, erosion: erode ?? base.erosion),
            background: color, enhance: enhance)
        options.estimatesForeground = true

        let clock = ContinuousClock()
        let start = clock.now
        let photo = try Image(contentsOf: inputURL)
        let decoded = clock.now
        let result: MattingResult
        if let trimap {
            result = try Matter.matte(photo, trimap: try Image(contentsOf: URL(fileURLWithPath: trimap)), options: options)
        } else if studio {
            result = try Matter.studioMatte(photo, options: options)
        } else {
            let matter = try model.map { try Matter(modelURL: URL(fileURLWithPath: $0), threads: threads) } ?? Matter(threads: threads)
            result = try matter.matte(photo, options: options)
        }
        let matted = clock.now
        // Encode everything before writing anything, so a failure leaves no output behind.
        let mainBytes = jpeg
            ? try result.composited(over: color).encoded(as: .jpeg)
            : try result.cutout.encoded(as: .png)
        let maskBytes = try saveMask.map { _ in try result.matte.encoded(as: .png) }
        for destination in [outputURL] + (saveMask.map { [URL(fileURLWithPath: $0)] } ?? []) {
            try FileManager.default.createDirectory(
                at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        try AtomicFile.write(mainBytes, to: outputURL)
        if let saveMask, let maskBytes {
            do {
                try AtomicFile.write(maskBytes, to: URL(fileURLWithPath: saveMask))
            } catch {
                try? FileManager.default.removeItem(at: outputURL)
                throw error
            }
        }
        let written = clock.now
        if timings {
            func ms(_ d: Duration) -> String { String(format: "%.1f ms", Double(d.components.attoseconds) * 1e-15 + Double(d.components.seconds) * 1000) }
            FileHandle.standardError.write(Data("decode \(ms(decoded - start)), \(result.timings), encode+write \(ms(written - matted)), wall \(ms(written - start))\n".utf8))
        }
        print(outputURL.path)
        if let saveMask { print(URL(fileURLWithPath: saveMask).path) }
    }

    static func defaultOutput(for input: String, jpeg: Bool) -> String {
        let url = URL(fileURLWithPath: input)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-matte.\(jpeg ? "jpg" : "png")").path
    }

    static func isSameFile(_ a: URL, _ b: URL) -> Bool {
        if a.standardizedFileURL.resolvingSymlinksInPath().path == b.standardizedFileURL.resolvingSymlinksInPath().path { return true }
        guard let ia = try? FileManager.default.attributesOfItem(atPath: a.path),
              let ib = try? FileManager.default.attributesOfItem(atPath: b.path) else { return false }
        return (ia[.systemFileNumber] as? Int) == (ib[.systemFileNumber] as? Int)
            && (ia[.systemNumber] as? Int) == (ib[.systemNumber] as? Int)
    }
}

struct MatteFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
