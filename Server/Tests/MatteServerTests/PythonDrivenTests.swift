import Foundation
import MattingKit
import Testing

/// The checks that need Python tools (selenium with Debian's chromium, schemathesis, a remove.bg
/// client from PyPI, a concurrent load client), each against the built program on loopback.
/// `.ci/run` installs the tools; when one is missing the test fails with the error, it never
/// skips.
@Suite(.serialized) struct PythonDrivenTests {
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")
    let photoPath: String
    let folder: URL

    init() throws {
        (folder, photoPath) = try Fixtures.folderWithSample("matte-python")
    }

    func script(_ name: String, _ arguments: [String]) throws -> Command {
        let run = try Command.run("python3", [Self.scripts.appendingPathComponent(name).path] + arguments)
        print(run.stdout)
        if !run.stderr.isEmpty { print(run.stderr) }
        return run
    }

    @Test func pageInARealBrowser() throws {
        let server = try ServerProcess(["--threads", "2"])
        defer { server.stop() }
        var arguments = ["--base-url", server.baseURL, "--photo", photoPath]
        // MATTE_SERVER_SCREENSHOT=PATH keeps the screenshot (the README's is made this way).
        if let keep = ProcessInfo.processInfo.environment["MATTE_SERVER_SCREENSHOT"] { arguments += ["--screenshot", keep] }
        let run = try script("browser_test.py", arguments)
        #expect(run.status == 0, "browser test failed: \(run.stderr)")
        #expect(run.stdout.contains("0 failed"))
    }

    @Test func removeBGClientLibraryGetsACutout() throws {
        let server = try ServerProcess(["--threads", "2", "--api-key", "client-key"])
        defer { server.stop() }
        let run = try script("removebg_client_test.py", ["--base-url", server.baseURL, "--photo", photoPath, "--api-key", "client-key"])
        #expect(run.status == 0, "remove.bg client failed: \(run.stderr)")
    }

    @Test func schemathesisFindsNoServerErrorAndConformingAnswers() throws {
        let server = try ServerProcess(["--threads", "2", "--max-upload-mb", "4"])
        defer { server.stop() }
        let run = try Command.run("schemathesis", [
            "run", server.baseURL + "/openapi.yaml",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
            "--max-examples", "25", "--no-color", "--suppress-health-check", "all",
        ], in: folder)  // its cache folder goes to the test's temporary folder, not the source tree
        print(run.stdout.suffix(6000))
        #expect(run.status == 0, "schemathesis: \(run.stdout.suffix(3000)) \(run.stderr.suffix(2000))")
        #expect(!server.logText.contains(" 500 "))
    }

    @Test func boundedLoadRunEveryAnswerIs200Or429() throws {
        // A queue shorter than the clients at once, so both answers occur: 200 and 429.
        let server = try ServerProcess(["--threads", "1", "--jobs", "2", "--queue", "8"])
        defer { server.stop() }
        let run = try script("load_test.py", [
            "--base-url", server.baseURL, "--photo", photoPath, "--pid", String(server.process.processIdentifier),
            "--requests", "200", "--concurrency", "16", "--side", "192",
        ])
        #expect(run.status == 0, "load run: \(run.stdout) \(run.stderr)")
        #expect(server.process.isRunning)
    }
}
