import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingTestSupport

/// `Matter.matte(encoded:answering:)`: more kinds of answer in strips (a PNG cut-out over a
/// colour, opaque or translucent; two masks), gathered in chunks.
///
/// Tolerance: none: every output must be byte for byte the whole-picture result's encoding.
@Suite("Matter: answers in strips from memory", .serialized)
struct EncodedAnswerTests {
    /// Every kind of answer, in strips (`stripsAbove: 0`) and whole, against the whole-picture
    /// result encoded as each ``AnswerOutput`` says; the JPEG upload is reduced (to
    /// `StreamingMatteTests.reducing`'s working size).
    @Test(arguments: [(900, 700, false), (1200, 900, true)])
    func answersInStripsAreByteIdenticalToTheWholePicture(_ width: Int, _ height: Int, _ jpeg: Bool) async throws {
        try await LargeMemoryTests.exclusively {
            let photo = StreamingMatteTests.scene(width: width, height: height)
            let bytes = try photo.encoded(as: jpeg ? .jpeg : .png)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.background = RGBColor(red: 10, green: 200, blue: 30)
            if jpeg { options.inputPolicy = StreamingMatteTests.reducing }
            let colour = RGBColor(red: 0x81, green: 0xd4, blue: 0xfa)
            let outputs: [AnswerOutput] = [
                .cutoutPNG, .cutoutJPEG, .cutoutPNGOver(colour, opacity: 255), .cutoutPNGOver(colour, opacity: 0x77),
                .cutoutPNGOver(colour, opacity: 0), .mask(.jpeg), .mask(.png), .colours,
            ]
            let streamed = try await matter.matte(encoded: bytes, answering: outputs, options: options, studio: StudioTrimap(), stripsAbove: 0)
            #expect(streamed.isStreamed)
            #expect(streamed.outputs.count == outputs.count)

            let whole = try await matter.studioMatte(try Image(decoding: bytes), options: options)
            let threads = EncodingOptions(threads: 2)
            let expected: [[UInt8]] = [
                try whole.cutoutPNG(threads: 2),
                try whole.composited(over: options.background).encoded(as: .jpeg),
                try whole.composited(over: colour).encoded(as: .png, options: threads),
                try Self.naiveOver(whole, colour: colour, opacity: 0x77).encoded(as: .png),
                try Self.naiveOver(whole, colour: colour, opacity: 0).encoded(as: .png),
                try whole.matte.encoded(as: .jpeg),
                try whole.matte.encoded(as: .png),
                try whole.foreground.encoded(as: .jpeg),
            ]
            for (index, (made, want)) in zip(streamed.outputs, expected).enumerated() {
                #expect(made.joined == want, "\(outputs[index]): \(made.count) vs \(want.count) bytes")
            }
            #expect(streamed.subjectBounds == SubjectBounds.of(whole.matte))
            // Large answers are held in several chunks, none over the chunk size.
            if width > 2000 {
                #expect(streamed.outputs[0].chunks.count > 1)
                #expect(streamed.outputs[0].chunks.allSatisfy { $0.count <= ChunkedMemorySink.chunkSize })
            }

            // The same call on the whole path gives the same bytes.
            let small = try await matter.matte(encoded: bytes, answering: outputs, options: options, studio: StudioTrimap())
            #expect(!small.isStreamed)
            #expect(small.outputs.map(\.joined) == expected)

            // Not vacuous: the translucent answer is partly transparent where the opaque one is not,
            // and lies between the colour and the subject.
            let translucent = try Image(decoding: streamed.outputs[3].joined)
            let opaque = try Image(decoding: streamed.outputs[2].joined)
            #expect(translucent.layout == .rgba && opaque.layout == .rgb)
            #expect(translucent[2, 2, 3] == 0x77 && translucent[2, 2, 0] == 0x81)
            #expect(opaque[2, 2, 0] == 0x81 && opaque[2, 2, 2] == 0xfa)
        }
    }

    /// A crop to the subject in strips (a bounds pass, then only the crop's rows and columns
    /// encoded) and whole: the subject's box handed to `cropping` is the whole result's, and
    /// every output is the whole result's matte and colours cropped to the rectangle it gives,
    /// then encoded. Reduced for the working copy (guided upsampling, foreground correction),
    /// with a guided filter after the preset (its sums carried from strip to strip) in one
    /// case; crops at the subject (touching the bottom edge) and inside the picture, starting
    /// and ending mid-strip at odd columns.
    @Test(arguments: [false, true])
    func cropsInStripsAreByteIdenticalToTheWholePictureCropped(_ guided: Bool) async throws {
        try await LargeMemoryTests.exclusively {
            let photo = StreamingMatteTests.scene(width: 900, height: 700)
            let bytes = try photo.encoded(as: .jpeg)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.inputPolicy = InputPolicy(maximumSide: 400, workingShortSide: 300)
            options.background = RGBColor(red: 10, green: 200, blue: 30)
            if guided { options.operations = MatteOperations.product.appending(.guidedFilter(radius: 4, epsilon: 1e-3)) }
            let colour = RGBColor(red: 0x81, green: 0xd4, blue: 0xfa)
            let outputs: [AnswerOutput] = [
                .cutoutPNG, .cutoutJPEG, .mask(.png), .mask(.jpeg), .cutoutPNGOver(colour, opacity: 255), .colours,
            ]
            let whole = try await matter.studioMatte(try Image(decoding: bytes), options: options)
            let subject = try #require(SubjectBounds.of(whole.matte))
            let grown = ImageRect(x: subject.x - 9, y: subject.y - 31, width: subject.width + 18, height: subject.height + 62)
                .clamped(toWidth: 900, height: 700)
            let inside = ImageRect(x: 101, y: 257, width: 333, height: 300)
            #expect(grown.y + grown.height == 700 && grown.y > 0 && grown.x > 0, "the crop at the subject: \(grown)")
            for rect in [grown, inside] {
                let seen = Mutex<[ImageRect?]>([])
                let cropping: SubjectCrop = { box, width, height in
                    seen.withLock { $0.append(box) }
                    #expect(width == 900 && height == 700)
                    guard let box, rect == grown else { return rect }
                    return ImageRect(x: box.x - 9, y: box.y - 31, width: box.width + 18, height: box.height + 62)
                        .clamped(toWidth: width, height: height)
                }
                let streamed = try await matter.matte(encoded: bytes, answering: outputs, options: options, studio: StudioTrimap(),
                                                      stripsAbove: 0, cropping: cropping)
                #expect(streamed.isStreamed && streamed.crop == rect && streamed.subjectBounds == subject)
                #expect(seen.withLock { $0 } == [subject], "the bounds pass finds the whole result's box")
                let small = try await matter.matte(encoded: bytes, answering: outputs, options: options, studio: StudioTrimap(),
                                                   cropping: cropping)
                #expect(!small.isStreamed && small.crop == rect && small.subjectBounds == subject)

                let matte = whole.matte.cropped(to: rect), colours = whole.foreground.cropped(to: rect)
                let expected: [[UInt8]] = [
                    try Compositing.cutout(colours, matte: matte).encoded(as: .png),
                    try Compositing.composite(colours, matte: matte, over: .color(options.background)).encoded(as: .jpeg),
                    try matte.encoded(as: .png),
                    try matte.encoded(as: .jpeg),
                    try Compositing.composite(colours, matte: matte, over: .color(colour)).encoded(as: .png),
                    try colours.encoded(as: .jpeg),
                ]
                for (index, want) in expected.enumerated() {
                    #expect(streamed.outputs[index].joined == want, "\(rect) \(outputs[index]) in strips")
                    #expect(small.outputs[index].joined == want, "\(rect) \(outputs[index]) whole")
                }
                // Not vacuous: the crop's size, and the subject in it.
                let cut = try Image(decoding: streamed.outputs[0].joined)
                #expect(cut.width == rect.width && cut.height == rect.height && cut.layout == .rgba)
                #expect(Set((0..<cut.height).map { cut[cut.width / 2, $0, 3] }).count > 2)
            }
        }
    }

    /// What `cropping` throws (for example: no subject to crop to) is what the call throws, in
    /// strips and whole; a rectangle outside the picture is a typed error.
    @Test func aCropThatThrowsFailsTheCall() async throws {
        struct NoSubject: Error {}
        let photo = Image(width: 300, height: 200, layout: .rgb) { _, _, _ in 240 }
        let bytes = try photo.encoded(as: .png)
        let matter = try Matter(threads: 2)
        for stripsAbove in [0, Int.max] {
            let calls = Mutex(0)
            await #expect(throws: NoSubject.self) {
                _ = try await matter.matte(encoded: bytes, answering: [.cutoutPNG], studio: StudioTrimap(), stripsAbove: stripsAbove,
                                           cropping: { _, _, _ in
                                               calls.withLock { $0 += 1 }
                                               throw NoSubject()
                                           })
            }
            #expect(calls.withLock { $0 } == 1, "\(stripsAbove)")
            // A rectangle reaching past the picture's right edge.
            await #expect(throws: ImageError.self) {
                _ = try await matter.matte(encoded: bytes, answering: [.cutoutPNG], studio: StudioTrimap(), stripsAbove: stripsAbove,
                                           cropping: { _, _, _ in ImageRect(x: 250, y: 0, width: 51, height: 10) })
            }
        }
    }

    /// The translucent "over" against the per-pixel formula, on every matte value.
    @Test func overRowsFollowTheFormula() throws {
        let width = 256
        var colours = Image(width: width, height: 2, layout: .rgb)
        var matte = Image(width: width, height: 2, layout: .gray)
        for x in 0..<width {
            for y in 0..<2 {
                for k in 0..<3 { colours[x, y, k] = UInt8((x * (k + 3) + y * 91) % 256) }
                matte[x, y, 0] = UInt8(y == 0 ? x : 255 - x)
            }
        }
        let colour = RGBColor(red: 200, green: 17, blue: 99)
        for opacity: UInt8 in [0, 1, 128, 254] {
            let made = try Compositing.cutout(colours, matte: matte, over: colour, opacity: opacity, pool: ThreadPool(threadCount: 2))
            let result = MattingResult(matte: matte, foreground: colours)
            let expected = try Self.naiveOver(result, colour: colour, opacity: opacity)
            #expect(made == expected, "opacity \(opacity)")
        }
    }

    /// Decoding reduced, by rows: the pixels and profile of decoding whole and resizing, for
    /// files read by rows (upright, mirrored), read whole (turned) and not reduced.
    @Test(arguments: [1, 2, 6])
    func reducedDecodingEqualsDecodingWholeThenResizing(_ orientation: Int) throws {
        let upright = StreamingMatteTests.scene(width: 700, height: 530)
        for format in [ImageFormat.jpeg, .png] {
            let bytes = try OrientedFiles.file(upright, orientation: orientation, format: format)
            let whole = try Image(decoding: bytes)
            let pool = ThreadPool(threadCount: 2)
            for target in [(width: 233, height: 177), (width: 700, height: 100), (width: whole.width, height: whole.height)] {
                var asked: (Int, Int)?
                let reduced = try Image(decoding: bytes, reducedTo: { w, h in asked = (w, h); return target }, pool: pool)
                #expect(asked.map { $0 == (whole.width, whole.height) } == true, "the upright size is given")
                let expected = whole.resized(width: target.width, height: target.height, filter: .area)
                #expect(reduced == expected, "\(format) \(orientation) \(target)")
                #expect(reduced.colorProfile == whole.colorProfile)
                #expect(reduced.width == target.width && reduced.height == target.height)
            }
            #expect(try Image(decoding: bytes, reducedTo: { _, _ in nil }) == whole)
        }
    }

    /// The chunked sink keeps the bytes in order across chunk boundaries.
    @Test func chunkedSinkKeepsTheBytesInOrder() throws {
        let sink = ChunkedMemorySink()
        let piece = (0..<(ChunkedMemorySink.chunkSize / 3 + 7)).map { UInt8(truncatingIfNeeded: $0 * 31) }
        var expected: [UInt8] = []
        for _ in 0..<5 {
            try piece.withUnsafeBytes { try sink.write($0) }
            expected += piece
        }
        try sink.write(whole: [1, 2, 3])
        expected += [1, 2, 3]
        try sink.commit()
        let bytes = EncodedBytes(chunks: sink.chunks)
        #expect(bytes.joined == expected && bytes.count == expected.count)
        #expect(bytes.chunks.count == 3 && bytes.chunks.last == [1, 2, 3])
    }

    /// The reference: the cut-out, then each pixel laid on the colour in `Double`, one at a time.
    static func naiveOver(_ result: MattingResult, colour c: RGBColor, opacity: UInt8) throws -> Image {
        var out = try Compositing.cutout(result.foreground, matte: result.matte)
        let bgA = Double(opacity) / 255
        for y in 0..<out.height {
            for x in 0..<out.width {
                let a = Double(out[x, y, 3]) / 255
                let outA = a + bgA * (1 - a)
                guard outA > 0 else { continue }
                for k in 0..<3 {
                    let bg = Double(k == 0 ? c.red : k == 1 ? c.green : c.blue)
                    let v = (Double(out[x, y, k]) * a + bg * bgA * (1 - a)) / outA
                    out[x, y, k] = UInt8(min(255, max(0, v.rounded())))
                }
                out[x, y, 3] = UInt8(min(255, (outA * 255).rounded()))
            }
        }
        return out
    }
}
