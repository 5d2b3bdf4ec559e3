import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the package's programs as processes, the way users run them, and makes scratch folders.
public enum ProgramRunner {
    public struct Run: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// stderr's lines, for one-line-message checks.
        public var errorLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// The built program `name`, from the products folder the test bundle sits in
    /// (Linux: .build/<config>/X.xctest).
    public static func binary(_ name: String) -> URL {
        var products = Bundle.main.bundleURL
        while !FileManager.default.isExecutableFile(atPath: products.appendingPathComponent(name).path),
              products.pathComponents.count > 1 {
            products.deleteLastPathComponent()
        }
        return products.appendingPathComponent(name)
    }

    /// Starts `program` with its output going to files (no pipe to fill up while nobody reads).
    public static func start(_ program: String, _ arguments: [String], output: URL) throws -> Process {
        let process = Process()
        process.executableURL = binary(program)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    /// Runs `program` to its end.
    public static func run(_ program: String, _ arguments: [String], in directory: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary(program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr is read on another thread so that neither pipe can fill up and stall the program.
        let errors = ErrorReader(err.fileHandleForReading)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: errors.wait(), as: UTF8.self))
    }

    /// Runs `program` with its standard output on a pseudo-terminal (as in an interactive
    /// shell) and returns what it wrote there and its exit status; stderr is discarded.
    public static func runInTerminal(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        // posix_openpt/grantpt/unlockpt/ptsname are not in Swift's Glibc module; this is what
        // they do on Linux: open the multiplexer, unlock the new terminal, ask for its number.
        // (TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned int).)
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0, number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw POSIXError(.ENOTTY)
        }
        let terminal = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard terminal >= 0 else { throw POSIXError(.ENOTTY) }
        let process = Process()
        process.executableURL = binary(program)
        process.arguments = arguments
        process.standardOutput = FileHandle(fileDescriptor: terminal, closeOnDealloc: false)
        process.standardError = FileHandle.nullDevice
        try process.run()
        close(terminal)     // the child holds its copy; reads end (EIO) when it exits
        var output = Data(), chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output.append(contentsOf: chunk[0..<count])
        }
        close(master)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A new empty folder (see ``ScratchFolders``).
    public static func folder() throws -> URL {
        try ScratchFolders.make("matte")
    }

    /// The names in `folder`, sorted (hidden ones included).
    public static func files(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// Every file below `folder` as a relative path, sorted (hidden ones included).
    public static func tree(_ folder: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var paths: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder)
            if !isFolder.boolValue { paths.append(path) }
        }
        return paths.sorted()
    }
}

/// Reads a pipe to its end on a thread of its own.
final class ErrorReader: @unchecked Sendable {
    // @unchecked: `data` is written once by the reader thread before `done` is signalled.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
