import Foundation
import MattingImage

/// Writing a program's set of output files: all of them or none, never over an input.
///
/// ```swift
/// try OutputFiles.refuseToOverwrite([input], with: [cutoutURL, maskURL])
/// try OutputFiles.write([(cutoutURL, cutoutBytes), (maskURL, maskBytes)])
/// ```
public enum OutputFiles {
    /// Whether `a` and `b` name the same file: the same path once `.`/`..` and symbolic
    /// links are resolved, or (when both exist) the same device and inode (hard links).
    public static func isSameFile(_ a: URL, _ b: URL) -> Bool {
        if a.standardizedFileURL.resolvingSymlinksInPath().path == b.standardizedFileURL.resolvingSymlinksInPath().path {
            return true
        }
        guard let ia = try? FileManager.default.attributesOfItem(atPath: a.path),
              let ib = try? FileManager.default.attributesOfItem(atPath: b.path) else { return false }
        return (ia[.systemFileNumber] as? Int) == (ib[.systemFileNumber] as? Int)
            && (ia[.systemNumber] as? Int) == (ib[.systemNumber] as? Int)
    }

    /// Throws unless every output differs from every input.
    ///
    /// - Throws: ``OutputFileError/wouldOverwriteInput(_:)`` naming the first offending output.
    public static func refuseToOverwrite(_ inputs: [URL], with outputs: [URL]) throws(OutputFileError) {
        for output in outputs where inputs.contains(where: { isSameFile(output, $0) }) {
            throw .wouldOverwriteInput(output.path)
        }
    }

    /// Writes every `(url, bytes)` pair atomically (`AtomicFile`), creating missing folders.
    ///
    /// Encode everything before calling this: if any write fails, the files this call
    /// already wrote are removed again, so a failure leaves no new output behind.
    ///
    /// - Throws: the first failure, an `ImageError.io(path:detail:)` naming its file.
    public static func write(_ files: [(url: URL, bytes: [UInt8])]) throws {
        var written: [URL] = []
        do {
            for file in files {
                try FileManager.default.createDirectory(
                    at: file.url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicFile.write(file.bytes, to: file.url)
                written.append(file.url)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }
}

/// Why a set of outputs was not written.
public enum OutputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An output names an input file.
    case wouldOverwriteInput(String)

    public var description: String {
        switch self {
        case let .wouldOverwriteInput(path): "refusing to overwrite the input with \(path)"
        }
    }
}
