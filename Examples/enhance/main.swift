import ArgumentParser
import Foundation
import MatteCommandLine
import MattingFiles
import MattingKit

/// `enhance`: the pipeline's pre-enhance step on its own.
@main
struct EnhanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enhance",
        abstract: "Pre-enhance a photo: CLAHE on the lightness channel (clip limit 2.0, 8×8 tiles), then a 3×3 sharpen.",
        discussion: """
            The same step as matte --enhance (MattingKit's Enhancement). Writes a lossless PNG of the \
            same size and layout (alpha passes through); no crop, no resize. Never overwrites its input; \
            on failure prints one line and leaves no file behind.
            """)

    @Argument(help: "The photo (PNG or JPEG).")
    var input: String

    @Argument(help: "The enhanced PNG; missing folders are created.")
    var output: String

    func run() throws {
        do {
            let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
            if let format = ImageFormat(fileExtension: outputURL.pathExtension), format != .png {
                throw EnhanceFailure("\(output): enhance writes lossless PNG only; name the output .png")
            }
            try OutputFiles.refuseToOverwrite([inputURL], with: [outputURL])
            let enhanced = try Enhancement().applied(to: try Image(contentsOf: inputURL))
            try OutputFiles.write([(outputURL, try enhanced.encoded(as: .png))])
            print(outputURL.path)
        } catch {
            printFailure("enhance", input, error)
            throw ExitCode.failure
        }
    }
}

struct EnhanceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
