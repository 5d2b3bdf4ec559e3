// TEMPORARY STUB (branch `onnx`): the real converter is being written on main by the lead.
// Delete this file when merging main; take main's version on conflict.
import MattingEngine

extension TFLiteModel {
    /// Converts the main subgraph to the engine's graph IR (not implemented on this branch yet).
    public func makeGraph() throws -> Graph {
        throw ModelImportError(file: fileName, format: .tflite, kind: .unsupported,
                               message: "TFLite conversion is not implemented in this build")
    }
}
