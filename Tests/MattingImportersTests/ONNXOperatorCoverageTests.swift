import Foundation
import MattingEngine
import MattingTestSupport
import Testing
@testable import MattingImporters

/// Operator-form coverage (Fixtures/ONNXOps, made by `Scripts/onnx_op_fixtures.py`): attribute
/// vs. input forms across opsets 10/13/18 and layout-sensitive operators on NHWC-held values,
/// against onnxruntime. Same tolerance as ``ONNXConversionTests``: max abs error ≤ 1e-4 × the
/// reference's max magnitude.
@Suite("ONNX: operator forms match onnxruntime")
struct ONNXOperatorCoverageTests {
    static let directory = Fixtures.url("ONNXOps")

    static func manifest() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["models"] as? [String: [String: Any]])
    }

    static func tensor(_ file: String) throws -> Tensor {
        let npy = try NumpyFile(contentsOf: directory.appendingPathComponent(file))
        return Tensor(shape: npy.shape, floats: npy.floats)
    }

    static let models = ["legacy_opset10", "layout_opset13", "inputs_opset18", "transformer_opset17", "forms_opset20",
                         "pointwise_opset17"]

    @Test(arguments: models, [1, 2])
    func matchesOnnxruntime(_ name: String, threads: Int) throws {
        let entry = try #require(try Self.manifest()[name])
        let files = try #require(entry["files"] as? [String: String])
        let outputNames = try #require(entry["outputs"] as? [String])
        let graph = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("\(name).onnx")).makeGraph()
        let x = try Self.tensor(try #require(files["x"]))
        let outputs = try graph.compile(inputShapes: ["x": x.shape], threads: threads).makeSession().run(["x": x])
        #expect(Set(outputs.keys) == Set(outputNames))
        for output in outputNames {
            let want = try Self.tensor(try #require(files[output]))
            let got = try #require(outputs[output])
            #expect(got.shape == want.shape, "\(name).\(output)")
            guard got.shape == want.shape else { continue }
            let scale = max(want.floats.map(abs).max() ?? 0, 1e-6)
            let err = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= 1e-4 * scale, "\(name).\(output): max error \(err), scale \(scale)")
        }
    }
}

/// Hostile attribute values must give errors, never traps: every `axis`/`axes`/`perm` attribute
/// of the coverage fixtures set out of range, one node at a time.
@Suite("ONNX: conversion never traps on bad attributes")
struct ONNXHostileAttributeTests {
    // pointwise_opset17 has no axis attributes to corrupt.
    @Test(arguments: ONNXOperatorCoverageTests.models.filter { $0 != "pointwise_opset17" })
    func outOfRangeAxes(_ name: String) throws {
        let url = Fixtures.url("ONNXOps/\(name).onnx")
        let original = try ONNXModel(contentsOf: url)
        var tried = 0
        for (i, node) in original.graph.nodes.enumerated() {
            for (j, attribute) in node.attributes.enumerated() {
                let replacements: [ONNXAttributeValue]
                switch attribute.name {
                case "axis": replacements = [.int(99), .int(-99)]
                case "axes", "perm": replacements = [.ints([99]), .ints([-99, 0])]
                default: continue
                }
                for value in replacements {
                    var model = original
                    model.graph.nodes[i].attributes[j].value = value
                    tried += 1
                    do {
                        let graph = try model.makeGraph()
                        _ = try graph.compile(inputShapes: [:], threads: 1)
                        Issue.record("\(name): node \(node.name) \(attribute.name) = \(value) was accepted")
                    } catch is ModelImportError {
                    } catch is EngineError {
                    }
                }
            }
        }
        #expect(tried > 0)
    }
}
