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
    /// The landscape variant: 1×144×256×3 in; ``ModelSegmenter/defaultModel()`` uses it for
    /// wide photos when it is installed.
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

/// What went wrong in the one-call pipeline, with the stage or file it went wrong in.
///
/// Failures inside a stage (a codec, the engine, the solver) arrive as
/// ``stageFailed(stage:reason:)`` with the stage's name and the underlying error's message;
/// cancellation is always `CancellationError`, never wrapped.
public enum MattingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The default model is not installed.
    case modelMissing(path: String)
    /// A model file could not be loaded or compiled; `file` is its name.
    case modelFailed(file: String, reason: String)
    /// A model file's inputs or outputs do not fit the segmenter's configuration (wrong
    /// rank, channel count or batch size, no such output or channel, a fixed size other than
    /// the one asked for, an interface no preset matches); `file` is the model file's name.
    case incompatibleModel(file: String, reason: String)
    /// A caller-supplied trimap or mask does not match the photo.
    case sizeMismatch(String)
    /// A caller-supplied trimap marks unknown pixels and no known one (0 background, 255
    /// foreground) at the working size, so every constant alpha fits it and no matte can be
    /// solved; the text names the trimap (its file, when it came from one).
    case unusableTrimap(String)
    /// The photo has no pixels.
    case emptyImage
    /// The automatic path was asked of a ``Matter`` made without a segmenter.
    case noModel
    /// A stage of the pipeline failed; `reason` is the underlying error's message.
    case stageFailed(stage: MattingProgress.Stage, reason: String)

    public var description: String {
        switch self {
        case let .modelMissing(path):
            "the default model is missing at \(path): run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)"
        case let .modelFailed(file, reason): "\(file): model cannot be used: \(reason)"
        case let .incompatibleModel(file, reason): "\(file): model does not fit the segmenter: \(reason)"
        case let .sizeMismatch(reason): "size mismatch: \(reason)"
        case let .unusableTrimap(reason): "unusable trimap: \(reason)"
        case .emptyImage: "cannot matte an empty image"
        case .noModel: "this Matter has no segmentation model; pass a trimap or a coarse mask, or load a model"
        case let .stageFailed(stage, reason): "\(stage.rawValue) failed: \(reason)"
        }
    }

    /// ``modelFailed(file:reason:)`` for the model file at `url` that `error` stopped, naming
    /// the file once (an importer's error names it too: its name is dropped from the reason).
    static func modelFailed(at url: URL, _ error: any Error) -> MattingError {
        let file = url.lastPathComponent
        if let error = error as? ModelImportError, error.file == file {
            return .modelFailed(file: file, reason: "\(error.format.rawValue): \(error.message)")
        }
        return .modelFailed(file: file, reason: "\(error)")
    }

    /// `error` as thrown out of `stage`: cancellation and pipeline errors as they are,
    /// anything else as ``stageFailed(stage:reason:)``.
    static func wrapping(_ error: any Error, stage: MattingProgress.Stage) -> any Error {
        if error is CancellationError || error is MattingError { return error }
        return MattingError.stageFailed(stage: stage, reason: "\(error)")
    }
}

extension ModelSegmenter {
    /// The default model, MediaPipe Selfie Segmentation, as installed by
    /// `Scripts/fetch-models.sh` (``DefaultModel``), with the ``Configuration/selfie`` preset;
    /// with its landscape model as the ``wideVariant`` for photos at least
    /// ``wideAspectRatio`` times as wide as tall, when that file is installed too (the fetch
    /// script installs both; without it every photo goes to the square model).
    ///
    /// - Throws: ``MattingError/modelMissing(path:)`` if the square model is not installed;
    ///   ``MattingError/modelFailed(file:reason:)`` if either model cannot be read.
    public static func defaultModel() throws -> ModelSegmenter {
        var segmenter = try load(DefaultModel.url(), configuration: .selfie)
        if let landscape = try? DefaultModel.url(fileName: DefaultModel.landscapeFileName) {
            segmenter.wideVariant = try load(landscape, configuration: .selfieLandscape)
        }
        return segmenter
    }

    private static func load(_ url: URL, configuration: Configuration) throws -> ModelSegmenter {
        do {
            return try ModelSegmenter(contentsOf: url, configuration: configuration)
        } catch let error as MattingError {
            throw error
        } catch {
            throw MattingError.modelFailed(at: url, error)
        }
    }
}
