import Foundation
import Testing
import MattingFiles
import MattingKit
import MattingTestSupport

@Suite("enhance program")
struct EnhanceProgramTests {
    static func run(_ arguments: [String]) throws -> ProgramRunner.Run { try ProgramRunner.run("enhance", arguments) }

    @Test(arguments: ["png", "jpg"])
    func outputIsTheLibrarysEnhancementAsLosslessPNG(inputExtension: String) throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.\(inputExtension)"), output = dir.appendingPathComponent("new/enhanced.png")
        try SyntheticComposite(width: 97, height: 61).image.write(to: input)
        let run = try Self.run([input.path, output.path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout == output.path + "\n")
        let bytes = try Data(contentsOf: output)
        #expect(ImageFormat(sniffing: bytes) == .png)
        let expected = try Enhancement().applied(to: try Image(contentsOf: input))
        #expect(try Image(contentsOf: output) == expected)
    }

    @Test func alphaPassesThrough() throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("rgba.png"), output = dir.appendingPathComponent("out.png")
        let rgba = SyntheticComposite(width: 40, height: 30).image.converted(to: .rgba)
            .replacingChannel(3, with: Image(width: 40, height: 30, layout: .gray) { x, _, _ in UInt8(x * 6) })
        try rgba.write(to: input)
        #expect(try Self.run([input.path, output.path]).status == 0)
        let result = try Image(contentsOf: output)
        #expect(result.layout == .rgba && result.channel(3) == rgba.channel(3))
        #expect(result == (try Enhancement().applied(to: rgba)))
    }

    @Test func failuresAreOneLineAndLeaveNoFile() throws {
        let dir = try ProgramRunner.folder()
        let notes = dir.appendingPathComponent("notes.png")
        try Data("not a picture\n".utf8).write(to: notes)
        let bad = try Self.run([notes.path, dir.appendingPathComponent("out.png").path])
        #expect(bad.status != 0 && bad.errorLines.count == 1 && bad.stderr.hasPrefix("enhance: ") && bad.stderr.contains("notes.png"), "\(bad.stderr)")

        let photo = dir.appendingPathComponent("photo.png")
        try SyntheticComposite(width: 40, height: 30).image.write(to: photo)
        let original = try Data(contentsOf: photo)
        let same = try Self.run([photo.path, dir.appendingPathComponent("./photo.png").path])
        #expect(same.status != 0 && same.errorLines.count == 1 && same.stderr.contains("overwrite"), "\(same.stderr)")
        #expect(try Data(contentsOf: photo) == original)

        let jpeg = try Self.run([photo.path, dir.appendingPathComponent("out.jpg").path])
        #expect(jpeg.status != 0 && jpeg.errorLines.count == 1 && jpeg.stderr.contains("PNG"), "\(jpeg.stderr)")
        let missing = try Self.run([dir.appendingPathComponent("nope.jpg").path, dir.appendingPathComponent("out.png").path])
        #expect(missing.status != 0 && missing.errorLines.count == 1 && missing.stderr.contains("nope.jpg"), "\(missing.stderr)")
        #expect(ProgramRunner.files(in: dir) == ["notes.png", "photo.png"])
    }

    // MARK: Band by band (--strips-above 0 forces it on small photos)

    /// `input` enhanced whole and band by band (into a folder that does not exist yet): both
    /// runs succeed and write the same bytes; returns them.
    static func bothPaths(_ input: URL, in dir: URL, _ name: String) throws -> (whole: Data, bands: Data) {
        let whole = dir.appendingPathComponent("whole/\(name).png"), bands = dir.appendingPathComponent("bands/a/\(name).png")
        let first = try run([input.path, whole.path])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try run([input.path, bands.path, "--strips-above", "0", "--threads", "2"])
        #expect(second.status == 0 && second.stdout == bands.path + "\n", "\(second.stderr)")
        return (try Data(contentsOf: whole), try Data(contentsOf: bands))
    }

    /// Every layout (PNG) and both JPEG layouts, over several bands (600 rows: 256, 256, 88;
    /// sizes no multiple of the 8×8 grid): the whole path's bytes.
    @Test(arguments: PixelLayout.allCases)
    func bandsMatchTheWholePath(_ layout: PixelLayout) throws {
        let dir = try ProgramRunner.folder()
        var picture = SyntheticComposite(width: 83, height: 600).image.converted(to: layout)
        if layout.hasAlpha {
            picture = picture.replacingChannel(
                layout.channelCount - 1, with: Image(width: 83, height: 600, layout: .gray) { x, y, _ in UInt8((x * 7 + y) % 256) })
        }
        let png = dir.appendingPathComponent("photo.png")
        try picture.write(to: png)
        let (whole, bands) = try Self.bothPaths(png, in: dir, "png")
        #expect(!whole.isEmpty && whole == bands, "\(layout)")
        #expect(try Image(decoding: Array(bands)) == (try Enhancement().applied(to: picture)))
        if !layout.hasAlpha {
            let jpeg = dir.appendingPathComponent("photo.jpg")
            try picture.write(to: jpeg)
            let (whole, bands) = try Self.bothPaths(jpeg, in: dir, "jpg")
            #expect(!whole.isEmpty && whole == bands, "\(layout) JPEG")
        }
    }

    /// EXIF orientations: mirrored (2, row by row) and turned (6, 3: the spill file).
    @Test(arguments: [2, 3, 6])
    func bandsApplyTheOrientation(_ orientation: Int) throws {
        let dir = try ProgramRunner.folder()
        let upright = SyntheticComposite(width: 300, height: 280).image
        let input = dir.appendingPathComponent("turned.jpg")
        try Data(OrientedFiles.file(upright, orientation: orientation, format: .jpeg)).write(to: input)
        let (whole, bands) = try Self.bothPaths(input, in: dir, "turned")
        #expect(!whole.isEmpty && whole == bands, "orientation \(orientation)")
        let result = try Image(decoding: Array(bands))
        #expect(result.width == 300 && result.height == 280)
    }

    /// A photo that fails in the second pass's rows (truncated): one line naming it, no
    /// file and no new folder left behind.
    @Test(arguments: ["png", "jpg"])
    func bandsFailCleanly(_ format: String) throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("cut.\(format)")
        let bytes = try SyntheticComposite(width: 64, height: 700).image.encoded(as: format == "png" ? .png : .jpeg)
        try Data(bytes[..<(bytes.count * 2 / 3)]).write(to: input)
        let result = try Self.run([input.path, dir.appendingPathComponent("new/deeper/out.png").path, "--strips-above", "0"])
        #expect(result.status != 0 && result.errorLines.count == 1 && result.stderr.hasPrefix("enhance: "), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: input.path).count == 2, "names the file once: \(result.stderr)")
        #expect(ProgramRunner.files(in: dir) == ["cut.\(format)"])
    }
}
