import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingTestSupport

/// `Matter.matte(encoded:writing:)`: an upload's bytes matted in strips, the outputs encoded
/// into memory.
///
/// Tolerance: none, as for the file strip path (`StreamingMatteTests`): the rows are decoded
/// from the bytes by the same libpng and libjpeg calls, and every output must be byte for
/// byte the whole-picture result's encoding.
@Suite("Matter: strip processing from memory", .serialized)
struct EncodedMatteTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, input: ImageFormat, cutout: ImageFormat, mask: ImageFormat, studio: Bool
        var testDescription: String {
            "\(width)×\(height) \(input) in, \(cutout) cut-out, \(mask) mask\(studio ? " studio" : "")"
        }
    }

    static let cases: [Case] = [
        // Not reduced: the working copy is the photo.
        Case(width: 900, height: 700, input: .png, cutout: .png, mask: .png, studio: true),
        Case(width: 900, height: 1100, input: .jpeg, cutout: .jpeg, mask: .jpeg, studio: false),
        // Reduced (to `StreamingMatteTests.reducing`'s working size): guided upsampling and
        // foreground correction at full size.
        Case(width: 1200, height: 900, input: .jpeg, cutout: .png, mask: .png, studio: true),
        Case(width: 1200, height: 867, input: .png, cutout: .jpeg, mask: .jpeg, studio: true),
    ]

    @Test(arguments: cases)
    func memoryStripsAreByteIdenticalToTheWholePicture(_ c: Case) async throws {
        try await LargeMemoryTests.exclusively {
            let photo = StreamingMatteTests.scene(width: c.width, height: c.height)
            let bytes = try photo.encoded(as: c.input)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.background = RGBColor(red: 10, green: 200, blue: 30)
            if c.width == 1200 { options.inputPolicy = StreamingMatteTests.reducing }
            let studio = c.studio ? StudioTrimap() : nil
            let outputs = EncodedOutputs(cutout: c.cutout, mask: c.mask, colours: true)
            let streamed = try await matter.matte(encoded: bytes, writing: outputs, options: options, studio: studio, stripsAbove: 0)
            #expect(streamed.isStreamed)
            #expect(streamed.width == c.width && streamed.height == c.height)

            let decoded = try Image(decoding: bytes)
            let whole = c.studio
                ? try await matter.studioMatte(decoded, options: options)
                : try await matter.matte(decoded, options: options)
            let cutout = c.cutout == .png
                ? try whole.cutoutPNG(threads: 2) : try whole.composited(over: options.background).encoded(as: .jpeg)
            #expect(streamed.cutout == cutout, "cut-out differs")
            #expect(streamed.mask == (try whole.matte.encoded(as: c.mask)), "mask differs")
            #expect(streamed.colours == (try whole.foreground.encoded(as: .jpeg)), "colours differ")
            #expect(streamed.subjectBounds == Self.naiveBounds(whole.matte))

            // The same call on the whole path (the default threshold) gives the same bytes.
            let small = try await matter.matte(encoded: bytes, writing: outputs, options: options, studio: studio)
            #expect(!small.isStreamed)
            #expect(small.cutout == streamed.cutout && small.mask == streamed.mask && small.colours == streamed.colours)
            #expect(small.subjectBounds == streamed.subjectBounds)

            // Not vacuous: the studio matte finds the drawn subject; the network's is not empty.
            let alpha = try Image(decoding: try #require(streamed.mask))
            #expect(alpha.width == c.width && alpha.height == c.height)
            if c.studio {
                #expect(alpha[c.width / 2, c.height * 3 / 4, 0] > 200 && alpha[2, 2, 0] < 30)
                let box = try #require(streamed.subjectBounds)
                #expect(box.width < c.width || box.height < c.height, "\(box)")
            } else {
                #expect(streamed.subjectBounds != nil)
            }
        }
    }

    /// An upload with an EXIF orientation streams upright: mirrored (2) by reversing rows as
    /// they are decoded, turned or flipped (3–8) through the anonymous spill file, which is
    /// unnamed while it is open and closed when the call returns. Either way the bytes are
    /// the whole picture's, upright.
    @Test(arguments: [1, 2, 3, 6, 8])
    func orientedUploadsStreamUpright(_ orientation: Int) async throws {
        let upright = StreamingMatteTests.scene(width: 500, height: 380)
        let bytes = try OrientedFiles.file(upright, orientation: orientation, format: .jpeg)
        let matter = try Matter(threads: 2)
        let before = StreamingMatteTests.openSpillFiles()
        let spilled = Mutex<[String]>([])
        let streamed = try await matter.matte(
            encoded: bytes, writing: EncodedOutputs(cutout: .png, mask: .png), studio: StudioTrimap(), stripsAbove: 0,
            progress: { _ in
                let open = StreamingMatteTests.openSpillFiles().filter { !before.contains($0) }
                if !open.isEmpty { spilled.withLock { $0 = open } }
            })
        #expect(streamed.isStreamed)
        #expect(streamed.width == 500 && streamed.height == 380)
        let left = await StreamingMatteTests.spillFilesLeftOpen(besides: before)
        #expect(left.isEmpty, "the spill is closed: \(left)")
        let seen = spilled.withLock { $0 }
        // At least ours (other suites' tests may spill meanwhile), and never with a name.
        #expect(orientation <= 2 || (!seen.isEmpty && seen.allSatisfy { $0.hasSuffix("(deleted)") }), "\(seen)")
        let whole = try await matter.studioMatte(try Image(decoding: bytes))
        #expect(whole.matte.width == 500)
        #expect(streamed.cutout == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
        #expect(streamed.mask == (try whole.matte.encoded(as: .png)), "mask differs")
    }

    /// Only what is asked for is encoded.
    @Test func onlyTheOutputsAskedForAreMade() async throws {
        let bytes = try StreamingMatteTests.scene(width: 300, height: 400).encoded(as: .png)
        let matte = try await Matter(threads: 2).matte(
            encoded: bytes, writing: EncodedOutputs(cutout: nil, mask: .png), studio: StudioTrimap(), stripsAbove: 0)
        #expect(matte.cutout == nil && matte.colours == nil && matte.mask != nil)
    }

    /// Bad bytes: the decoders' typed errors, naming the source `<memory>`, on both paths.
    @Test func badBytesAreTypedErrors() async throws {
        let good = try StreamingMatteTests.scene(width: 600, height: 500).encoded(as: .jpeg)
        for (name, bytes) in [("truncated", Array(good.prefix(good.count / 2))), ("junk", Array("not a picture".utf8)), ("empty", [])] {
            for stripsAbove in [0, Matter.defaultStripThreshold] {
                do {
                    _ = try await Matter(threads: 2).matte(encoded: bytes, studio: StudioTrimap(), stripsAbove: stripsAbove)
                    Issue.record("\(name): no error")
                } catch let error as ImageError {
                    #expect("\(error)".contains("<memory>"), "\(name): \(error)")
                }
            }
        }
        // The pixel limit is checked from the header.
        await #expect(throws: ImageError.self) {
            _ = try await Matter(threads: 2).matte(
                encoded: good, studio: StudioTrimap(), decoding: DecodingOptions(maximumPixelCount: 1000), stripsAbove: 0)
        }
    }

    /// The bounding box of alpha above 0, pixel by pixel.
    static func naiveBounds(_ matte: Image) -> ImageRect? {
        var xs: [Int] = [], ys: [Int] = []
        for y in 0..<matte.height { for x in 0..<matte.width where matte[x, y, 0] > 0 { xs.append(x); ys.append(y) } }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return nil }
        return ImageRect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }
}
