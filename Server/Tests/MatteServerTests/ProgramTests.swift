import Foundation
@testable import MatteServer
import MattingKit
import Testing

/// The built `matte-server` program, driven over loopback with curl and raw sockets.
@Suite(.serialized) struct ProgramTests {
    let folder: URL
    let photoPath: String

    init() throws {
        (folder, photoPath) = try Fixtures.folderWithSample("matte-program")
    }

    /// A large photo (the sample scaled up), so that its matte takes long enough to interrupt.
    func largePhoto(side: Int = 2000) throws -> String {
        let path = folder.appendingPathComponent("large-\(side).jpg").path
        let photo = try Image(decoding: try Fixtures.samplePhoto()).resized(width: side, height: side, filter: .lanczos3)
        FileManager.default.createFile(atPath: path, contents: Data(try photo.converted(to: .rgb).encoded(as: .jpeg)))
        return path
    }

    func curl(_ arguments: [String]) throws -> (status: Int, headers: String, body: URL) {
        let body = folder.appendingPathComponent("body-\(UUID().uuidString)")
        let headers = folder.appendingPathComponent("headers-\(UUID().uuidString)")
        let run = try Command.run("curl", ["-sS", "-o", body.path, "-D", headers.path, "-w", "%{http_code}"] + arguments)
        #expect(run.status == 0, "curl failed: \(run.stderr)")
        return (Int(run.stdout) ?? 0, (try? String(contentsOf: headers, encoding: .utf8)) ?? "", body)
    }

    /// Bad option values stop the program before it listens: one line on stderr, status 1,
    /// no usage text — including values whose arithmetic would overflow (a byte count from
    /// MiB, pixels from megapixels) and negative numbers.
    @Test func badOptionValuesAreOneLineWithStatusOne() throws {
        let binary = ServerProcess.binary("matte-server").path
        for (option, value) in [("--jobs", "0"), ("--threads", "-1"), ("--threads", "9223372036854775807"),
                                ("--max-upload-mb", "9223372036854775807"), ("--max-megapixels", "inf"),
                                ("--max-megapixels", "-5"), ("--timeout", "nan"), ("--port", "70000"), ("--queue", "-1")] {
            // The empty key is refused last, so a value wrongly accepted fails the test instead
            // of leaving a server listening.
            let run = try Command.run(binary, [option, value, "--api-key", ""])
            let lines = run.stderr.split(separator: "\n")
            #expect(run.status == 1 && lines.count == 1 && run.stderr.contains(option) && !run.stderr.contains("Usage"),
                    "\(option) \(value): status \(run.status), \(run.stderr)")
        }
    }

    @Test func routesOverLoopback() throws {
        let server = try ServerProcess(["--api-key", "loopback-key", "--threads", "2"])
        defer { server.stop() }
        let page = try curl([server.baseURL + "/"])
        #expect(page.status == 200)
        #expect(try String(contentsOf: page.body, encoding: .utf8).contains("id=\"file-input\""))
        #expect(try curl([server.baseURL + "/health"]).status == 200)

        let missing = try curl(["-F", "file=@\(photoPath)", server.baseURL + "/api/remove"])
        #expect(missing.status == 403)

        let rembg = try curl(["-H", "X-Api-Key: loopback-key", "-F", "file=@\(photoPath)", server.baseURL + "/api/remove"])
        #expect(rembg.status == 200)
        let cutout = try Image(contentsOf: rembg.body)
        #expect(cutout.width == 512 && cutout.layout == .rgba)

        let zip = try curl(["-H", "X-Api-Key: loopback-key", "-F", "image_file=@\(photoPath)", "-F", "format=zip",
                            server.baseURL + "/v1.0/removebg"])
        #expect(zip.status == 200)
        #expect(zip.headers.lowercased().contains("x-width: 512"))
        let unzip = try Command.run("unzip", ["-t", zip.body.path])
        #expect(unzip.status == 0, "unzip -t: \(unzip.stdout)")
        let python = try Command.run("python3", ["-c", """
            import sys, zipfile, io
            from PIL import Image
            z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
            assert z.namelist() == ['color.jpg', 'alpha.png'], z.namelist()
            c = Image.open(io.BytesIO(z.read('color.jpg'))); a = Image.open(io.BytesIO(z.read('alpha.png')))
            assert c.mode == 'RGB' and a.mode == 'L' and c.size == a.size == (512, 512), (c.mode, a.mode, c.size, a.size)
            """, zip.body.path])
        #expect(python.status == 0, "python zipfile: \(python.stderr)")

        // One log line per request: method, path, status, bytes, seconds (written once the
        // body is sent, so possibly a moment after the client has it).
        #expect(server.waitForLogLine { $0.contains("POST /v1.0/removebg 200 ") && $0.contains(" B ") && $0.hasSuffix(" s") },
                "\(server.logText)")
        #expect(server.waitForLogLine { $0.contains("POST /api/remove 403 ") }, "\(server.logText)")
    }

    /// An upload turned by its EXIF orientation needs the spill file in `TMPDIR`: when it cannot
    /// be made, that request gets 500 `spill_failed` naming the folder (the picture is not held
    /// whole instead), and the server goes on serving.
    @Test func turnedUploadWithoutRoomForTheSpillIsAClean500() throws {
        let missing = folder.appendingPathComponent("no-such-folder").path
        let server = try ServerProcess(["--threads", "2", "--strips-above", "0"], environment: ["TMPDIR": missing])
        defer { server.stop() }
        let turned = folder.appendingPathComponent("turned.jpg").path
        FileManager.default.createFile(atPath: turned, contents: Data(try StripUploadTests.smallPhoto(orientation: 6, width: 400, height: 300)))
        let failed = try curl(["-F", "file=@\(turned)", server.baseURL + "/api/remove"])
        let text = try String(contentsOf: failed.body, encoding: .utf8)
        #expect(failed.status == 500, "\(text)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: failed.body)) as? [String: Any]
        let error = (object?["errors"] as? [[String: Any]])?.first
        let title = error?["title"] as? String ?? "", code = error?["code"] as? String ?? ""
        #expect(code == "spill_failed", "\(text)")
        #expect(title.contains("temporary spill file") && title.contains(missing) && title.contains("No such file"), "\(title)")
        // An upright upload needs no spill; and the server is still there.
        let upright = folder.appendingPathComponent("upright.jpg").path
        FileManager.default.createFile(atPath: upright, contents: Data(try StripUploadTests.smallPhoto(width: 400, height: 300)))
        #expect(try curl(["-F", "file=@\(upright)", server.baseURL + "/api/remove"]).status == 200)
        #expect(try curl([server.baseURL + "/health"]).status == 200)
    }

    @Test func uploadOverTheLimitIsRefusedBeforeItIsAllSent() throws {
        let server = try ServerProcess(["--max-upload-mb", "1"])
        defer { server.stop() }
        // A chunked upload (no Content-Length): 2 MiB sent, the rest never; the 413 must come anyway.
        let port = server.baseURL.split(separator: ":").last.map(String.init) ?? ""
        let run = try Command.run("python3", ["-c", """
            import socket, sys
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30)
            s.sendall(b'POST /api/remove HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: multipart/form-data; boundary=b\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n')
            chunk = b'x' * 65536
            for _ in range(32):
                s.sendall(b'%x\\r\\n' % len(chunk) + chunk + b'\\r\\n')
            def answer_of(s):
                # Headers and body may arrive in separate reads: read until the JSON body is complete.
                data = b''
                while not data.endswith(b'}]}'):
                    more = s.recv(4096)
                    if not more:
                        break
                    data += more
                return data.decode('latin-1')
            answer = answer_of(s)
            print(answer.split('\\r\\n')[0])
            assert answer.startswith('HTTP/1.1 413'), answer
            assert 'file_too_large' in answer, answer
            # Content-Length over the limit: refused at once, before any body byte.
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30)
            s.sendall(b'POST /v1.0/removebg HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: multipart/form-data; boundary=b\\r\\nContent-Length: 1000000000\\r\\n\\r\\n')
            answer = answer_of(s)
            assert answer.startswith('HTTP/1.1 413'), answer
            """, port])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(try curl([server.baseURL + "/health"]).status == 200)
    }

    @Test func sigtermFinishesTheRequestInFlight() async throws {
        let large = try largePhoto()
        let server = try ServerProcess(["--threads", "2"])
        let output = folder.appendingPathComponent("in-flight.png")
        let request = Process()
        request.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        request.arguments = ["curl", "-sS", "-o", output.path, "-w", "%{http_code}", "-F", "file=@\(large)", "-F", "om=true",
                             server.baseURL + "/api/remove"]
        let status = Pipe()
        request.standardOutput = status
        try request.run()
        // Wait until the server is working on it, then ask it to stop.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let health = try curl([server.baseURL + "/health"])
            if try String(contentsOf: health.body, encoding: .utf8).contains("\"admitted\":1") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(server.process.processIdentifier, SIGTERM)
        request.waitUntilExit()
        let code = String(decoding: status.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(code == "200", "the request in flight was not finished: \(code)")
        let exit = server.stop()
        #expect(exit == 0, "matte-server exit status \(exit): \(server.logText)")
        #expect(try Image(contentsOf: output).width == 2000)
        // Nothing listens any more.
        let after = try Command.run("curl", ["-sS", "-o", "/dev/null", server.baseURL + "/health"])
        #expect(after.status != 0)
    }

    @Test func clientThatDisconnectsCancelsItsMatte() async throws {
        let large = try largePhoto()
        let server = try ServerProcess(["--threads", "1", "--jobs", "1"])
        defer { server.stop() }
        // Time one matte of the large photo, to know how long a finished one would take.
        let start = Date()
        #expect(try curl(["-F", "file=@\(large)", "-F", "om=true", server.baseURL + "/api/remove"]).status == 200)
        let oneMatte = Date().timeIntervalSince(start)
        // curl gives up after a fifth of that: the server must stop working on it.
        let giveUp = String(format: "%.2f", max(0.3, oneMatte / 5))
        _ = try Command.run("curl", ["-sS", "-o", "/dev/null", "--max-time", giveUp, "-F", "file=@\(large)", "-F", "om=true",
                                     server.baseURL + "/api/remove"])
        // Whenever the server lets go of the request: had it gone on, the matte would have been
        // served (2); cancelled, it was not (1). No timing is assumed.
        let deadline = Date().addingTimeInterval(max(60, oneMatte * 10))
        var health = ""
        while Date() < deadline {
            health = try String(contentsOf: try curl([server.baseURL + "/health"]).body, encoding: .utf8)
            if health.contains("\"admitted\":0") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(health.contains("\"admitted\":0"), "the request was never let go: \(health)")
        #expect(health.contains("\"served\":1"), "the matte went on after its client left (one matte takes \(oneMatte) s): \(health)")
    }
}
