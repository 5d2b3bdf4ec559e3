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
            The output is written atomically and never over the input. Pictures over 16 megapixels \
            are converted a band of rows at a time (with --max-side, PNGs are reduced as their rows \
            are decoded), with the same bytes.
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

    @Option(help: ArgumentHelp(
        "Pictures of more pixels than this are converted a band of rows at a time (0: every picture; for tests and benchmarks).",
        visibility: .hidden))
    var stripsAbove: Int = Matter.defaultStripThreshold

    func validate() throws {
        try requireAtLeast(0, stripsAbove, "--strips-above")
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
        var encoding = EncodingOptions(jpegQuality: quality, pngCompressionLevel: compressionLevel)
        if let background {
            encoding.background = try RGBColor(parsing: background)
        } else if format == .jpeg {
            encoding.background = .white
        }
        // Large pictures go a band of rows at a time; with --max-side, large PNGs (a JPEG is
        // decoded at a reduced scale instead) are reduced as their rows are decoded.
        let file = try UprightFile(path: input, temporaryDirectory: UprightFile.temporaryDirectory)
        if file.width * file.height > stripsAbove {
            if let maxSide, max(file.width, file.height) > maxSide {
                if file.format == .png {
                    try Self.reduceInBands(file, toFitWithin: maxSide).write(toFile: output, format: format, options: encoding)
                    return
                }
            } else {
                try Self.convertInBands(file, to: output, format: format, options: encoding)
                return
            }
        }
        var decoding = DecodingOptions()
        if let maxSide { decoding.reducedSize = .longSide(atLeast: maxSide) }
        var image = try Image(contentsOfFile: input, options: decoding)
        // The reduced JPEG decode only gets within 2× of N (and PNG not at all); the area
        // filter takes the rest of the way, so N is a true maximum for both formats.
        if let maxSide { image = image.resized(toFitWithin: maxSide, filter: .area) }
        try image.write(toFile: output, format: format, options: encoding)
    }

    /// Rows per band of the band-by-band conversion.
    static let bandRows = 256

    /// `Image(contentsOfFile:).resized(toFitWithin: maxSide, filter: .area)` (the same
    /// pixels and colour profile), from the upright rows a band at a time (`StreamingResizer`):
    /// only the reduced picture is held.
    static func reduceInBands(_ file: UprightFile, toFitWithin maxSide: Int) throws -> Image {
        let W = file.width, H = file.height
        let scale = Double(maxSide) / Double(max(W, H))
        let w = max(1, Int((Double(W) * scale).rounded())), h = max(1, Int((Double(H) * scale).rounded()))
        var resizer = StreamingResizer(width: W, height: H, layout: file.layout, newWidth: w, newHeight: h, filter: .area,
                                       maximumBandRows: bandRows)
        try file.withRows { rows in
            var band = Image(width: W, height: min(bandRows, H), layout: file.layout)
            for y0 in stride(from: 0, to: H, by: bandRows) {
                let count = min(bandRows, H - y0)
                try rows.readRows(count, into: &band)
                resizer.add(band, rows: count)
            }
        }
        var reduced = resizer.result
        reduced.colorProfile = file.colorProfile
        return reduced
    }

    /// The conversion a band of rows at a time, with the bytes of
    /// `Image(contentsOfFile:).write(toFile:format:options:)`: the upright rows (EXIF
    /// orientation applied as `matte` applies it: mirrored rows reversed, turned photos
    /// through the spill file) flattened over the background as `flattened(over:)` does,
    /// into the streaming encoder; the file is renamed into place only once complete.
    static func convertInBands(_ file: UprightFile, to output: String, format: ImageFormat, options: EncodingOptions) throws {
        let W = file.width, H = file.height
        let flattens = options.background != nil && file.layout.hasAlpha
        let layout: PixelLayout = flattens
            ? (file.layout == .grayAlpha && options.background?.isGray == true ? .gray : .rgb) : file.layout
        // As ImageEncoding: flattening keeps the profile unless gray turns to colour, and a
        // profile that does not describe the pixels is refused.
        var profile = options.writesColorProfile ? file.colorProfile : nil
        if flattens && layout.isColor != file.layout.isColor { profile = nil }
        if let profile, !profile.describes(layout) {
            throw ImageError.unsupportedEncoding(
                destination: output, detail: "the colour profile describes \(profile.colorSpace) pixels, this picture is \(layout)")
        }
        if format == .jpeg && layout.hasAlpha {
            throw ImageError.unsupportedEncoding(
                destination: output, detail: "JPEG has no alpha: give a background colour to flatten this \(layout) picture onto")
        }
        try file.withRows { rows in
            let write: (Image, Int) throws -> Void
            let finish: () throws -> Void
            switch format {
            case .png:
                let png = try StreamingPNGWriter(
                    sink: try AtomicFileWriter(path: output), width: W, height: H, layout: layout, colorProfile: profile,
                    threads: max(1, ProcessInfo.processInfo.activeProcessorCount), separateAlpha: false,
                    compressionLevel: options.pngCompressionLevel)
                write = { band, count in try band.withUnsafeBufferPointer { try png.write($0, stride: $1, count: count) } }
                finish = { try png.finish() }
            case .jpeg:
                let jpeg = try StreamingJPEGWriter(
                    sink: try AtomicFileWriter(path: output), width: W, height: H, layout: layout, colorProfile: profile,
                    quality: options.jpegQuality)
                write = { band, count in try band.withUnsafeBufferPointer { try jpeg.write($0, stride: $1, count: count) } }
                finish = { try jpeg.finish() }
            }
            var band = Image(width: W, height: min(bandRows, H), layout: file.layout)
            for y0 in stride(from: 0, to: H, by: bandRows) {
                let count = min(bandRows, H - y0)
                try rows.readRows(count, into: &band)
                if let background = options.background, flattens {
                    try write(band.flattened(over: background), count)
                } else {
                    try write(band, count)
                }
            }
            try finish()
        }
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
