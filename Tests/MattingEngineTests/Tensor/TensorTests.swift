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
