import Foundation
import Testing
import MattingEngine
@testable import MattingImporters
import MattingTestSupport

/// The selfie models converted to engine graphs and run on the exact tensors MediaPipe fed
/// them, compared with MediaPipe's own outputs (Scripts/make-model-fixtures.py).
///
/// Tolerance: max abs 2e-4 on the 0…1 mask (the issue asks for 2e-3). MediaPipe ran
/// XNNPACK; TFLite's own reference CPU kernels differ from XNNPACK by up to 9e-5 on these
/// outputs (findings.json), and our kernels sum in yet another order. Measured: 8.6e-5
/// (portrait) and 7.0e-5 (landscape), means below 3e-7.
@Suite("TFLite conversion: selfie models against MediaPipe")
struct TFLiteConversionTests {
    static let cases: [(model: String, fixture: String)] = [
        (SelfieModels.portrait, "astronaut_portrait"),
        (SelfieModels.portrait, "synthetic_portrait"),
        (SelfieModels.landscape, "astronaut_landscape"),
    ]

    @Test(arguments: [1, 2])
    func matchesMediaPipe(threads: Int) throws {
        for (modelName, fixture) in Self.cases {
            let model = try TFLiteModel(bytes: try SelfieModels.bytes(modelName), fileName: modelName)
            let graph = try model.makeGraph()
            let input = try NumpyFile(contentsOf: Fixtures.url("MediaPipe/\(fixture)_input.npy"))
            let expected = try NumpyFile(contentsOf: Fixtures.url("MediaPipe/\(fixture)_output.npy"))
            let inputName = try #require(graph.inputs.first?.name)
            let compiled = try graph.compile(inputShapes: [inputName: input.shape], threads: threads)
            let session = compiled.makeSession()
            let outputs = try session.run([inputName: Tensor(shape: input.shape, floats: input.floats)])
            let output = try #require(outputs.values.first)
            #expect(output.shape.reduce(1, *) == expected.count, "\(fixture): output shape \(output.shape) vs \(expected.shape)")
            let ours = output.floats, theirs = expected.floats
            let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? .infinity
            let mean = zip(ours, theirs).map { abs($0 - $1) }.reduce(0, +) / Float(max(theirs.count, 1))
            #expect(worst <= 2e-4, "\(fixture) with \(threads) thread(s): max abs difference \(worst), mean \(mean)")
        }
    }

    @Test func graphHasTheModelsInterface() throws {
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(SelfieModels.portrait), fileName: "selfie")
        let graph = try model.makeGraph()
        #expect(graph.inputs.count == 1 && graph.inputs[0].shape == [1, 256, 256, 3])
        #expect(graph.outputs.count == 1)
        let compiled = try graph.compile(inputShapes: [graph.inputs[0].name: [1, 256, 256, 3]], threads: 1)
        let stats = compiled.statistics
        // The portrait model: 1×256×256×3 → 1×256×256×1, about 0.13 GFLOP per run (MediaPipe's
        // model card: ~125 MFLOPs); weights widened to float32 once (~0.4 MB of fp16 → ~0.8 MB).
        #expect(stats.operatorCounts["transposedConv2d"] ?? 0 > 0, "\(stats.operatorCounts)")
        #expect(stats.flops > 50_000_000 && stats.flops < 500_000_000, "FLOPs \(stats.flops)")
        #expect(stats.plannedBytes < stats.naiveBytes)
    }
}
