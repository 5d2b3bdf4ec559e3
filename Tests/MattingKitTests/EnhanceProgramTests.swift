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
}
