import Foundation
import MattingEngine
import MattingImage
import MattingImporters

/// Something that finds the subject in a photo and returns a coarse alpha.
///
/// The pipeline refines whatever a segmenter returns, so a segmenter only needs to be
/// roughly right at low resolution. Conformers must be safe to call concurrently.
public protocol Segmenter: Sendable {
    /// A coarse alpha for `image` (RGB, any size): single-channel, values 0…1, at whatever
    /// resolution the segmenter works at (the pipeline resizes it).
    func coarseAlpha(for image: Image) throws -> FloatImage
}

/// The default segmenter: MediaPipe Selfie Segmentation on MattingKit's engine.
///
/// The photo is stretched (no letterbox) to the model's input size — 256×256 — with area
/// averaging, scaled to 0…1, and the model's sigmoid output is returned as is. MediaPipe
/// itself samples without antialiasing (see Docs/Importers.md); area averaging keeps
/// a large photo's fine texture from aliasing into the network's input.
public struct SelfieSegmenter: Segmenter {
    let compiled: CompiledGraph
    let inputName: String
    let outputName: String
    let inputHeight: Int
    let inputWidth: Int

    /// Loads and compiles a selfie-style TFLite model (NHWC float input 1×H×W×3, one
    /// 1×H×W×1 output).
    ///
    /// - Parameters:
    ///   - modelURL: the `.tflite` file; the installed default model if `nil`.
    ///   - threads: threads the network runs on (default 2).
    /// - Throws: ``MattingError`` if the model is missing or has another interface;
    ///   ``ModelImportError`` if the file is not a valid model.
    public init(modelURL: URL? = nil, threads: Int = 2) throws {
        let url = try modelURL ?? DefaultModel.url()
        let graph = try TFLiteModel(contentsOf: url).makeGraph()
        guard graph.inputs.count == 1, let input = graph.inputs.first, input.shape.count == 4,
              let height = input.shape[1], let width = input.shape[2], input.shape[3] == 3,
              graph.outputs.count == 1, let output = graph.outputs.keys.first
        else {
            throw MattingError.unsuitableModel("\(url.lastPathComponent) is not a 1×H×W×3 → 1×H×W×1 segmentation model")
        }
        compiled = try graph.compile(inputShapes: [input.name: [1, height, width, 3]], threads: threads)
        inputName = input.name
        outputName = output
        inputHeight = height
        inputWidth = width
    }

    public func coarseAlpha(for image: Image) throws -> FloatImage {
        let rgb = image.converted(to: .rgb)
        let small = rgb.resized(width: inputWidth, height: inputHeight, filter: .area)
        let floats = small.converted(to: FloatImage.self).packedComponents
        let session = compiled.makeSession()
        let outputs = try session.run([inputName: Tensor(shape: [1, inputHeight, inputWidth, 3], floats: floats)])
        guard let mask = outputs[outputName], mask.count == inputWidth * inputHeight else {
            throw MattingError.unsuitableModel("the model's output is not 1×\(inputHeight)×\(inputWidth)×1")
        }
        return try FloatImage(width: inputWidth, height: inputHeight, layout: .gray, components: mask.floats)
    }
}
