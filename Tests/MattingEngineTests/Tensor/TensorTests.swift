import MattingEngine
import MattingTestSupport
import Testing

@Suite("Tensor")
struct TensorTests {
    @Test func storageIsAlignedAndZeroed() {
        for shape in [[], [1], [3, 5], [1, 7, 9, 3]] {
            let t = Tensor(zeros: shape)
            t.withUnsafeBytes { bytes in
                #expect(Int(bitPattern: bytes.baseAddress) % 64 == 0, "\(shape)")
            }
            #expect(t.floats.allSatisfy { $0 == 0 })
            #expect(t.count == shape.reduce(1, *))
        }
    }

    @Test func copyOnWrite() {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        var b = a
        b.withUnsafeMutableFloats { $0[0] = 9 }
        #expect(a.floats == [1, 2, 3, 4])
        #expect(b.floats == [9, 2, 3, 4])
        let view = a.reshaped([4])
        #expect(view.floats == a.floats && view.shape == [4])
    }

    @Test func int64AndConversions() {
        let t = Tensor(shape: [3], int64s: [1, -2, 300])
        #expect(t.dataType == .int64)
        #expect(t.floats == [1, -2, 300])
        #expect(Tensor(shape: [2], floats: [1.9, -2.9]).int64s == [1, -2])
    }

    @Test("NCHW ↔ NHWC round trip", arguments: [[1, 3, 4, 5], [2, 1, 1, 7], [1, 5, 3, 2]])
    func layoutRoundTrip(nchw: [Int]) throws {
        var rng = SeededGenerator(seed: 8)
        let t = Tensor(shape: nchw, floats: rng.floats(nchw.reduce(1, *)))
        let nhwc = t.nhwcFromNCHW()
        #expect(nhwc.shape == [nchw[0], nchw[2], nchw[3], nchw[1]])
        let (c, h, w) = (nchw[1], nchw[2], nchw[3])
        let src = t.floats, dst = nhwc.floats
        for n in 0..<nchw[0] { for y in 0..<h { for x in 0..<w { for k in 0..<c {
            #expect(dst[((n * h + y) * w + x) * c + k] == src[((n * c + k) * h + y) * w + x])
        } } } }
        #expect(nhwc.nchwFromNHWC() == t)
    }
}

@Suite("Tensor import helpers")
struct TensorImportTests {
    @Test func float16Dequantisation() {
        // 1, -2, 0.5, 65504 (max), smallest subnormal, -0, +inf
        let bits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00]
        let t = Tensor(shape: [7], float16Bits: bits)
        #expect(t.floats == [1, -2, 0.5, 65504, 0x1p-24, -0.0, .infinity])
        #expect(Tensor(shape: [1], float16Bits: [0x7E00]).floats[0].isNaN)
    }

    @Test func rawBytes() {
        let values: [Int64] = [3, -1, 1 << 40]
        let t = values.withUnsafeBytes { Tensor(shape: [3], dataType: .int64, bytes: $0) }
        #expect(t.int64s == values)
    }
}

@Suite("Weight layout conversions")
struct WeightLayoutTests {
    @Test func oihw() {
        var rng = SeededGenerator(seed: 31)
        let w = Tensor(shape: [4, 3, 2, 5], floats: rng.floats(120))
        let o = w.convolutionWeightsFromOIHW()
        #expect(o.shape == [4, 2, 5, 3])
        let (src, dst) = (w.floats, o.floats)
        // OHWI [o=1][y=1][x=3][i=2] = OIHW [o=1][i=2][y=1][x=3]
        let ohwi: Int = ((1 * 2 + 1) * 5 + 3) * 3 + 2
        let oihw: Int = ((1 * 3 + 2) * 2 + 1) * 5 + 3
        #expect(dst[ohwi] == src[oihw])
    }

    @Test func tfliteDepthwise() {
        let w = Tensor(shape: [1, 2, 2, 3], floats: (0..<12).map(Float.init))
        let o = w.depthwiseWeightsFromTFLite()
        #expect(o.shape == [3, 2, 2, 1])
        // OHWI [c][y][x][0] = TFLite [0][y][x][c]
        let ohwi: Int = (2 * 2 + 1) * 2 + 0, tflite: Int = (1 * 2 + 0) * 3 + 2
        #expect(o.floats[ohwi] == w.floats[tflite])
    }

    @Test("ONNX ConvTranspose weights", arguments: [1, 2])
    func iohw(groups: Int) {
        var rng = SeededGenerator(seed: 32)
        let (inC, ocg, kh, kw) = (4, 3, 2, 3)
        let w = Tensor(shape: [inC, ocg, kh, kw], floats: rng.floats(inC * ocg * kh * kw))
        let o = w.transposedConvolutionWeightsFromIOHW(groups: groups)
        let icg = inC / groups
        #expect(o.shape == [ocg * groups, kh, kw, icg])
        let (src, dst) = (w.floats, o.floats)
        for inChannel in 0..<inC {
            for j in 0..<ocg {
                let g = inChannel / icg, outChannel = g * ocg + j
                let ohwi: Int = ((outChannel * kh + 1) * kw + 2) * icg + inChannel % icg
                let iohw: Int = ((inChannel * ocg + j) * kh + 1) * kw + 2
                #expect(dst[ohwi] == src[iohw], "groups \(groups)")
            }
        }
    }
}
