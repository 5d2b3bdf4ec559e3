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

    // MARK: Band by band (--strips-above 0 forces it on small pictures)

    /// A seeded picture of `layout` with structure and noise, `width × height`.
    static func picture(width: Int, height: Int, layout: PixelLayout, seed: UInt64) -> Image {
        var generator = SeededGenerator(seed: seed)
        return Image(width: width, height: height, layout: layout) { x, y, c in
            UInt8(truncatingIfNeeded: (x * 3 + y * 5 + c * 70) % 200 + Int(generator.next() % 50))
        }
    }

    /// Converts `input` to `output` twice, whole and band by band, and returns both files'
    /// bytes (after checking each run succeeded quietly).
    static func bothPaths(_ input: String, _ output: String, _ extra: [String] = []) throws -> (whole: Data, bands: Data) {
        let ext = (output as NSString).pathExtension, base = (output as NSString).deletingPathExtension
        let whole = base + "-whole." + ext, bands = base + "-bands." + ext
        let first = try convertImage([input, whole] + extra)
        #expect(first.status == 0 && first.stderr.isEmpty, "\(first.stderr)")
        let second = try convertImage([input, bands, "--strips-above", "0"] + extra)
        #expect(second.status == 0 && second.stderr.isEmpty, "\(second.stderr)")
        return (try Data(contentsOf: URL(fileURLWithPath: whole)), try Data(contentsOf: URL(fileURLWithPath: bands)))
    }

    /// Every layout, both output formats, with and without a background (gray and colour),
    /// other quality and level: the bytes of the whole path, over several bands of rows (600
    /// rows: 256, 256, 88).
    @Test("in bands: the bytes of the whole path", arguments: PixelLayout.allCases)
    func bandsMatchTheWholePath(_ layout: PixelLayout) throws {
        let folder = try TemporaryFolder()
        let input = folder.path("in.png")
        var picture = Self.picture(width: 37, height: 600, layout: layout, seed: UInt64(layout.channelCount))
        if layout.isColor { picture.colorProfile = try ColorProfile(iccData: F.bytes("icc-srgb.icc")) }
        try picture.write(toFile: input)
        let cases: [(String, [String])] = [
            ("a.png", []), ("b.png", ["--compression-level", "7"]), ("c.png", ["--background", "#808080"]),
            ("d.png", ["--background", "#ff8000"]), ("e.jpg", []), ("f.jpg", ["--quality", "60", "--background", "#203040"]),
        ]
        for (name, extra) in cases {
            let (whole, bands) = try Self.bothPaths(input, folder.path(name), extra)
            #expect(!whole.isEmpty && whole == bands, "\(layout) \(name) \(extra)")
        }
        // A JPEG input (gray or colour), to PNG and JPEG.
        if !layout.hasAlpha {
            let jpeg = folder.path("in.jpg")
            try picture.write(toFile: jpeg)
            for name in ["j.png", "k.jpg"] {
                let (whole, bands) = try Self.bothPaths(jpeg, folder.path(name))
                #expect(!whole.isEmpty && whole == bands, "\(layout) JPEG to \(name)")
            }
        }
    }

    /// --max-side on a PNG, reduced as its rows come (and a JPEG, decoded reduced, and a PNG
    /// that already fits): the whole path's bytes.
    @Test("in bands: --max-side as the whole path", arguments: ["in.png", "in.jpg"])
    func bandsReduceAsTheWholePath(_ name: String) throws {
        let folder = try TemporaryFolder()
        let input = folder.path(name)
        var picture = Self.picture(width: 91, height: 600, layout: .rgba, seed: 12)
        if name.hasSuffix("jpg") { picture = picture.converted(to: .rgb) }
        try picture.write(toFile: input)
        for (output, side) in [("a.png", "100"), ("b.jpg", "77"), ("c.png", "600"), ("d.png", "1")] {
            let (whole, bands) = try Self.bothPaths(input, folder.path(output), ["--max-side", side])
            #expect(!whole.isEmpty && whole == bands, "\(name) \(output) --max-side \(side)")
        }
    }

    /// Every EXIF orientation, JPEG and PNG: the upright picture, as the whole path decodes
    /// it (2 mirrored row by row, 3–8 through the spill file).
    @Test("in bands: EXIF orientations applied as the whole path applies them", arguments: 1...8)
    func bandsApplyTheOrientation(_ orientation: Int) throws {
        let folder = try TemporaryFolder()
        let upright = Self.picture(width: 300, height: 270, layout: .rgb, seed: UInt64(orientation))
        for format in [ImageFormat.jpeg, .png] {
            let input = folder.path("in-\(orientation).\(format == .png ? "png" : "jpg")")
            try Data(OrientedFiles.file(upright, orientation: orientation, format: format)).write(to: URL(fileURLWithPath: input))
            let (whole, bands) = try Self.bothPaths(input, folder.path("out.png"))
            #expect(!whole.isEmpty && whole == bands, "orientation \(orientation) \(format)")
            let decoded = try Image(decoding: Array(bands))
            #expect(decoded.width == 300 && decoded.height == 270)
            if format == .png { #expect(decoded == upright) }
        }
    }

    /// A file that fails midway (truncated after its first rows): one line naming it,
    /// status 1, and nothing left in the output's folder; the output is untouched.
    @Test("in bands: a failure midway leaves no file", arguments: ["in.png", "in.jpg"])
    func bandsFailCleanly(_ name: String) throws {
        let folder = try TemporaryFolder()
        let input = folder.path(name)
        let bytes = try Self.picture(width: 64, height: 700, layout: .rgb, seed: 9).encoded(as: name.hasSuffix("png") ? .png : .jpeg)
        try Data(bytes[..<(bytes.count * 2 / 3)]).write(to: URL(fileURLWithPath: input))
        let outputs = try TemporaryFolder()
        for output in ["out.png", "out.jpg"] {
            let result = try convertImage([input, outputs.path(output), "--strips-above", "0"])
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("convert-image: ") && result.stderr.contains(input), "\(result.stderr)")
            #expect(result.stderr.components(separatedBy: input).count == 2, "names the file once: \(result.stderr)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        }
        #expect(outputs.contents.isEmpty)
        // An existing output is left as it was.
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outputs.path("old.png")))
        #expect(try convertImage([input, outputs.path("old.png"), "--strips-above", "0"]).status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: outputs.path("old.png"))) == Data("keep".utf8))
        #expect(outputs.contents == ["old.png"])
    }
}
