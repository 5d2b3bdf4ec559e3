import Foundation
import Testing
import MattingFiles
import MattingKit
import MattingTestSupport

/// `matte` run as a process, the way users run it. The default-model cases need
/// `Scripts/fetch-models.sh` to have run (CI does); a missing model fails them with that hint.
@Suite("matte program")
struct MatteProgramTests {
    static func run(_ arguments: [String]) throws -> ProgramRunner.Run { try ProgramRunner.run("matte", arguments) }
    static func folder() throws -> URL { try ProgramRunner.folder() }
    static func files(in folder: URL) -> [String] { ProgramRunner.files(in: folder) }

    @Test func defaultOutputIsAnRGBAPNGBesideTheInput() throws {
        let dir = try Self.folder()
        let scene = SyntheticComposite(width: 120, height: 90)
        let input = dir.appendingPathComponent("photo.jpg")
        try scene.image.write(to: input)
        let run = try Self.run([input.path, "--save-mask", dir.appendingPathComponent("mask.png").path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let cutout = try Image(contentsOf: dir.appendingPathComponent("photo-matte.png"))
        #expect(cutout.layout == .rgba && cutout.width == 120 && cutout.height == 90)
        let mask = try Image(contentsOf: dir.appendingPathComponent("mask.png"))
        #expect(mask.layout == .gray && mask.width == 120 && mask.height == 90)
        #expect(cutout.channel(3) == mask)
        #expect(run.stdout.contains("photo-matte.png"))
        #expect(Self.files(in: dir) == ["mask.png", "photo-matte.png", "photo.jpg"])
    }

    @Test func trimapAndJPEGOutputOverABackground() throws {
        let dir = try Self.folder()
        let scene = SyntheticComposite(width: 120, height: 90)
        let input = dir.appendingPathComponent("photo.png"), trimap = dir.appendingPathComponent("trimap.png")
        try scene.image.write(to: input)
        try scene.trimap.write(to: trimap)
        let output = dir.appendingPathComponent("out.jpg")
        let run = try Self.run([input.path, "--trimap", trimap.path, "-o", output.path, "--background", "#00ff00",
                                "--alpha-threshold", "0", "--erode", "0", "--no-feather"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let flat = try Image(contentsOf: output)
        #expect(flat.layout == .rgb && flat.width == 120)
        // The far corner is background: green within JPEG error.
        #expect(flat[0, 0, 1] > 230 && flat[0, 0, 0] < 30 && flat[0, 0, 2] < 30, "\(flat.pixel(x: 0, y: 0))")
    }

    @Test func badInputFailsWithOneLineAndNoOutput() throws {
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("notes.png")
        try Data("this is not a picture\n".utf8).write(to: input)
        let run = try Self.run([input.path, "--trimap", input.path])
        #expect(run.status != 0)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("matte: ") && lines[0].contains("notes.png"), "stderr: \(run.stderr)")
        #expect(Self.files(in: dir) == ["notes.png"])
    }

    @Test func missingInputAndBadOptionsFail() throws {
        let dir = try Self.folder()
        let missing = try Self.run([dir.appendingPathComponent("nope.jpg").path, "--studio"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.jpg"))
        let badThreshold = try Self.run([dir.appendingPathComponent("nope.jpg").path, "--alpha-threshold", "99"])
        #expect(badThreshold.status != 0 && badThreshold.stderr.contains("alpha-threshold"))
        let badColour = try Self.run([dir.appendingPathComponent("nope.jpg").path, "--background", "green"])
        #expect(badColour.status != 0)
        #expect(Self.files(in: dir).isEmpty)
    }

    /// Each error line names the file it is about once: a photo given by a relative path is not
    /// named again by its absolute path, and a model error names the model, once, not the photo.
    @Test func errorsNameTheirFileOnce() throws {
        let dir = try Self.folder()
        let photo = dir.appendingPathComponent("photo.png")
        try SyntheticComposite(width: 48, height: 36).image.write(to: photo)
        let missing = try ProgramRunner.run("matte", ["nope.jpg", "--studio"], in: dir)
        #expect(missing.status == 1 && missing.errorLines.count == 1, "\(missing.stderr)")
        #expect(missing.stderr.components(separatedBy: "nope.jpg").count == 2, "\(missing.stderr)")
        for model in ["nope.onnx", "."] {
            let run = try ProgramRunner.run("matte", ["photo.png", "--model", model], in: dir)
            let name = model == "." ? dir.lastPathComponent : model
            #expect(run.status == 1 && run.errorLines.count == 1, "\(run.stderr)")
            #expect(run.stderr.components(separatedBy: name).count == 2 && !run.stderr.contains("photo.png"), "\(run.stderr)")
        }
        #expect(Self.files(in: dir) == ["photo.png"])
    }

    /// Values out of range — negative ones included — are one line on stderr and exit status 1,
    /// like every other bad input; an output name whose extension is no image format is
    /// refused unless --format says what to write.
    @Test func argumentErrorsAreOneLineWithStatusOne() throws {
        let dir = try Self.folder()
        let photo = dir.appendingPathComponent("photo.png")
        try SyntheticComposite(width: 48, height: 36).image.write(to: photo)
        for (option, value) in [("--erode", "-1"), ("--erode", "6"), ("--alpha-threshold", "-3"), ("--alpha-threshold", "51"),
                                ("--threads", "0"), ("--threads", "-2"), ("--repeat", "0"), ("--strips-above", "-1")] {
            let run = try Self.run([photo.path, option, value, "-o", dir.appendingPathComponent("out.png").path])
            #expect(run.status == 1, "\(option) \(value): status \(run.status)")
            #expect(run.errorLines.count == 1 && run.stderr.contains(option) && run.stderr.contains(value), "\(run.stderr)")
            #expect(!run.stderr.contains("Usage"), "\(run.stderr)")
        }
        let bmp = try Self.run([photo.path, "-o", dir.appendingPathComponent("out.bmp").path, "--studio"])
        #expect(bmp.status == 1 && bmp.errorLines.count == 1 && bmp.stderr.contains(".bmp"), "\(bmp.stderr)")
        #expect(Self.files(in: dir) == ["photo.png"])
        let forced = try Self.run([photo.path, "-o", dir.appendingPathComponent("out.bmp").path, "--format", "png", "--studio"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Image(contentsOf: dir.appendingPathComponent("out.bmp")).layout == .rgba)
    }

    /// A photo's ICC profile survives the whole pipeline: the PNG cut-out and the JPEG output
    /// carry the same profile, byte for byte (the mask, which is alpha, carries none).
    @Test func colourProfileReachesTheOutputs() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MattingImageTests/Fixtures/jpeg-icc-srgb.jpg")
        let profile = try #require(try Image(contentsOf: fixture).colorProfile)
        let dir = try Self.folder()
        for name in ["cut.png", "flat.jpg"] {
            let out = dir.appendingPathComponent(name)
            let run = try Self.run([fixture.path, "-o", out.path, "--studio"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try Image(contentsOf: out).colorProfile?.data == profile.data, "\(name)")
        }
    }

    /// A gray photo with a gray ICC profile (black-and-white exports carry one): its RGB
    /// cut-out cannot carry that profile, so the outputs are written without it, whole or in
    /// strips, as PNG or JPEG, instead of failing to encode.
    @Test func grayProfileOfAGrayPhotoIsLeftOutOfTheColourOutputs() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MattingImageTests/Fixtures")
        var icc = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("icc-srgb.icc")))
        icc.replaceSubrange(16..<20, with: Array("GRAY".utf8))
        var photo = SyntheticComposite(width: 60, height: 40).image.converted(to: .gray)
        photo.colorProfile = try ColorProfile(iccData: icc)
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("gray.jpg")
        try photo.write(to: input, format: .jpeg)
        #expect(try Image(contentsOf: input).colorProfile?.colorSpace == .gray)
        for name in ["cut.png", "flat.jpg"] {
            for extra in [[], ["--strips-above", "0"]] {
                let out = dir.appendingPathComponent(name)
                let run = try Self.run([input.path, "-o", out.path, "--studio"] + extra)
                #expect(run.status == 0, "\(name) \(extra): \(run.stderr)")
                #expect(try Image(contentsOf: out).colorProfile == nil, "\(name) \(extra)")
            }
        }
    }

    @Test func neverOverwritesTheInput() throws {
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("photo.png")
        let scene = SyntheticComposite(width: 60, height: 40)
        try scene.image.write(to: input)
        let before = try Data(contentsOf: input)
        let run = try Self.run([input.path, "--studio", "-o", dir.appendingPathComponent("./photo.png").path])
        #expect(run.status != 0 && run.stderr.contains("overwrite"))
        #expect(try Data(contentsOf: input) == before)
    }

    @Test func aFailedMaskWriteLeavesNoCutout() throws {
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("photo.png")
        try SyntheticComposite(width: 60, height: 40).image.write(to: input)
        // A folder where the mask should go: the write must fail after the cut-out was encoded.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("mask.png"), withIntermediateDirectories: false)
        let run = try Self.run([input.path, "--studio", "--save-mask", dir.appendingPathComponent("mask.png").path])
        #expect(run.status != 0 && run.stderr.contains("mask.png"), "stderr: \(run.stderr)")
        #expect(Self.files(in: dir) == ["mask.png", "photo.png"])
        #expect(Self.files(in: dir.appendingPathComponent("mask.png")).isEmpty)
    }

    @Test func missingOutputFoldersAreCreated() throws {
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("photo.png")
        try SyntheticComposite(width: 60, height: 40).image.write(to: input)
        let output = dir.appendingPathComponent("results/deeper/cut.png")
        let run = try Self.run([input.path, "--studio", "-o", output.path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(try Image(contentsOf: output).width == 60)
    }
}

extension MatteProgramTests {
    @Test func previewWritesAFourPanelContactSheet() throws {
        let dir = try Self.folder()
        let input = dir.appendingPathComponent("photo.png"), preview = dir.appendingPathComponent("sheets/photo-preview.png")
        try SyntheticComposite(width: 120, height: 90).image.write(to: input)
        let run = try Self.run([input.path, "--studio", "--preview", preview.path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.split(separator: "\n").map(String.init) == [dir.appendingPathComponent("photo-matte.png").path, preview.path])
        let sheet = try Image(contentsOf: preview)
        #expect(sheet.layout == .rgb && sheet.width == 4 * 120 + 3 * 8 && sheet.height == 90)
        // The second panel is the matte written beside it (no downscaling at this size).
        let cutout = try Image(contentsOf: dir.appendingPathComponent("photo-matte.png"))
        #expect(sheet.cropped(to: ImageRect(x: 128, y: 0, width: 120, height: 90)).channel(0) == cutout.channel(3))
    }
}
