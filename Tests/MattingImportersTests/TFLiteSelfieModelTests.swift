import Foundation
import Testing
@testable import MattingImporters

/// The expected structure of the two fetched MediaPipe selfie models (cross-checked with the
/// `tflite` Python package's generated accessors when this test was written).
@Suite("TFLite: MediaPipe selfie models")
struct TFLiteSelfieModelTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        var file: String
        var inputShape: [Int32]
        var outputShape: [Int32]
        var tensors: Int
        var buffers: Int
        var opCounts: [String: Int]
        var testDescription: String { file }
    }

    static let shared: [String: Int] = [
        "ADD": 14, "CONV_2D": 43, "Convolution2DTransposeBias": 1, "DEPTHWISE_CONV_2D": 11,
        "DEQUANTIZE": 110, "HARD_SWISH": 11, "LOGISTIC": 11, "MUL": 10, "RELU": 22, "RESIZE_BILINEAR": 3,
    ]
    static let cases = [
        Expected(file: SelfieModels.portrait, inputShape: [1, 256, 256, 3], outputShape: [1, 256, 256, 1],
                 tensors: 360, buffers: 117, opCounts: shared.merging(["AVERAGE_POOL_2D": 10]) { a, _ in a }),
        Expected(file: SelfieModels.landscape, inputShape: [1, 144, 256, 3], outputShape: [1, 144, 256, 1],
                 tensors: 370, buffers: 127, opCounts: shared.merging(["MEAN": 10]) { a, _ in a }),
    ]

    @Test(arguments: cases)
    func structure(_ e: Expected) throws {
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(e.file), fileName: e.file)
        #expect(model.version == 3)
        #expect(model.subgraphs.count == 1)
        let g = model.subgraphs[0]
        #expect(g.tensors.count == e.tensors)
        #expect(model.buffers.count == e.buffers)
        #expect(g.operators.count == 246)
        #expect(g.inputs.count == 1 && g.outputs.count == 1)
        let input = g.tensors[g.inputs[0]]
        let output = g.tensors[g.outputs[0]]
        #expect(input.shape == e.inputShape && input.type == .float32 && input.name == "input_1")
        #expect(output.shape == e.outputShape && output.type == .float32)
        #expect(model.constantBytes(of: input) == nil)

        var counts: [String: Int] = [:]
        for op in g.operators {
            let code = model.operatorCode(of: op)
            counts[code.customCode ?? code.builtin.description, default: 0] += 1
        }
        #expect(counts == e.opCounts)

        // Weights are fp16 constants, each widened by exactly one DEQUANTIZE.
        let fp16 = g.tensors.filter { $0.type == .float16 }
        #expect(fp16.count == 110)
        #expect(fp16.allSatisfy { model.constantBytes(of: $0) != nil })
        for op in g.operators where model.operatorCode(of: op).builtin == .dequantize {
            #expect(op.inputs.count == 1 && g.tensors[op.inputs[0]].type == .float16)
            #expect(g.tensors[op.outputs[0]].type == .float32)
        }
        #expect(!g.tensors.contains { $0.hasQuantization })
    }

    @Test(arguments: cases)
    func operatorOptions(_ e: Expected) throws {
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(e.file), fileName: e.file)
        let g = model.subgraphs[0]
        // The first convolution: 3×3, stride 2, SAME, 16 filters, fp16 weights via DEQUANTIZE.
        let conv = try #require(g.operators.first { model.operatorCode(of: $0).builtin == .conv2D })
        guard case .conv2D(let o) = conv.options else {
            Issue.record("CONV_2D without Conv2DOptions: \(conv.options)")
            return
        }
        #expect(o == TFLiteConv2DOptions(padding: .same, strideWidth: 2, strideHeight: 2, activation: .none,
                                         dilationWidth: 1, dilationHeight: 1))
        #expect(g.tensors[conv.inputs[1]].shape == [16, 3, 3, 3])
        #expect(conv.inputs.count == 3)

        // RESIZE_BILINEAR: half-pixel centres, no corner alignment; size from an int32 constant.
        for op in g.operators where model.operatorCode(of: op).builtin == .resizeBilinear {
            #expect(op.options == .resizeBilinear(TFLiteResizeBilinearOptions(alignCorners: false, halfPixelCenters: true)))
            let size = g.tensors[op.inputs[1]]
            #expect(size.type == .int32 && size.shape == [2])
            let values = try model.int32Values(of: size)
            let inShape = g.tensors[op.inputs[0]].shape
            #expect(values == [inShape[1] * 2, inShape[2] * 2])
        }
        // Squeeze-and-excite pooling: global average over the whole feature map.
        for op in g.operators {
            let builtin = model.operatorCode(of: op).builtin
            let inShape = g.tensors[op.inputs[0]].shape
            if builtin == .averagePool2D {
                guard case .pool2D(let p) = op.options else { Issue.record("pool without options"); continue }
                #expect(p.padding == .valid && p.filterHeight == inShape[1] && p.filterWidth == inShape[2])
                #expect(p.strideHeight == inShape[1] && p.strideWidth == inShape[2])
            } else if builtin == .mean {
                #expect(op.options == .reducer(keepDims: true))
                #expect(try model.int32Values(of: g.tensors[op.inputs[1]]) == [1, 2])
            }
        }
    }

    @Test(arguments: cases)
    func transposeConvolutionCustomOp(_ e: Expected) throws {
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(e.file), fileName: e.file)
        let g = model.subgraphs[0]
        let op = try #require(g.operators.first { model.operatorCode(of: $0).customCode == TFLiteConvolution2DTransposeBiasOptions.customCode })
        #expect(model.operatorCode(of: op).builtin == .custom)
        #expect(op.options == .none)
        let bytes = try #require(op.customOptions)
        #expect(bytes == [1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])
        let params = try TFLiteConvolution2DTransposeBiasOptions(customOptions: bytes)
        #expect(params.padding == .same && params.strideWidth == 2 && params.strideHeight == 2)
        // Inputs: activations (NHWC), weights OHWI [1, 2, 2, 16], bias [1].
        #expect(op.inputs.count == 3 && op.outputs.count == 1)
        let h = e.inputShape[1], w = e.inputShape[2]
        #expect(g.tensors[op.inputs[0]].shape == [1, h / 2, w / 2, 16])
        #expect(g.tensors[op.inputs[1]].shape == [1, 2, 2, 16])
        #expect(g.tensors[op.inputs[2]].shape == [1])
        #expect(g.tensors[op.outputs[0]].shape == [1, h, w, 1])
        // The final LOGISTIC reads the custom op's output and is the graph's output.
        let last = try #require(g.operators.last)
        #expect(model.operatorCode(of: last).builtin == .logistic)
        #expect(last.inputs == op.outputs && last.outputs == g.outputs)
    }

    @Test func fp16WeightsDecode() throws {
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(SelfieModels.portrait), fileName: SelfieModels.portrait)
        let g = model.subgraphs[0]
        for t in g.tensors where t.type == .float16 {
            let values = try model.float16Bits(of: t).map(TFLiteModel.float16ToFloat32)
            #expect(values.count == t.shape.reduce(1) { $0 * Int($1) })
            #expect(values.allSatisfy { $0.isFinite && abs($0) < 1000 }, "\(t.name)")
        }
    }

    @Test func float16Widening() {
        #expect(TFLiteModel.float16ToFloat32(0x3C00) == 1)
        #expect(TFLiteModel.float16ToFloat32(0xC000) == -2)
        #expect(TFLiteModel.float16ToFloat32(0x7BFF) == 65504)
        #expect(TFLiteModel.float16ToFloat32(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(TFLiteModel.float16ToFloat32(0x03FF) == Float(0x3FF) * Float(sign: .plus, exponent: -24, significand: 1))
        #expect(TFLiteModel.float16ToFloat32(0x8000).sign == .minus)
        #expect(TFLiteModel.float16ToFloat32(0x7C00) == .infinity)
        #expect(TFLiteModel.float16ToFloat32(0x7E00).isNaN)
        #expect(TFLiteModel.float16ToFloat32(0x3555) == 0.333251953125)
    }
}
