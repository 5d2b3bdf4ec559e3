import ArgumentParser
import Foundation
import MattingKit

/// The matting options `matte` and `matte-batch` share, with the same names, help and checks.
public struct MatteArguments: ParsableArguments {
    @Option(help: "Background colour for JPEG output and previews, #rrggbb.")
    public var background: String = "#ffffff"

    @Option(help: "portrait, product or complexBackground.")
    public var preset: Preset = .portrait

    @Option(help: "Alpha below N/255 becomes 0 (0…50).")
    public var alphaThreshold: Int?

    @Option(help: "Shrink the opaque region by N pixels (0…5).")
    public var erode: Int?

    @Flag(inversion: .prefixedNo, help: "Smooth the alpha transition at edges.")
    public var feather: Bool?

    @Flag(help: "Product on a plain backdrop: no model, trimap from colour distance to the border.")
    public var studio = false

    @Flag(help: "Pre-enhance the photo first (CLAHE on lightness + sharpen).")
    public var enhance = false

    @Option(help: "A selfie-style .tflite model instead of the default.")
    public var model: String?

    public init() {}

    public enum Preset: String, ExpressibleByArgument, CaseIterable, Sendable {
        case portrait, product, complexBackground
        public var parameters: (threshold: Int, feather: Bool, erosion: Int) {
            switch self {
            case .portrait: (12, true, 1)
            case .product: (8, true, 0)
            case .complexBackground: (22, true, 2)
            }
        }
    }

    public func validate() throws {
        if let t = alphaThreshold, !(0...50).contains(t) { throw ValidationError("--alpha-threshold must be 0…50, got \(t)") }
        if let e = erode, !(0...5).contains(e) { throw ValidationError("--erode must be 0…5, got \(e)") }
    }

    /// The pipeline options: the preset, with each explicit parameter overriding it.
    public func options() throws -> MattingOptions {
        let base = preset.parameters
        return MattingOptions(
            operations: try MatteOperations(
                threshold: alphaThreshold ?? base.threshold, feather: feather ?? base.feather, erosion: erode ?? base.erosion),
            background: try RGBColor(parsing: background), enhance: enhance)
    }

    /// Loads the network: the default model, or `--model`.
    public func matter(threads: Int) throws -> Matter {
        try matterLoader(threads: threads)()
    }

    /// ``matter(threads:)`` as a closure that may run on another thread (the arguments
    /// themselves are not `Sendable`).
    public func matterLoader(threads: Int) -> @Sendable () throws -> Matter {
        let model = self.model
        return { try model.map { try Matter(modelURL: URL(fileURLWithPath: $0), threads: threads) } ?? Matter(threads: threads) }
    }
}

/// Output formats as the programs spell them.
public enum OutputFormatArgument: String, ExpressibleByArgument, Sendable {
    case png, jpeg, jpg
    public var format: ImageFormat { self == .png ? .png : .jpeg }
}

/// Prints `program: subject: error` as one line on stderr, the programs' failure message.
/// Codec errors already begin with the file they are about; then the subject is not repeated.
public func printFailure(_ program: String, _ subject: String, _ error: any Error) {
    let detail = "\(error)"
    let line = detail.hasPrefix(subject + ":") ? "\(program): \(detail)" : "\(program): \(subject): \(detail)"
    let text = line.replacingOccurrences(of: "\n", with: " ")
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Milliseconds with one decimal: "12.3 ms".
public func milliseconds(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
