import Foundation
import Testing
@testable import MattingImporters
import MattingTestSupport

/// The TFLite and ONNX fuzzing inputs (Scripts/fuzz.sh) replayed under `swift test`: seeds and
/// any input that once crashed, hung or leaked (Fuzz/<harness>/regressions) must import or
/// fail with a ``ModelImportError``, through the calls the harnesses make.
@Suite("Fuzz corpora and regressions: TFLite and ONNX")
struct ImporterFuzzRegressionTests {
    static func inputs(_ harness: String) -> [String] {
        FuzzInputs.paths(harness, "corpus") + FuzzInputs.paths(harness, "regressions")
    }

    @Test("the committed seeds are there")
    func present() {
        #expect(Self.inputs("tflite").count >= 2)
        #expect(Self.inputs("onnx").count >= 5)
    }

    /// Runs `body`; any error must be a ModelImportError.
    static func typed(_ path: String, _ body: () throws -> Void) {
        do { try body() } catch is ModelImportError {} catch { Issue.record("\(path): untyped error \(error)") }
    }

    @Test("every TFLite input imports or fails with a typed error", arguments: inputs("tflite"))
    func tflite(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        Self.typed(path) { _ = try TFLiteModel(bytes: bytes, fileName: "<fuzz>").makeGraph() }
    }

    @Test("every ONNX input imports or fails with a typed error", arguments: inputs("onnx"))
    func onnx(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        Self.typed(path) { _ = try ONNXModel(bytes: bytes, fileName: "<fuzz>").makeGraph() }
    }
}
