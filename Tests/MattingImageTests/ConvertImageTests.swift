import Foundation
import Testing
import MattingTestSupport
@testable import MattingImage

/// Runs the convert-image example (built next to the test bundle) as a process.
private func convertImage(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let run = try ProgramRunner.run("convert-image", arguments)
    return (run.status, run.stderr)
}

@Suite("convert-image")
struct ConvertImageTests {
    @Test("PNG with alpha to JPEG flattens onto the background")
    func pngToJPEG() throws {
        let folder = try TemporaryFolder()
        let output = folder.path("out.jpg")
        let result = try convertImage([F.url("png-rgba-8.png").path, output, "--background", "#000000", "--quality", "100"])
        #expect(result.status == 0 && result.stderr.isEmpty)
        let decoded = try Image(contentsOfFile: output)
        let expected = try Image(contentsOf: F.url("png-rgba-8.png")).flattened(over: .black)
        #expect(decoded.layout == .rgb && decoded.width == expected.width)
        // Random-looking 13×11 pattern through 4:2:0 JPEG: only a loose check is fair here.
        let meanError = zip(decoded.packedComponents, expected.packedComponents)
            .map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(expected.packedComponents.count)
        #expect(meanError < 25)
    }

    @Test("JPEG to PNG, reduced with --max-side")
    func jpegToPNG() throws {
        let folder = try TemporaryFolder()
        let input = folder.path("in.jpg"), output = folder.path("out.png")
        try Image(width: 800, height: 400, layout: .rgb, repeating: 90).write(toFile: input)
        let result = try convertImage([input, output, "--max-side", "200", "--compression-level", "9"])
        #expect(result.status == 0)
        let decoded = try Image(contentsOfFile: output)
        #expect(decoded.width == 200 && decoded.height == 100)
    }

    /// N that no 1/8…8/8 JPEG scale reaches (3/8 of 1000 is 375), and PNG, which has no
    /// reduced decode: the long side must still come out exactly N.
    @Test("--max-side is a true maximum", arguments: [("in.jpg", "out.png"), ("in.png", "out.jpg")])
    func maxSideIsAMaximum(_ names: (input: String, output: String)) throws {
        let folder = try TemporaryFolder()
        let input = folder.path(names.input), output = folder.path(names.output)
        try Image(width: 1000, height: 500, layout: .rgb, repeating: 90).write(toFile: input)
        let result = try convertImage([input, output, "--max-side", "300"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        let decoded = try Image(contentsOfFile: output)
        #expect(decoded.width == 300 && decoded.height == 150, "\(names.input): \(decoded.width)×\(decoded.height)")
        // Smaller pictures are not enlarged.
        let small = try convertImage([input, folder.path("small-" + names.output), "--max-side", "2000"])
        #expect(small.status == 0)
        #expect(try Image(contentsOfFile: folder.path("small-" + names.output)).width == 1000)
    }

    @Test("refuses to overwrite the input, under any spelling")
    func refusesInput() throws {
        let folder = try TemporaryFolder()
        let input = folder.path("in.png")
        try Image(width: 4, height: 4, layout: .gray).write(toFile: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        try FileManager.default.createSymbolicLink(atPath: folder.path("link.png"), withDestinationPath: input)
        for output in [input, folder.url.path + "/./in.png", folder.path("link.png")] {
            let result = try convertImage([input, output])
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("convert-image: ") && result.stderr.contains("input"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }

    @Test("failures print one line and exit 1", arguments: [
        ["bad-truncated.png", "out.png"], ["bad-text.png", "out.jpg"], ["png-rgb-8.png", "out.gif"],
        ["png-rgb-8.png", "out.jpg", "--quality", "0"], ["png-rgb-8.png", "out.jpg", "--background", "blue"],
        ["missing.png", "out.png"], ["png-rgb-8.png"],
    ])
    func failures(_ arguments: [String]) throws {
        let folder = try TemporaryFolder()
        let resolved = arguments.enumerated().map { index, argument in
            index == 0 ? F.url(argument).path : (index == 1 ? folder.path(argument) : argument)
        }
        let result = try convertImage(resolved)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("convert-image: "), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(folder.contents.isEmpty)
    }
}
