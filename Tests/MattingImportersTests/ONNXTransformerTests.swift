import Foundation
import MattingEngine
import MattingTestSupport
import Testing
@testable import MattingImporters

/// The transformer fixtures (`Scripts/onnx_op_fixtures.py`: `transformer_opset17`,
/// `forms_opset20`) beyond matching onnxruntime (``ONNXOperatorCoverageTests``): the patterns
/// exporters write become single engine nodes, and malformed transformer nodes give one
/// `ModelImportError` or `EngineError` that names the node.
@Suite("ONNX: transformer operators")
struct ONNXTransformerTests {
    static func model(_ name: String) throws -> ONNXModel {
        try ONNXModel(contentsOf: Fixtures.url("ONNXOps/\(name).onnx"))
    }

    @Test("the ViT-style block compiles to fused layer norms, GELUs and attention")
    func fusedKinds() throws {
        let graph = try Self.model("transformer_opset17").makeGraph()
        let counts = try graph.compile(inputShapes: ["x": [1, 3, 16, 16]]).statistics.operatorCounts
        #expect(counts["layerNorm"] == 2, "\(counts)")      // LayerNormalization + the decomposed one
        #expect(counts["gelu"] == 1 && counts["geluTanh"] == 1, "\(counts)")
        #expect(counts["attention"] == 1 && counts["softmax"] == nil, "\(counts)")
        for gone in ["reduce.mean", "erf", "tanh", "power", "sqrt"] { #expect(counts[gone] == nil, "\(gone): \(counts)") }
    }

    @Test("pointwise convolutions on NCHW data run channel-major, without layout transposes")
    func pointwiseChannelMajor() throws {
        let graph = try Self.model("pointwise_opset17").makeGraph()
        let counts = try graph.compile(inputShapes: ["x": [1, 12, 9, 11]]).statistics.operatorCounts
        // The 1×1 → Relu → 1×1 → Sigmoid chain: two channelMix nodes with fused activations.
        // The 1×1 feeding a 3×3 runs NHWC: one transpose in (shared input), one out.
        #expect(counts["channelMix"] == 2 && counts["relu"] == nil && counts["sigmoid"] == nil, "\(counts)")
        #expect(counts["conv2d"] == 2 && counts["transpose"] == 2, "\(counts)")
    }

    /// Changes one node of a fixture and expects conversion or compilation to fail naming it.
    func expectRejected(_ fixture: String, opType: String, _ change: (inout ONNXNode, ONNXGraph) -> Void) throws {
        var m = try Self.model(fixture)
        let i = try #require(m.graph.nodes.firstIndex { $0.opType == opType })
        change(&m.graph.nodes[i], m.graph)
        let name = m.graph.nodes[i].name
        do {
            _ = try m.makeGraph().compile(inputShapes: [:])
            Issue.record("\(fixture): changed \(opType) node '\(name)' was accepted")
        } catch let error as ModelImportError {
            #expect(error.message.contains(name), "\(error)")
        } catch let error as EngineError {
            #expect("\(error)".contains(m.graph.nodes[i].outputs[0]), "\(error)")
        }
    }

    func setAttribute(_ node: inout ONNXNode, _ name: String, _ value: ONNXAttributeValue) {
        if let j = node.attributes.firstIndex(where: { $0.name == name }) { node.attributes[j].value = value } else {
            node.attributes.append(ONNXAttribute(name: name, value: value))
        }
    }

    @Test func layerNormBadAxis() throws {
        try expectRejected("forms_opset20", opType: "LayerNormalization") { node, _ in setAttribute(&node, "axis", .int(3)) }
    }

    @Test func layerNormScaleCount() throws {
        // Normalising one axis (8 values) with a [3, 8] scale.
        try expectRejected("forms_opset20", opType: "LayerNormalization") { node, _ in setAttribute(&node, "axis", .int(-1)) }
    }

    @Test func matMulInnerSizes() throws {
        // [2, 3, 8] · [1, 8, 5] becomes [1, 8, 5] · [2, 3, 8].
        try expectRejected("forms_opset20", opType: "MatMul") { node, _ in node.inputs.reverse() }
    }

    @Test func gemmRank() throws {
        try expectRejected("forms_opset20", opType: "Gemm") { node, _ in node.inputs[0] = "x" }
    }

    @Test func gatherElementsAxis() throws {
        try expectRejected("transformer_opset17", opType: "GatherElements") { node, _ in setAttribute(&node, "axis", .int(3)) }
    }

    @Test func whereShapes() throws {
        // The [1, 16, 32] mask against the tiled [1, 32, 32] tensor.
        try expectRejected("transformer_opset17", opType: "Where") { node, graph in
            node.inputs[2] = graph.nodes.first { $0.opType == "Tile" }!.outputs[0]
        }
    }

    @Test func tileRepeatCount() throws {
        try expectRejected("transformer_opset17", opType: "Tile") { node, graph in
            // A two-value int64 constant ([1, C]) for a rank-3 input.
            node.inputs[1] = graph.nodes.first { $0.opType == "Concat" }!.inputs[0]
        }
    }

    @Test("DeformConv is refused with the models that need it")
    func deformConv() throws {
        var m = try Self.model("transformer_opset17")
        let i = try #require(m.graph.nodes.firstIndex { $0.opType == "Conv" })
        m.graph.nodes[i].opType = "DeformConv"
        #expect {
            _ = try m.makeGraph()
        } throws: { error in
            guard let e = error as? ModelImportError else { return false }
            return e.kind == .unsupported && e.message.contains("DeformConv") && e.message.contains("BiRefNet")
                && e.message.contains(m.graph.nodes[i].name)
        }
    }
}
