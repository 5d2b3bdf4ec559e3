import Foundation
import MattingEngine
import Testing
@testable import MattingImporters

/// `Model(contentsOf:)`: format sniffing and the unified description of inputs and outputs.
@Suite("Model")
struct ModelTests {
    @Test func onnxIsDetectedAndDescribed() throws {
        let model = try Model(contentsOf: Fixtures.url("ONNX/unet_dynamic_opset17.onnx"))
        #expect(model.format == .onnx)
        #expect(model.inputs.map(\.name) == ["image"])
        #expect(model.inputs[0].shape == [1, 3, nil, nil])
        #expect(model.inputs[0].layout == "NCHW")
        #expect(model.outputs.map(\.name) == ["add_139"])
        let compiled = try model.compile(inputShapes: ["image": [1, 3, 32, 32]], threads: 1)
        #expect(compiled.outputs.map(\.shape) == [[1, 1, 32, 32]])
    }

    @Test func tfliteIsDetectedByItsIdentifier() throws {
        // The selfie model if fetched; otherwise a minimal file that carries the identifier.
        let url = SelfieModels.directory.appendingPathComponent(SelfieModels.portrait)
        do {
            let model = try Model(contentsOf: url)
            #expect(model.format == .tflite)
            #expect(model.inputs.first?.layout == "NHWC")
        } catch let e as ModelImportError {
            // Until the TFLite converter is merged, the format must still be recognised.
            #expect(e.format == .tflite, "\(e)")
        }
    }

    @Test func junkIsAnUnsupportedFormatNamingTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("junk-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data((0..<256).map { UInt8(($0 * 37 + 11) & 0xFF) }).write(to: url)
        do {
            _ = try Model(contentsOf: url)
            Issue.record("junk loaded")
        } catch let e as ModelImportError {
            #expect(e.kind == .unsupported)
            #expect(e.file == url.lastPathComponent)
            #expect(e.message.contains("not a supported model file"))
        }
    }

    @Test func emptyFileIsRejected() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data().write(to: url)
        #expect(throws: ModelImportError.self) { try Model(contentsOf: url) }
    }

    @Test func missingFileIsAnIOError() {
        do {
            _ = try Model(contentsOf: URL(fileURLWithPath: "/nonexistent/m.onnx"))
            Issue.record("loaded a missing file")
        } catch let e as ModelImportError {
            #expect(e.kind == .io)
        } catch {
            Issue.record("untyped error \(error)")
        }
    }
}
