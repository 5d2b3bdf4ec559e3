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

    /// The contents of the file at `path`: all of it, or at most `limit` bytes.
    static func contents(ofFile path: String, limit: Int = .max) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, detail: reason(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, detail: reason(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .io(path: path, detail: "is a directory") }
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(max(Int(info.st_size), 0), limit) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, detail: reason(errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<min(count, limit - bytes.count)])
        }
        return bytes
    }

    /// The start of the temporary file names `writeAtomically` uses for a destination named
    /// `name`: hidden (a leading dot) and within NAME_MAX (255 bytes) even for a long name;
    /// `mkstemp` appends six random characters.
    static func temporaryPrefix(forFileNamed name: String) -> String {
        ".\(String(decoding: name.utf8.prefix(200), as: UTF8.self)).tmp-"
    }

    /// Writes `bytes` to `path` atomically: into a new temporary file in the same folder,
    /// flushed to disk, then renamed over `path`. On any failure the temporary file is
    /// removed and whatever was at `path` is untouched.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw .io(path: path, detail: "is not a file path") }
        var template = Array("\(folder.isEmpty ? "" : folder)/\(temporaryPrefix(forFileNamed: name))XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path: path, detail: reason(errno)) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
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
        // mkstemp creates 0600; give the file rw-r--r--, what a create under the usual
        // umask 022 makes. (Reading the umask means setting it: racy across threads.)
        if failure == nil, fchmod(fd, 0o644) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if failure == nil, fsync(fd) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if close(fd) != 0, failure == nil { failure = .io(path: path, detail: reason(errno)) }
        if failure == nil, rename(temporary, path) != 0 { failure = .io(path: path, detail: reason(errno)) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}
