#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic whole-file writes with POSIX calls, so that failures carry
/// the system's own reason (`strerror`) and the path.
enum FileIO {
    /// Calls `body` with the bytes of `bytes`, keeping `body`'s typed error
    /// (`withUnsafeBytes` itself only rethrows untyped errors).
    static func withBytes<R>(
        _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ImageError) -> R
    ) throws(ImageError) -> R {
        let result = bytes.withUnsafeBytes { buffer in
            Result<R, ImageError> { () throws(ImageError) in try body(buffer) }
        }
        return try result.get()
    }

    /// The text in a NUL-terminated C character buffer.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// What kind of file a `stat` mode describes, for messages ("a directory").
    static func kind(ofMode mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }

    /// The contents of the regular file at `path`: all of it, or at most `limit` bytes.
    ///
    /// Only regular files (or symbolic links to them) are read. The file is opened with
    /// `O_NONBLOCK`, so opening a FIFO with no writer returns at once, and its type is checked
    /// with `stat` and again with `fstat` on the open descriptor (no race with a rename) before any read: a
    /// directory, FIFO, socket or device is refused and nothing can block. At most the size
    /// `fstat` reported is read, so a file that grows while it is read cannot keep the reader
    /// busy for ever.
    ///
    /// - Throws: ``ImageError/io(path:detail:)`` with the system's reason, or "is a FIFO
    ///   (named pipe), not a regular file" and the like.
    static func contents(ofFile path: String, limit: Int = .max) throws(ImageError) -> [UInt8] {
        var info = stat()
        // A socket cannot be opened at all (ENXIO): name what it is rather than the errno.
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw .io(path: path, detail: "is \(kind(ofMode: info.st_mode)), not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw .io(path: path, detail: reason(errno)) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { throw .io(path: path, detail: reason(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .io(path: path, detail: "is \(kind(ofMode: info.st_mode)), not a regular file")
        }
        let wanted = min(max(Int(info.st_size), 0), limit)
        var bytes = [UInt8]()
        bytes.reserveCapacity(wanted)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < wanted {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, wanted - bytes.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, detail: reason(errno))
            }
            if count == 0 { break }  // the file shrank while it was read
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// The start of the temporary file names `writeAtomically` uses for a destination named
    /// `name`: hidden (a leading dot) and within NAME_MAX (255 bytes) even for a long name;
    /// six random letters and digits follow.
    static func temporaryPrefix(forFileNamed name: String) -> String {
        ".\(String(decoding: name.utf8.prefix(200), as: UTF8.self)).tmp-"
    }

    /// Why `path` may not be replaced, or `nil` if it is absent or a regular file.
    ///
    /// `lstat`, not `stat`: a symbolic link is refused as such, whatever it points to, since
    /// renaming over it would silently replace the link, not write where it points.
    static func replacementRefusal(_ path: String) throws(ImageError) -> ImageError? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw .io(path: path, detail: reason(errno))
        }
        guard (info.st_mode & S_IFMT) != S_IFREG else { return nil }
        return .io(path: path, detail: "is \(kind(ofMode: info.st_mode)); refusing to replace it with a picture")
    }

    /// Creates a new temporary file beside the destination with `O_CREAT | O_EXCL |
    /// O_NOFOLLOW` (never an existing file, never through a symbolic link planted under the
    /// chosen name), mode 0644. Returns its descriptor and path.
    static func createTemporaryFile(in folder: String, forFileNamed name: String, destination: String) throws(ImageError) -> (Int32, String) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let suffix = String(decoding: (0..<6).map { _ in letters.randomElement(using: &generator)! }, as: UTF8.self)
            let path = "\(folder.isEmpty ? "" : folder)/\(temporaryPrefix(forFileNamed: name))\(suffix)"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, path) }
            if errno != EEXIST { throw .io(path: destination, detail: reason(errno)) }
        }
        throw .io(path: destination, detail: "cannot create a temporary file beside it (100 names taken)")
    }

    /// Writes `bytes` to `path` atomically: into a new temporary file in the same folder,
    /// flushed to disk, then renamed over `path`. On any failure the temporary file is
    /// removed and whatever was at `path` is untouched.
    ///
    /// `path` must be absent or a regular file, which is then replaced atomically (readers see
    /// the old contents or the new, never a mix; other hard links to the old file keep the old
    /// contents). A symbolic link, directory, FIFO, socket or device at `path` is refused
    /// before anything is written, and checked again just before the rename. (A process that
    /// can write to the folder could still swap the entry between that check and the rename;
    /// POSIX offers no portable rename-if-regular.)
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty, name != ".", name != ".." else { throw .io(path: path, detail: "is not a file path") }
        if let refusal = try replacementRefusal(path) { throw refusal }
        let (fd, temporary) = try createTemporaryFile(in: folder, forFileNamed: name, destination: path)
        var failure: ImageError?
        var written = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = .io(path: path, detail: reason(errno))
                    return
                }
                written += count
            }
        }
        // open's mode is filtered by the umask; give the file rw-r--r--, what a create under
        // the usual umask 022 makes. (Reading the umask means setting it: racy across threads.)
        if failure == nil, fchmod(fd, 0o644) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if failure == nil, fsync(fd) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if close(fd) != 0, failure == nil { failure = .io(path: path, detail: reason(errno)) }
        if failure == nil {
            do throws(ImageError) { failure = try replacementRefusal(path) } catch { failure = error }
        }
        if failure == nil, rename(temporary, path) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}
