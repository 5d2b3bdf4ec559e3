import Foundation

/// Writing files so that readers never see a partial one.
public enum AtomicFile {
    /// Writes `bytes` to `url` through a temporary file in the same folder, then renames it
    /// into place: the destination holds either its old contents or all of `bytes`, and on
    /// failure no temporary file is left behind.
    ///
    /// The temporary file is hidden, named `.<name>.tmp-XXXXXX` beside the destination, and
    /// created with `O_CREAT | O_EXCL | O_NOFOLLOW` (always a new file, never through a
    /// symbolic link). Only a process killed between creating and renaming it leaves one
    /// behind; ``removeStaleTemporaryFiles(for:)`` clears those.
    ///
    /// The destination must be absent or a regular file. An existing regular file is
    /// replaced atomically (its name then refers to the new file, mode 0644; other hard links
    /// keep the old contents). A symbolic link, directory, FIFO, socket or device node at
    /// `url` is refused, and left as it was: writing a picture to `/dev/null` or through a
    /// link planted in an output folder is an error, not a silent replacement.
    ///
    /// - Throws: ``ImageError/io(path:detail:)`` naming the destination: the system's reason,
    ///   or for example "is a symbolic link; refusing to replace it with a picture".
    public static func write(_ bytes: [UInt8], to url: URL) throws(ImageError) {
        try FileIO.writeAtomically(bytes, to: url.path)
    }

    /// Whether `fileName` (a bare name, no folder) is a temporary file that
    /// ``write(_:to:)`` makes on its way to a destination named `destinationName`.
    public static func isTemporaryFile(_ fileName: String, for destinationName: String) -> Bool {
        let prefix = FileIO.temporaryPrefix(forFileNamed: destinationName)
        guard fileName.hasPrefix(prefix) else { return false }
        let suffix = fileName.utf8.dropFirst(prefix.utf8.count)
        return suffix.count == 6 && suffix.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) }
    }

    /// Deletes the temporary files that writers killed mid-write (SIGKILL, power loss) left
    /// beside `destinations`, and returns them.
    ///
    /// Only the temporary files of the given destinations are touched, so a caller that
    /// passes its own outputs never disturbs another process writing other files in the same
    /// folder. Call it when no write to these destinations is in flight. Folders that cannot
    /// be listed are passed over.
    public static func removeStaleTemporaryFiles(for destinations: [URL]) -> [URL] {
        var namesByFolder: [String: Set<String>] = [:]
        for url in destinations {
            namesByFolder[url.deletingLastPathComponent().path, default: []].insert(url.lastPathComponent)
        }
        var removed: [URL] = []
        for (folder, names) in namesByFolder.sorted(by: { $0.key < $1.key }) {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for entry in entries.sorted() where entry.hasPrefix(".") && entry.contains(".tmp-") {
                guard names.contains(where: { isTemporaryFile(entry, for: $0) }) else { continue }
                let url = URL(fileURLWithPath: folder).appendingPathComponent(entry)
                if (try? FileManager.default.removeItem(at: url)) != nil { removed.append(url) }
            }
        }
        return removed
    }
}
