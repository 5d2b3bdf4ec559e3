import Foundation
import MattingKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        // lstat, as FileManager's attributes are read, but without them: those also look up
        // the owner's and group's names (reading /etc/passwd and /etc/group for every call).
        var sa = stat(), sb = stat()
        guard lstat(a.path, &sa) == 0, lstat(b.path, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
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
