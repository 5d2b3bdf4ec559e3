import Foundation
import Testing
@testable import MattingImporters
import MattingTestSupport

/// Parses every ONNX fixture and compares it with `manifest.json`, which the `onnx` Python
/// package wrote when the fixtures were generated (an independent parser).
@Suite("ONNX: fixtures")
struct ONNXFixtureTests {
    static let directory = Fixtures.url("ONNX")

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["models"] as? [String: Any])
    }

    static let modelNames = ["unet_opset11", "unet_dynamic_opset17", "resize_modes_opset17",
                             "resize_half_pixel_symmetric_opset19", "upsample_opset9", "fp16_cast_opset17",
                             "external_data_opset17"]

    @Test func manifestListsExactlyTheseModels() throws {
        #expect(Set(try Self.manifest().keys) == Set(Self.modelNames))
    }

    @Test(arguments: modelNames)
    func structureMatchesManifest(_ name: String) throws {
        let entry = try #require(try Self.manifest()[name] as? [String: Any])
        let model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("\(name).onnx"))
        let g = model.graph
        #expect(model.irVersion == (entry["ir_version"] as? Int).map(Int64.init))
        let opsets = try #require(entry["opsets"] as? [String: Int])
        #expect(model.opsetImports.count == opsets.count)
        #expect(model.defaultOpsetVersion == opsets[""].map(Int64.init))
        #expect(g.nodes.count == entry["nodes"] as? Int)
        #expect(g.initializers.count == entry["initializers"] as? Int)
        var counts: [String: Int] = [:]
        for node in g.nodes { counts[node.opType, default: 0] += 1 }
        #expect(counts == entry["op_counts"] as? [String: Int])
        #expect(model.producerName == "MattingKit make-model-fixtures.py")

        // Inputs, with symbolic dimensions where the fixture has them.
        let inputs = try #require(entry["inputs"] as? [[String: Any]])
        let initializerNames = Set(g.initializers.map(\.name))
        let graphInputs = g.inputs.filter { !initializerNames.contains($0.name) }
        #expect(graphInputs.map(\.name) == inputs.map { $0["name"] as? String ?? "?" })
        for (info, expected) in zip(graphInputs, inputs) {
            let dims = try #require(expected["shape"] as? [Any])
            let want: [ONNXDimension] = dims.map { d in
                if let v = d as? Int { return .value(Int64(v)) }
                return .parameter(d as? String ?? "?")
            }
            #expect(info.shape == want)
            #expect(info.elementType == .float)
        }
        #expect(g.outputs.map(\.name) == entry["outputs"] as? [String])

        // Where each initializer's data was stored.
        let storage = try #require(entry["initializer_storage"] as? [String: String])
        for t in g.initializers {
            let expected = try #require(storage[t.name])
            switch (expected, t.storage) {
            case ("raw", .raw), ("float_data", .typed(4)), ("int32_data", .typed(5)), ("int64_data", .typed(7)),
                 ("external", .external), ("empty", .empty):
                break
            default:
                Issue.record("\(name): initializer \(t.name) stored as \(t.storage), manifest says \(expected)")
            }
            #expect(t.rawBytes.count == t.elementCount * (t.dataType.byteWidth ?? 0))
        }

        // Sample values.
        let samples = try #require(entry["initializer_samples"] as? [String: [String: Any]])
        for (tensorName, sample) in samples {
            let t = try #require(g.initializer(named: tensorName))
            #expect(t.dims == (sample["dims"] as? [Int])?.map(Int64.init))
            #expect(t.dataType.rawValue == (sample["data_type"] as? Int).map(Int32.init))
            let first = try #require(sample["first"] as? [Double])
            let got: [Double]
            switch t.dataType {
            case .float: got = try t.floatValues().prefix(4).map(Double.init)
            case .int64: got = try t.int64Values().prefix(4).map(Double.init)
            case .float16: got = try t.float16Bits().prefix(4).map { Double(TFLiteModel.float16ToFloat32($0)) }
            default:
                Issue.record("unexpected sample type \(t.dataType)")
                continue
            }
            // Compared as Float: the values are float32 (or smaller), and Foundation's JSON number
            // parsing on Linux is not always correctly rounded in the last digits of a Double.
            #expect(got.map(Float.init) == first.map(Float.init), "\(name): \(tensorName)")
        }

        // Every case's .npy files exist and inputs match the declared ranks.
        let cases = try #require(entry["cases"] as? [String: [String: String]])
        for (_, files) in cases {
            for (tensor, file) in files {
                let array = try NumpyFile(contentsOf: Self.directory.appendingPathComponent(file))
                #expect(array.dtype == "<f4", "\(file)")
                if let info = graphInputs.first(where: { $0.name == tensor }) {
                    #expect(array.shape.count == info.shape?.count, "\(file)")
                }
            }
        }
    }

    @Test func attributesAndSpecificValues() throws {
        let model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("unet_opset11.onnx"))
        let convs = model.graph.nodes.filter { $0.opType == "Conv" }
        #expect(convs.contains { $0.attribute("group")?.intValue == 8 })
        #expect(convs.contains { $0.attribute("dilations")?.intsValue == [2, 2] })
        #expect(convs.contains { $0.attribute("strides")?.intsValue == [2, 2] })
        let resize = try #require(model.graph.nodes.first { $0.opType == "Resize" })
        #expect(resize.attribute("coordinate_transformation_mode")?.stringValue == "half_pixel")
        #expect(resize.attribute("mode")?.stringValue == "linear")
        #expect(model.graph.nodes.first { $0.opType == "LeakyRelu" }?.attribute("alpha")?.floatValue == 0.1)

        let dynamic = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("unet_dynamic_opset17.onnx"))
        let cos = try #require(dynamic.graph.nodes.first { $0.opType == "ConstantOfShape" })
        guard case .tensor(let value)? = cos.attribute("value") else {
            Issue.record("ConstantOfShape without a tensor value")
            return
        }
        #expect(try value.floatValues() == [0])
        #expect(dynamic.graph.nodes.contains { $0.attribute("auto_pad")?.stringValue == "SAME_UPPER" })
        #expect(dynamic.graph.nodes.contains { $0.attribute("auto_pad")?.stringValue == "SAME_LOWER" })

        let resizeModes = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("resize_modes_opset17.onnx"))
        let modes = Set(resizeModes.graph.nodes.compactMap { $0.attribute("coordinate_transformation_mode")?.stringValue })
        #expect(modes == ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"])
        // Omitted optional inputs are empty names.
        #expect(resizeModes.graph.nodes.contains { $0.inputs.count == 3 && $0.inputs[1].isEmpty })
    }

    @Test func fp16InitializerInBothStorages() throws {
        let model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("fp16_cast_opset17.onnx"))
        let raw = try #require(model.graph.initializer(named: "w_fp16_raw"))
        let typed = try #require(model.graph.initializer(named: "b_fp16_int32_data"))
        #expect(raw.dataType == .float16 && raw.storage == .raw && raw.dims == [4, 3, 3, 3])
        #expect(typed.dataType == .float16 && typed.storage == .typed(field: 5) && typed.dims == [4])
        #expect(try raw.float16Bits().count == 108)
        #expect(try typed.float16Bits().count == 4)
        #expect(model.graph.nodes.filter { $0.opType == "Cast" }.allSatisfy { $0.attribute("to")?.intValue == 1 })
    }

    @Test func externalDataIsLoaded() throws {
        let model = try ONNXModel(contentsOf: Self.directory.appendingPathComponent("external_data_opset17.onnx"))
        let external = model.graph.initializers.filter {
            if case .external = $0.storage { return true }
            return false
        }
        #expect(!external.isEmpty)
        for t in external {
            guard case .external(let location, _, let length) = t.storage else { continue }
            #expect(location == "external_data.bin")
            #expect(length == t.elementCount * 4)
            #expect(try t.floatValues().allSatisfy { $0.isFinite && $0 != 0 })
        }
        // Without a folder to resolve against, external data is refused.
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("external_data_opset17.onnx")))
        let error = try #require(throws: ModelImportError.self) { try ONNXModel(bytes: bytes, fileName: "m.onnx") }
        #expect(error.kind == .externalData)
    }
}
