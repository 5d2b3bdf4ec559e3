import Foundation

/// Where MattingKit finds the default model (MediaPipe Selfie Segmentation).
///
/// `Scripts/fetch-models.sh` installs it; the folder is, in order:
/// 1. ``directory`` if set by the caller,
/// 2. `$MATTINGKIT_MODEL_DIR`,
/// 3. `${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit/models`.
public enum DefaultModel {
    /// The portrait-oriented selfie model: 1×256×256×3 in, 1×256×256×1 out.
    public static let fileName = "selfie_segmentation.tflite"
    /// The landscape variant: 1×144×256×3 in.
    public static let landscapeFileName = "selfie_segmentation_landscape.tflite"

    /// The folder models are read from (see the type's documentation for the rule).
    public static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["MATTINGKIT_MODEL_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        return URL(fileURLWithPath: cache).appendingPathComponent("mattingkit/models")
    }

    /// The default model file, checked to exist.
    ///
    /// - Throws: ``MattingError/modelMissing(path:)`` naming the path and the command that
    ///   fetches it.
    public static func url(fileName: String = fileName) throws -> URL {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MattingError.modelMissing(path: url.path)
        }
        return url
    }
}

/// Errors of the one-call pipeline (codec, engine, importer and refine errors pass through
/// with their own types).
public enum MattingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The default model is not installed.
    case modelMissing(path: String)
    /// The model does not have the interface the segmenter needs.
    case unsuitableModel(String)
    /// A caller-supplied trimap or mask does not match the photo.
    case sizeMismatch(String)
    /// A model file's inputs or outputs do not fit the segmenter's configuration (wrong
    /// rank, channel count or batch size, no such output or channel, a fixed size other than
    /// the one asked for); `file` is the model file's name.
    case incompatibleModel(file: String, reason: String)

    public var description: String {
        switch self {
        case let .modelMissing(path):
            "the default model is missing at \(path): run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)"
        case let .unsuitableModel(reason): "unsuitable model: \(reason)"
        case let .sizeMismatch(reason): "size mismatch: \(reason)"
        case let .incompatibleModel(file, reason): "\(file): model does not fit the segmenter: \(reason)"
        }
    }
}
