import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingFiles
import MattingTestSupport

/// `Matter.matte(fileAt:trimap:writing:)` and the strip path's guided filter and wide
/// erosion: strips forced on small photos (`stripsAbove: 0`), files byte-identical to the
/// whole-picture path (`matte(_:trimap:)`, `studioMatte`), typed errors naming the trimap,
/// nothing left on failure or cancellation.
///
/// Tolerance: none (see `StreamingMatteTests`); the trimap is reduced by the same nearest
/// taps and the guided filter's running sums are carried row to row in the whole filter's order.
@Suite("Matter: trimaps and guided filters in strips", .serialized)
struct StreamingTrimapTests {
    /// The trimap of `StreamingMatteTests.scene`: 255 inside the silhouette shrunk by `band`
    /// (in quarter-size pixels), 0 outside it grown by `band`, 128 between; made at a quarter
    /// of the size and upscaled (nearest), in `layout`.
    static func trimap(width: Int, height: Int, layout: PixelLayout = .gray) -> Image {
        let w = max(8, width / 4), h = max(8, height / 4)
        let small = Image(width: w, height: h, layout: .gray) { x, y, _ in
            let u = (Double(x) + 0.5) / Double(w), v = (Double(y) + 0.5) / Double(h)
            func inside(_ grow: Double) -> Bool {
                let head = pow((u - 0.5) / (0.16 + grow), 2) + pow((v - 0.32) / (0.14 + grow), 2) < 1
                let body = v > 0.5 - grow && pow((u - 0.5) / (0.38 + grow), 2) + pow((v - 1.05) / (0.55 + grow), 2) < 1
                return head || body
            }
            return inside(-0.02) ? 255 : (inside(0.02) ? 128 : 0)
        }
        return small.resized(width: width, height: height, filter: .nearest).converted(to: layout)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, format: ImageFormat, trimapLayout: PixelLayout, trimapFormat: ImageFormat
        let operations: MatteOperations?
        var enhance = false
        var testDescription: String {
            "\(width)×\(height) \(format) cut-out, \(trimapLayout) \(trimapFormat) trimap, \(operations.map { "\($0.steps)" } ?? "default")"
                + (enhance ? ", pre-enhanced" : "")
        }
    }

    static let cases: [Case] = [
        // Not reduced: the trimap is read whole at the working size.
        Case(width: 1200, height: 1800, format: .png, trimapLayout: .gray, trimapFormat: .png, operations: nil),
        // Reduced (to `StreamingMatteTests.reducing`'s working size, as tens of megapixels are
        // by default): nearest taps while reading; a height no multiple of a strip; an RGB
        // trimap (luma).
        Case(width: 1200, height: 867, format: .png, trimapLayout: .rgb, trimapFormat: .png, operations: nil),
        Case(width: 889, height: 1201, format: .jpeg, trimapLayout: .gray, trimapFormat: .png, operations: .portrait),
        Case(width: 1501, height: 1000, format: .png, trimapLayout: .grayAlpha, trimapFormat: .png,
             operations: MatteOperations([MatteOperation.guidedFilter(radius: 8, epsilon: 1e-4), .erode(radius: 12)])),
        // Pre-enhanced: the photo's rows through the histogram pass and the enhanced rows.
        Case(width: 1200, height: 850, format: .png, trimapLayout: .gray, trimapFormat: .png, operations: nil, enhance: true),
    ]

    @Test(arguments: cases)
    func trimapStripsAreByteIdenticalToTheWholePicture(_ c: Case) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.jpg")
            try StreamingMatteTests.scene(width: c.width, height: c.height).write(to: input)
            let trimapFile = dir.appendingPathComponent(c.trimapFormat == .png ? "trimap.png" : "trimap.jpg")
            try Self.trimap(width: c.width, height: c.height, layout: c.trimapLayout).write(to: trimapFile)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.operations = c.operations
            options.enhance = c.enhance
            if c.width != 1200 || c.height != 1800 { options.inputPolicy = StreamingMatteTests.reducing }
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), format: c.format,
                                          mask: dir.appendingPathComponent("mask.png"))
            let streamed = try await matter.matte(fileAt: input, trimap: trimapFile, writing: outputs, options: options, stripsAbove: 0)
            #expect(streamed.isStreamed)

            let whole = try await matter.matte(try Image(contentsOf: input), trimap: try Image(contentsOf: trimapFile), options: options)
            let mask = try [UInt8](Data(contentsOf: try #require(outputs.mask)))
            #expect(mask == (try whole.matte.encoded(as: .png)), "mask differs")
            let cutout = try [UInt8](Data(contentsOf: outputs.cutout))
            let expected = c.format == .png
                ? try whole.cutoutPNG(threads: 2) : try whole.composited(over: options.background).encoded(as: .jpeg)
            #expect(cutout == expected, "cut-out differs")
            // Not vacuous: the trimap's subject is opaque, its backdrop clear, and the unknown band is solved.
            let alpha = whole.matte
            #expect(alpha[c.width / 2, c.height * 3 / 4, 0] == 255 && alpha[2, 2, 0] == 0)
            var partial = 0
            alpha.withUnsafeBufferPointer { p, stride in
                for y in 0..<c.height { for x in 0..<c.width where p[y * stride + x] != 0 && p[y * stride + x] != 255 { partial += 1 } }
            }
            #expect(partial > 1000, "only \(partial) partial values")
            #expect(ProgramRunner.files(in: dir) == ["cutout.png", "mask.png", "photo.jpg", trimapFile.lastPathComponent].sorted())
        }
    }

    /// `MatteJob` with a trimap and no preview goes through the strips: the same files.
    @Test func matteJobStreamsTrimaps() async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.png")
        try StreamingMatteTests.scene(width: 900, height: 700).write(to: input)
        let trimapFile = dir.appendingPathComponent("trimap.png")
        try Self.trimap(width: 900, height: 700).write(to: trimapFile)
        var job = MatteJob(input: input, output: dir.appendingPathComponent("out/cutout.png"), source: .trimap(trimapFile))
        job.maskOutput = dir.appendingPathComponent("out/mask.png")
        job.stripsAbove = 0
        let matter = try Matter(threads: 2)
        let outcome = try await job.run(on: matter)
        #expect(outcome.isStreamed && outcome.result == nil)
        let whole = try await matter.matte(try Image(contentsOf: input), trimap: try Image(contentsOf: trimapFile))
        #expect(try [UInt8](Data(contentsOf: job.output)) == (try whole.cutoutPNG(threads: 2)))
        #expect(try [UInt8](Data(contentsOf: try #require(job.maskOutput))) == (try whole.matte.encoded(as: .png)))
    }

    /// A trimap of another size, one with no known pixel, or a file that is no picture: a
    /// typed error naming the trimap file, before anything is written; nothing left.
    @Test func badTrimapsNameTheFileAndWriteNothing() async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.jpg")
        try StreamingMatteTests.scene(width: 1300, height: 900).write(to: input)
        let small = dir.appendingPathComponent("small-trimap.png")
        try Self.trimap(width: 1300, height: 899).write(to: small)
        let turned = dir.appendingPathComponent("turned-trimap.png")
        try Self.trimap(width: 900, height: 1300).write(to: turned)
        let junk = dir.appendingPathComponent("junk-trimap.png")
        try Data("not a picture".utf8).write(to: junk)
        // All unknown: a picture of the right size that leaves the matte undetermined.
        let gray = dir.appendingPathComponent("gray-trimap.png")
        try Image(width: 1300, height: 900, layout: .gray, repeating: 128).write(to: gray)
        let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("out.png"), mask: dir.appendingPathComponent("mask.png"))
        let matter = try Matter(threads: 2)
        for threshold in [0, Matter.defaultStripThreshold] {
            for file in [small, turned] {
                do {
                    _ = try await matter.matte(fileAt: input, trimap: file, writing: outputs, stripsAbove: threshold)
                    Issue.record("\(file.lastPathComponent): no error")
                } catch let MattingError.sizeMismatch(reason) {
                    #expect(reason.contains(file.path) && reason.contains("1300×900"), "\(reason)")
                }
            }
            do {
                _ = try await matter.matte(fileAt: input, trimap: gray, writing: outputs, stripsAbove: threshold)
                Issue.record("all-unknown trimap: no error")
            } catch let MattingError.unusableTrimap(reason) {
                #expect(reason.contains(gray.path) && reason.contains("no pixel as known"), "\(reason)")
            }
            do {
                _ = try await matter.matte(fileAt: input, trimap: junk, writing: outputs, stripsAbove: threshold)
                Issue.record("junk: no error")
            } catch let error as ImageError {
                #expect("\(error)".contains(junk.path), "\(error)")
            }
            #expect(!ProgramRunner.files(in: dir).contains { $0.hasPrefix("out") || $0.hasPrefix("mask") || $0.hasPrefix(".") },
                    "\(ProgramRunner.files(in: dir))")
        }
        // An output naming the trimap is refused before anything is read.
        await #expect(throws: ImageError.self) {
            _ = try await matter.matte(fileAt: input, trimap: small, writing: StreamedOutputs(cutout: small), stripsAbove: 0)
        }
        #expect(try Image(contentsOf: small).height == 899)
    }

    /// Cancelled while the strips are written, with a trimap and a guided filter:
    /// `CancellationError` and no output or temporary file left.
    @Test func cancellationLeavesNothing() async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.jpg")
            try StreamingMatteTests.scene(width: 1500, height: 2000).write(to: input)
            let trimapFile = dir.appendingPathComponent("trimap.png")
            try Self.trimap(width: 1500, height: 2000).write(to: trimapFile)
            var options = MattingOptions(inputPolicy: StreamingMatteTests.reducing)
            options.operations = [MatteOperation.guidedFilter(radius: 8, epsilon: 1e-4)]
            let matter = try Matter(threads: 2)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let started = Mutex(false)
            let task = Task {
                try await matter.matte(fileAt: input, trimap: trimapFile, writing: outputs, options: options, stripsAbove: 0,
                                       progress: { progress in
                    if progress.stage == .upsample { started.withLock { $0 = true } }
                })
            }
            while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(ProgramRunner.files(in: dir) == ["photo.jpg", "trimap.png"], "\(ProgramRunner.files(in: dir))")
        }
    }

    struct StudioCase: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, operations: MatteOperations
        /// Reduced to ``StreamingMatteTests/reducing``'s working size.
        var reduced = false
        var testDescription: String { "\(width)×\(height) \(operations.steps)\(reduced ? " to 640 px" : "")" }
    }

    /// The model-free studio path with a guided filter and a wide erosion now streams (it
    /// took the whole path before), and so does no post-processing at all (the trimap's
    /// default, `--preset none`: no halo, so the strips after the first keep no rows; this
    /// failed a precondition before): the whole path's bytes.
    @Test(arguments: [
        StudioCase(width: 900, height: 700, operations: .identity),
        StudioCase(width: 1500, height: 1100, operations: MatteOperations.product
            .appending(.guidedFilter(radius: 6, epsilon: 1e-3)).appending(.erode(radius: 10))),
        StudioCase(width: 1300, height: 951, operations: MatteOperations.product
            .appending(.guidedFilter(radius: 6, epsilon: 1e-3)).appending(.erode(radius: 10)), reduced: true),
    ])
    func studioPostprocessingStreams(_ c: StudioCase) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.png")
            try StreamingMatteTests.scene(width: c.width, height: c.height).write(to: input)
            var options = MattingOptions()
            options.operations = c.operations
            if c.reduced { options.inputPolicy = StreamingMatteTests.reducing }
            let matter = try Matter(threads: 2)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let streamed = try await matter.matte(fileAt: input, writing: outputs, options: options, studio: StudioTrimap(), stripsAbove: 0)
            #expect(streamed.isStreamed)
            let whole = try await matter.studioMatte(try Image(contentsOf: input), options: options)
            #expect(try [UInt8](Data(contentsOf: try #require(outputs.mask))) == (try whole.matte.encoded(as: .png)), "mask differs")
            #expect(try [UInt8](Data(contentsOf: outputs.cutout)) == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
        }
    }
}
