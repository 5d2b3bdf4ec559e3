import Foundation
import Testing

/// The built `matte-server` program, started on a free loopback port with its log in a file.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let folder: URL
    let log: URL
    private(set) var baseURL = ""

    /// The products folder the test bundle sits in (Linux: .build/<config>/X.xctest).
    static func binary(_ name: String) -> URL {
        var products = Bundle.main.bundleURL
        while !FileManager.default.isExecutableFile(atPath: products.appendingPathComponent(name).path),
              products.pathComponents.count > 1 {
            products.deleteLastPathComponent()
        }
        return products.appendingPathComponent(name)
    }

    /// Starts the program with `arguments` (plus `--port 0`) and waits for its "listening" line.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("matte-server-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        log = folder.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = Self.binary("matte-server")
        process.arguments = ["--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = logText.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
               let range = line.range(of: "http://") {
                baseURL = String(line[range.lowerBound...].prefix { $0 != " " })
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw StartFailed(description: "matte-server did not start: \(logText)")
    }

    struct StartFailed: Error, CustomStringConvertible { let description: String }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Whether a log line satisfying `matches` appears within `timeout`. The server logs a
    /// request once its body is written, which can be just after the client has read it all.
    func waitForLogLine(timeout: Duration = .seconds(10), _ matches: (Substring) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if logText.split(separator: "\n").contains(where: matches) { return true }
            usleep(20_000)
        } while ContinuousClock.now < deadline
        return false
    }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A finished command: status and output.
struct Command {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Runs `executable` (looked up on PATH) to completion.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Command {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("matte-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Command(status: process.terminationStatus,
                       stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
