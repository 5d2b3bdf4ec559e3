import Foundation
import Testing
@testable import MattingKit
@testable import MattingFiles
import MattingTestSupport

/// The preview sheet and turned trimaps on the strip path (forced on small photos with
/// `stripsAbove: 0`): the preview's panels are area-downscaled from the rows as they go by,
/// and a trimap with an EXIF orientation of 3–8 is read upright through a spill file of its
/// own. Both must give the whole-picture path's bytes exactly (tolerance: none; the streaming
/// resizer computes what `resized` computes in the same order).
@Suite("Matter: previews and turned trimaps in strips", .serialized)
struct StreamingPreviewTests {
    struct PreviewCase: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, layout: PixelLayout, orientation: Int, format: ImageFormat
        var panelSide = 512
        var enhance = false
        var trimap = false
        var testDescription: String {
            "\(width)×\(height) \(layout), orientation \(orientation), \(format) cut-out, panels ≤ \(panelSide)"
                + (enhance ? ", pre-enhanced" : "") + (trimap ? ", trimap" : ", studio")
        }
    }

    static let previewCases: [PreviewCase] = [
        // Reduced panels; a height no multiple of a strip.
        PreviewCase(width: 900, height: 701, layout: .rgb, orientation: 1, format: .png),
        // Panels at the photo's size (no resize), a gray photo, a JPEG cut-out.
        PreviewCase(width: 300, height: 200, layout: .gray, orientation: 1, format: .jpeg),
        // Turned through the spill file, pre-enhanced: the photo panel shows the rows as
        // decoded, not the enhanced ones; small panels (many input rows to one panel row).
        PreviewCase(width: 700, height: 530, layout: .rgb, orientation: 6, format: .png, panelSide: 40, enhance: true),
        // A trimap instead of the backdrop, an RGBA photo, mirrored.
        PreviewCase(width: 640, height: 480, layout: .rgba, orientation: 2, format: .png, panelSide: 100, trimap: true),
    ]

    /// `MatteJob` with a preview now streams, and the sheet (and the other files) hold the
    /// whole-picture path's bytes: `PreviewSheet.sheet(photo:result:background:)` of the
    /// decoded photo and its whole result.
    @Test(arguments: previewCases)
    func previewsStreamWithTheWholePicturesBytes(_ c: PreviewCase) async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.png")
        let upright = StreamingMatteTests.scene(width: c.width, height: c.height).converted(to: c.layout)
        try Data(try OrientedFiles.file(upright, orientation: c.orientation, format: .png)).write(to: input)
        let trimapFile = dir.appendingPathComponent("trimap.png")
        if c.trimap { try StreamingTrimapTests.trimap(width: c.width, height: c.height).write(to: trimapFile) }
        var options = MattingOptions()
        options.enhance = c.enhance
        options.background = RGBColor(red: 10, green: 200, blue: 90)
        var job = MatteJob(
            input: input, output: dir.appendingPathComponent(c.format == .png ? "out/cutout.png" : "out/cutout.jpg"),
            format: c.format, source: c.trimap ? .trimap(trimapFile) : .studio, options: options,
            maskOutput: dir.appendingPathComponent("out/mask.png"), previewOutput: dir.appendingPathComponent("previews/sheet.png"),
            preview: PreviewSheet(maximumPanelSide: c.panelSide, gap: 3))
        job.stripsAbove = 0
        let matter = try Matter(threads: 2)
        let outcome = try await job.run(on: matter)
        #expect(outcome.isStreamed && outcome.result == nil)
        #expect(outcome.width == c.width && outcome.height == c.height)

        let photo = try Image(contentsOf: input)
        let whole = c.trimap
            ? try await matter.matte(photo, trimap: try Image(contentsOf: trimapFile), options: options)
            : try await matter.studioMatte(photo, options: options)
        let sheet = try job.preview.sheet(photo: photo, result: whole, background: options.background)
        let previewBytes = try [UInt8](Data(contentsOf: try #require(job.previewOutput)))
        #expect(previewBytes == (try sheet.encoded(as: .png)), "preview differs")
        #expect(try [UInt8](Data(contentsOf: try #require(job.maskOutput))) == (try whole.matte.encoded(as: .png)), "mask differs")
        let cutout = c.format == .png
            ? try whole.cutoutPNG(threads: 2) : try whole.composited(over: options.background).encoded(as: .jpeg)
        #expect(try [UInt8](Data(contentsOf: job.output)) == cutout, "cut-out differs")

        // Not vacuous: the sheet has the documented size, and its matte panel both clear
        // backdrop and opaque subject.
        let (w, h) = job.preview.panelSize(width: c.width, height: c.height)
        #expect(sheet.width == 4 * w + 9 && sheet.height == h)
        let mattePanel = sheet.cropped(to: ImageRect(x: w + 3, y: 0, width: w, height: h))
        #expect(mattePanel[0, 0, 0] < 30 && mattePanel[w / 2, h * 3 / 4, 0] > 200,
                "corner \(mattePanel[0, 0, 0]), subject \(mattePanel[w / 2, h * 3 / 4, 0])")
        // The photo panel is the photo as decoded (not enhanced).
        #expect(sheet.cropped(to: ImageRect(x: 0, y: 0, width: w, height: h))
            == photo.converted(to: .rgb).resized(width: w, height: h, filter: .area))
        #expect(ProgramRunner.files(in: dir.appendingPathComponent("out")) == ["cutout.\(c.format.fileExtension)", "mask.png"].sorted())
        #expect(ProgramRunner.files(in: dir.appendingPathComponent("previews")) == ["sheet.png"])
    }

    /// A job whose preview cannot be put in place (its name is a folder) fails when the
    /// outputs are committed, the last of them: the cut-out and mask already renamed into
    /// place are removed again, so nothing is left.
    @Test func aPreviewThatFailsLeavesNothing() async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.png")
        try StreamingMatteTests.scene(width: 400, height: 300).write(to: input)
        let blocked = dir.appendingPathComponent("sheet.png")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        try Data("a file".utf8).write(to: blocked.appendingPathComponent("inside"))
        var job = MatteJob(input: input, output: dir.appendingPathComponent("cutout.png"), source: .studio,
                           maskOutput: dir.appendingPathComponent("mask.png"), previewOutput: blocked)
        job.stripsAbove = 0
        await #expect(throws: ImageError.self) { _ = try await job.run(on: try Matter(threads: 2)) }
        #expect(ProgramRunner.files(in: dir) == ["photo.png", "sheet.png"], "\(ProgramRunner.files(in: dir))")
    }

    struct TrimapCase: Sendable, CustomTestStringConvertible {
        let orientation: Int, width: Int, height: Int, layout: PixelLayout, format: ImageFormat
        var testDescription: String { "trimap orientation \(orientation), \(layout) \(format), upright \(width)×\(height)" }
    }

    /// A trimap file with an EXIF orientation of 3–8 streams (it took the whole path before),
    /// read upright through a spill file of its own that is closed again afterwards: the
    /// whole path's bytes (which decodes the trimap and turns it upright first).
    @Test(arguments: [
        TrimapCase(orientation: 3, width: 700, height: 530, layout: .gray, format: .png),
        TrimapCase(orientation: 6, width: 530, height: 700, layout: .gray, format: .png),
        TrimapCase(orientation: 6, width: 901, height: 611, layout: .rgb, format: .jpeg),
    ])
    func turnedTrimapsStreamWithTheWholePicturesBytes(_ c: TrimapCase) async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.jpg")
        try StreamingMatteTests.scene(width: c.width, height: c.height).write(to: input)
        let trimapFile = dir.appendingPathComponent(c.format == .png ? "trimap.png" : "trimap.jpg")
        let upright = StreamingTrimapTests.trimap(width: c.width, height: c.height, layout: c.layout)
        try Data(try OrientedFiles.file(upright, orientation: c.orientation, format: c.format)).write(to: trimapFile)
        let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
        let matter = try Matter(threads: 2)
        let before = StreamingMatteTests.openSpillFiles()
        let streamed = try await matter.matte(fileAt: input, trimap: trimapFile, writing: outputs, stripsAbove: 0)
        #expect(streamed.isStreamed)
        let left = await StreamingMatteTests.spillFilesLeftOpen(besides: before)
        #expect(left.isEmpty, "left open: \(left)")

        let trimap = try Image(contentsOf: trimapFile)
        #expect(trimap.width == c.width && trimap.height == c.height)
        let whole = try await matter.matte(try Image(contentsOf: input), trimap: trimap)
        #expect(try [UInt8](Data(contentsOf: try #require(outputs.mask))) == (try whole.matte.encoded(as: .png)), "mask differs")
        #expect(try [UInt8](Data(contentsOf: outputs.cutout)) == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
        // Not vacuous: the subject is where the upright trimap has it.
        let alpha = whole.matte
        #expect(alpha[c.width / 2, c.height * 3 / 4, 0] > 245 && alpha[2, 2, 0] < 10)
        #expect(ProgramRunner.files(in: dir) == ["cutout.png", "mask.png", "photo.jpg", trimapFile.lastPathComponent].sorted())
    }
}
