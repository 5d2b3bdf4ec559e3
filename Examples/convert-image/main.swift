// convert-image: converts between PNG and JPEG with MattingKit's codecs.
//
//   convert-image INPUT OUTPUT [--quality N] [--compression-level N]
//                 [--background #rrggbb] [--max-side N]
//
// The output format follows OUTPUT's extension. On failure it prints one line,
// "convert-image: <message>", to standard error and exits with status 1.
import ArgumentParser
import Foundation
import MattingKit
import MatteCommandLine

@main
struct ConvertImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-image",
        abstract: "Convert a PNG or JPEG picture to PNG or JPEG (chosen by OUTPUT's extension).",
        discussion: """
            The input format is detected from its bytes. JPEG EXIF orientation is applied. \
            The output is written atomically and never over the input.
            """)

    @Argument(help: "The picture to read (PNG or JPEG).")
    var input: String

    @Argument(help: "Where to write; .png, or .jpg/.jpeg.")
    var output: String

    @Option(help: "JPEG quality, 1…100.")
    var quality: Int = 95

    @Option(help: "PNG compression level, 0…9 (zlib).")
    var compressionLevel: Int = EncodingOptions().pngCompressionLevel

    @Option(help: ArgumentHelp(
        "Colour to flatten transparency onto, #rrggbb. JPEG output uses #ffffff when absent; PNG output keeps alpha unless given.",
        valueName: "#rrggbb"))
    var background: String?

    @Option(help: ArgumentHelp(
        "Shrink so that the longer side is at most N pixels (area filter, aspect ratio kept; JPEG input is first decoded at a reduced 1/8…8/8 scale). Smaller pictures are not enlarged.",
        valueName: "N"))
    var maxSide: Int?

    func validate() throws {
        guard (1...100).contains(quality) else { throw ArgumentFailure("--quality must be 1…100, got \(quality)") }
        guard (0...9).contains(compressionLevel) else {
            throw ArgumentFailure("--compression-level must be 0…9, got \(compressionLevel)")
        }
        if let maxSide { try requireAtLeast(1, maxSide, "--max-side") }
    }

    func run() throws {
        let extensionPart = (output as NSString).pathExtension
        guard let format = ImageFormat(fileExtension: extensionPart) else {
            throw ImageError.unsupportedEncoding(destination: output, detail: "the extension must be .png, .jpg or .jpeg")
        }
        if Self.sameFile(input, output) {
            throw ImageError.invalidArgument("OUTPUT \(output) is the input file; refusing to overwrite it")
        }
        var decoding = DecodingOptions()
        if let maxSide { decoding.reducedSize = .longSide(atLeast: maxSide) }
        var image = try Image(contentsOfFile: input, options: decoding)
        // The reduced JPEG decode only gets within 2× of N (and PNG not at all); the area
        // filter takes the rest of the way, so N is a true maximum for both formats.
        if let maxSide { image = image.resized(toFitWithin: maxSide, filter: .area) }

        var encoding = EncodingOptions(jpegQuality: quality, pngCompressionLevel: compressionLevel)
        if let background {
            encoding.background = try RGBColor(parsing: background)
        } else if format == .jpeg {
            encoding.background = .white
        }
        try image.write(toFile: output, format: format, options: encoding)
    }

    /// Whether both paths name the same existing file (same device and inode: catches
    /// symbolic links, hard links and different spellings of one path).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ImageError {
            fail(error.description)
        } catch {
            if exitCode(for: error) == .success {  // --help
                print(fullMessage(for: error))
                return
            }
            fail(message(for: error))
        }
    }

    static func fail(_ message: String) -> Never {
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        FileHandle.standardError.write(Data("convert-image: \(line)\n".utf8))
        Foundation.exit(1)
    }
}
