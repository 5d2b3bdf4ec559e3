import Foundation
import MattingTestSupport
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
        _ = try SelfieModels.bytes(SelfieModels.portrait)  // records the fetch command if missing
        // Renamed to .onnx: the bytes decide, not the extension.
        let url = ScratchFolders.file("selfie", suffix: ".onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        try FileManager.default.copyItem(at: SelfieModels.directory.appendingPathComponent(SelfieModels.portrait), to: url)
        let model = try Model(contentsOf: url)
        #expect(model.format == .tflite)
        #expect(model.inputs.map(\.shape) == [[1, 256, 256, 3]])
        #expect(model.inputs.first?.layout == "NHWC")
        #expect(model.outputs.count == 1)
        let compiled = try model.compile(threads: 1)
        #expect(compiled.outputs.map(\.shape) == [[1, 256, 256, 1]])
    }

    @Test func junkIsAnUnsupportedFormatNamingTheFile() throws {
        let url = ScratchFolders.file("junk", suffix: ".bin")
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
        let url = ScratchFolders.file("empty", suffix: ".onnx")
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
