import Testing
@testable import MattingImage

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
}
