import Foundation
import MattingEngine
import MattingTestSupport
import Testing
@testable import MattingImporters

/// Converts, compiles and runs every ONNX fixture and compares with the onnxruntime outputs
/// stored beside it (made by `Scripts/make-model-fixtures.py`).
///
/// Tolerance: max |ours − onnxruntime| ≤ 1e-4 × max |onnxruntime| per output. Both sides
/// compute in float32 but sum in different orders (GEMM blocking vs. MLAS), so bit equality is
/// not expected; 1e-4 relative to the output's range is far below any visible difference and
/// far above float32 reordering noise for these shallow graphs.
@Suite("ONNX: conversion matches onnxruntime")
struct ONNXConversionTests {
    static let directory = Fixtures.url("ONNX")
    static let tolerance: Float = 1e-4

    struct Case: Sendable, CustomStringConvertible {
        var model: String, caseName: String, threads: Int
        var description: String { "\(model).\(caseName) threads=\(threads)" }
    }

    static let cases: [Case] = {
        let plain = ["unet_opset11", "resize_modes_opset17", "resize_half_pixel_symmetric_opset19",
                     "upsample_opset9", "fp16_cast_opset17", "external_data_opset17"]
        var all: [Case] = []
        for threads in [1, 2] {
            for m in plain { all.append(Case(model: m, caseName: "base", threads: threads)) }
            for c in ["h32w32", "h48w40"] { all.append(Case(model: "unet_dynamic_opset17", caseName: c, threads: threads)) }
        }
        return all
    }()

    /// The manifest entry's case → file map.
    static func caseFiles(_ model: String, _ caseName: String) throws -> [String: String] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try #require(root["models"] as? [String: Any])
        let entry = try #require(models[model] as? [String: Any])
        let cases = try #require(entry["cases"] as? [String: [String: String]])
        return try #require(cases[caseName])
    }

    static func tensor(_ file: String) throws -> Tensor {
        let npy = try NumpyFile(contentsOf: directory.appendingPathComponent(file))
        return Tensor(shape: npy.shape, floats: npy.floats)
    }

    /// Removes the nodes the converter rejects by design (cubic, tf_crop_and_resize) and the
    /// outputs they produce, so the rest of `resize_modes_opset17` can be checked.
    static func withoutUnsupportedResizes(_ model: ONNXModel) -> ONNXModel {
        var m = model
        let rejected = m.graph.nodes.filter { n in
            n.attribute("mode")?.stringValue == "cubic"
                || n.attribute("coordinate_transformation_mode")?.stringValue == "tf_crop_and_resize"
        }
        let dropped = Set(rejected.flatMap(\.outputs))
        m.graph.nodes.removeAll { $0.outputs.contains(where: dropped.contains) }
        m.graph.outputs.removeAll { dropped.contains($0.name) }
        return m
    }

    @Test(arguments: cases)
    func matchesOnnxruntime(_ c: Case) throws {
        var model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("\(c.model).onnx"))
        if c.model == "resize_modes_opset17" { model = Self.withoutUnsupportedResizes(model) }
        let graph = try model.makeGraph()
        let files = try Self.caseFiles(c.model, c.caseName)
        let inputNames = Set(graph.inputs.map(\.name))
        var feeds: [String: Tensor] = [:]
        for name in inputNames { feeds[name] = try Self.tensor(try #require(files[name])) }
        let compiled = try graph.compile(inputShapes: feeds.mapValues(\.shape), threads: c.threads)
        let outputs = try compiled.makeSession().run(feeds)
        #expect(!graph.outputs.isEmpty)
        for name in graph.outputs.keys.sorted() {
            let want = try Self.tensor(try #require(files[name], "no reference for \(name)"))
            let got = try #require(outputs[name])
            expectMatchesReference(got, want, tolerance: Self.tolerance, "\(c) \(name)")
        }
    }

    @Test func dynamicModelDeclaresSymbolicDimensionsAsNil() throws {
        let graph = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("unet_dynamic_opset17.onnx")).makeGraph()
        #expect(graph.inputs.map(\.shape) == [[1, 3, nil, nil]])
    }

    @Test func resizeModesRejectsCubicNamingOpAndNode() throws {
        let model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("resize_modes_opset17.onnx"))
        do {
            _ = try model.makeGraph()
            Issue.record("expected an error")
        } catch let e as ModelImportError {
            #expect(e.kind == .unsupported)
            #expect(e.format == .onnx)
            #expect(e.description.contains("Resize"))
            #expect(e.description.contains("cubic"))
            #expect(e.description.contains("node '"))
        }
    }

    @Test func unknownOperatorNamesOpNodeAndSupportedList() throws {
        var model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("external_data_opset17.onnx"))
        model.graph.nodes[1].opType = "Celu"
        model.graph.nodes[1].name = "the_node"
        do {
            _ = try model.makeGraph()
            Issue.record("expected an error")
        } catch let e as ModelImportError {
            #expect(e.kind == .unsupported)
            #expect(e.file == "external_data_opset17.onnx")
            #expect(e.message.contains("'Celu'"))
            #expect(e.message.contains("'the_node'"))
            #expect(e.message.contains("supported operators: "))
            #expect(e.message.contains("ConvTranspose"))
        }
    }

    @Test func tfCropAndResizeIsRejected() throws {
        var model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("resize_modes_opset17.onnx"))
        model.graph.nodes.removeAll { $0.attribute("mode")?.stringValue == "cubic" }
        #expect(throws: ModelImportError.self) { try model.makeGraph() }
        do { _ = try model.makeGraph() } catch let e as ModelImportError {
            #expect(e.message.contains("tf_crop_and_resize"))
        }
    }
}
