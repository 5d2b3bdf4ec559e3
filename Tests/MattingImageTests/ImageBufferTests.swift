import Testing
@testable import MattingImage
import MattingTestSupport

@Suite("ImageBuffer")
struct ImageBufferTests {
    @Test func zeroFilledAndSubscript() {
        var image = Image(width: 3, height: 2, layout: .rgb)
        #expect(image.packedComponents.allSatisfy { $0 == 0 })
        image[2, 1, 2] = 200
        #expect(image[2, 1, 2] == 200)
        #expect(image.pixel(x: 2, y: 1) == [0, 0, 200])
    }

    @Test func copyOnWriteLeavesTheOriginal() {
        let original = Image(width: 4, height: 4, layout: .gray, repeating: 7)
        var copy = original
        copy[0, 0, 0] = 1
        #expect(original[0, 0, 0] == 7)
        #expect(copy[0, 0, 0] == 1)
    }

    @Test func cropIsAViewUntilWritten() {
        let image = Image(width: 5, height: 4, layout: .gray) { x, y, _ in UInt8(y * 10 + x) }
        var crop = image.cropped(to: ImageRect(x: 1, y: 2, width: 3, height: 2))
        #expect(crop.rowStride == 5)
        #expect(crop.packedComponents == [21, 22, 23, 31, 32, 33])
        crop[0, 0, 0] = 99
        #expect(crop.rowStride == 3)
        #expect(image[1, 2, 0] == 21)
        #expect(crop.packedComponents == [99, 22, 23, 31, 32, 33])
    }

    @Test func layoutConversions() {
        let rgb = try! Image(width: 1, height: 1, layout: .rgb, components: [255, 128, 0])
        let gray = rgb.converted(to: .gray)
        // 0.299*255 + 0.587*128 + 0.114*0 = 151.381
        #expect(gray[0, 0, 0] == 151)
        let rgba = rgb.converted(to: .rgba)
        #expect(rgba.pixel(x: 0, y: 0) == [255, 128, 0, 255])
        #expect(rgba.converted(to: .rgb) == rgb)
        #expect(gray.converted(to: .rgb).pixel(x: 0, y: 0) == [151, 151, 151])
    }

    @Test func floatRoundTripIsExact() {
        let image = Image(width: 256, height: 1, layout: .gray) { x, _, _ in UInt8(x) }
        let float = image.converted(to: FloatImage.self)
        #expect(float[255, 0, 0] == 1)
        #expect(float.converted(to: Image.self) == image)
    }

    @Test func floatToByteClampsAndRounds() {
        let float = try! FloatImage(width: 5, height: 1, layout: .gray, components: [-1, 0.5, 2, .nan, 0.0019])
        #expect(float.converted(to: Image.self).packedComponents == [0, 128, 255, 0, 0])
    }

    @Test func componentCountMismatchThrows() {
        #expect(throws: ImageError.self) {
            try Image(width: 2, height: 2, layout: .rgb, components: [UInt8](repeating: 0, count: 11))
        }
    }

    /// The identities the pipeline leans on (a 1200×1800 photo is already RGB and already at
    /// working size): they return the same storage, no copy, and stay values.
    @Test func sameLayoutAndSameSizeShareStorageUntilWritten() {
        let photo = Image(width: 6, height: 5, layout: .rgb) { x, y, c in UInt8(x * 30 + y * 7 + c) }
        for same in [photo.converted(to: .rgb), photo.resized(width: 6, height: 5, filter: .area),
                     photo.resized(toFitWithin: 6), photo.applyingOrientation(.up)] {
            #expect(same.storage === photo.storage && same.offset == photo.offset && same.rowStride == photo.rowStride)
            var changed = same
            changed[2, 3, 1] = 0
            #expect(changed.storage !== photo.storage)
            #expect(photo[2, 3, 1] == UInt8(2 * 30 + 3 * 7 + 1) && changed[2, 3, 1] == 0)
            #expect(same == photo)
        }
        // A view keeps its stride and offset through the identities too.
        let view = photo.cropped(to: ImageRect(x: 1, y: 1, width: 4, height: 3))
        let same = view.converted(to: .rgb)
        #expect(same.storage === photo.storage && same.rowStride == 18 && same == view)
    }

    /// 8-bit → float in two row blocks on two threads (large pictures) against the scalar rule,
    /// on a packed picture and on a view whose rows are not contiguous, heights odd and even.
    @Test(arguments: [(1024, 342), (1024, 343), (1000, 1)])
    func byteToFloatMatchesScalarRule(_ size: (Int, Int)) throws {
        let (w, h) = size
        var rng = SeededGenerator(seed: UInt64(w + h))
        let big = try Image(width: w + 3, height: h + 2, layout: .rgb, components: rng.bytes((w + 3) * (h + 2) * 3))
        for image in [big, big.cropped(to: ImageRect(x: 2, y: 1, width: w, height: h))] {
            let float = image.converted(to: FloatImage.self)
            #expect(float.isPacked && float.width == image.width && float.height == image.height)
            let expected = image.packedComponents.map { Float($0) * (1 / 255) }
            #expect(float.packedComponents == expected, "\(image.width)×\(image.height)")
        }
    }

    /// Buffers made uninitialised and filled by a generator or from components hold exactly those values.
    @Test func generatedAndComponentInitialisersWriteEveryValue() throws {
        var rng = SeededGenerator(seed: 5)
        let values = rng.bytes(7 * 9 * 4)
        let image = try Image(width: 7, height: 9, layout: .rgba, components: values)
        #expect(image.packedComponents == values)
        let generated = Image(width: 7, height: 9, layout: .rgba) { x, y, c in values[(y * 7 + x) * 4 + c] }
        #expect(generated == image)
    }
}
