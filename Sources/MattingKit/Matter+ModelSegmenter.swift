import Foundation
import MattingImporters

extension Matter {
    /// A pipeline around any model file, ONNX or TFLite (the format is sniffed from the bytes).
    ///
    /// With a `configuration`, the file runs through a ``ModelSegmenter`` with it. Without
    /// one, the file gets the preset whose interface it matches
    /// (``ModelSegmenter/Configuration/preset(matching:)``: a selfie-style TFLite model, MODNet,
    /// U²-Net, IS-Net or BSHM); an interface that matches none is an error asking for a
    /// configuration.
    ///
    /// ```swift
    /// let matter = try Matter(model: URL(fileURLWithPath: "u2netp.onnx"), configuration: .u2net, threads: 2)
    /// ```
    ///
    /// - Parameters:
    ///   - url: the model file.
    ///   - configuration: pre/post-processing for a ``ModelSegmenter``; `nil` to choose by interface.
    ///   - threads: threads for the whole pipeline.
    /// - Throws: ``MattingError/modelFailed(file:reason:)`` for unreadable or unsupported files;
    ///   ``MattingError/incompatibleModel(file:reason:)`` when the interface does not fit.
    public convenience init(
        model url: URL, configuration: ModelSegmenter.Configuration? = nil, threads: Int = Matter.defaultThreadCount
    ) throws {
        try self.init(segmenter: ModelSegmenter(contentsOf: url, configuration: configuration), pool: ThreadPool(threadCount: threads))
    }
}

extension ModelSegmenter {
    /// Loads a model file with `configuration`, or, when it is nil, with the preset whose
    /// interface the model has (``Configuration/preset(matching:)``), and checks the model's
    /// interface against it.
    ///
    /// - Parameters:
    ///   - url: a `.onnx` or `.tflite` file (the format is sniffed from the bytes; ONNX external
    ///     data must lie beside it).
    ///   - configuration: pre/post-processing (``Configuration/modnet``, …); nil to choose by interface.
    /// - Throws: ``MattingError/modelFailed(file:reason:)`` naming the file when it cannot be
    ///   read or holds an operator the engine lacks; ``MattingError/incompatibleModel(file:reason:)``
    ///   when the interface fits neither the configuration nor any preset.
    public init(contentsOf url: URL, configuration: Configuration? = nil) throws {
        let model: Model
        do {
            model = try Model(contentsOf: url)
        } catch {
            throw MattingError.modelFailed(at: url, error)
        }
        guard let configuration = configuration ?? Configuration.preset(matching: model) else {
            let inputs = model.inputs.map(\.description).joined(separator: "; ")
            throw MattingError.incompatibleModel(
                file: url.lastPathComponent,
                reason: "its interface (inputs: \(inputs); \(model.outputs.count) output(s)) matches no preset; "
                    + "pass a ModelSegmenter.Configuration (.modnet, .u2net, .isnet, .birefnet, .bshm, .selfie or your own)")
        }
        try self.init(model: model, url: url, configuration: configuration)
    }
}

extension ModelSegmenter.Configuration {
    /// The preset whose interface `model` has, or `nil`: a best guess from shapes alone, for
    /// callers who pass no configuration.
    ///
    /// | interface | preset |
    /// | --- | --- |
    /// | one `H×W×3` input (no batch axis) | ``bshm`` |
    /// | one `1×H×W×3` input | ``selfie`` (at the declared size) |
    /// | one `1×3×H×W` input, free H and W, one output | ``modnet`` |
    /// | one `1×3×H×W` input, fixed size, seven outputs (d0…d6) | ``u2net`` (at the declared size) |
    /// | one `1×3×H×W` input, fixed size, six outputs (d1…d6) | ``isnet`` (at the declared size) |
    /// | one `1×3×H×W` input, fixed size, one output | ``birefnet`` (at the declared size) |
    public static func preset(matching model: Model) -> Self? {
        guard model.inputs.count == 1, let input = model.inputs.first else { return nil }
        let shape = input.shape
        func fixed(_ preset: Self, height: Int?, width: Int?) -> Self {
            var p = preset
            if let height, let width { p.inputSize = .fixed(width: width, height: height) }
            return p
        }
        switch shape.count {
        case 3 where shape[2] == 3 || shape[2] == nil:
            return .bshm
        case 4 where shape[3] == 3 && shape[1] != 3:
            return fixed(.selfie, height: shape[1], width: shape[2])
        case 4 where shape[1] == 3:
            let h = shape[2], w = shape[3]
            if h == nil, w == nil, model.outputs.count == 1 { return .modnet }
            if let h, let w, model.outputs.count == 7 { return fixed(.u2net, height: h, width: w) }
            if let h, let w, model.outputs.count == 6 { return fixed(.isnet, height: h, width: w) }
            if let h, let w, model.outputs.count == 1 { return fixed(.birefnet, height: h, width: w) }
            return nil
        default:
            return nil
        }
    }
}
