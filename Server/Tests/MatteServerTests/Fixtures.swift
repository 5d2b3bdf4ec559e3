import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import MatteServer
import MattingKit
import NIOCore
import Testing

/// What the tests share: the sample photo, a loaded model, request builders and decoders.
enum Fixtures {
    /// The sample portrait `Scripts/fetch-sample.sh` installs (the README's first command and
    /// `.ci/run` fetch it). Missing → the test fails with the command to run.
    static func samplePhoto() throws -> [UInt8] {
        let url = DefaultModel.directory.deletingLastPathComponent().appendingPathComponent("samples/astronaut.png")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FixtureMissing(description: "\(url.path) is missing: run Scripts/fetch-sample.sh")
        }
        return [UInt8](data)
    }

    struct FixtureMissing: Error, CustomStringConvertible { let description: String }

    /// `<tmp>/matte-server-tests-<pid>`, holding the tests' scratch folders; removed when the
    /// test process exits, so a test that stops early leaves nothing behind.
    static let scratchRoot: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("matte-server-tests-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Fixtures.scratchRoot) }
        return url
    }()

    /// A new temporary folder (its name starting with `prefix`) holding the sample photo, for
    /// tests that hand files to programs.
    static func folderWithSample(_ prefix: String) throws -> (folder: URL, photoPath: String) {
        let folder = scratchRoot.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let photoPath = folder.appendingPathComponent("astronaut.png").path
        FileManager.default.createFile(atPath: photoPath, contents: Data(try samplePhoto()))
        return (folder, photoPath)
    }

    /// The default model, parsed once for every test.
    static let segmenter: Result<ModelSegmenter, any Error> = Result { try ModelSegmenter.defaultModel() }

    static func service(_ configure: (inout MatteServerConfiguration) -> Void = { _ in }) throws -> MatteService {
        var configuration = MatteServerConfiguration(threadsPerJob: 2)
        configure(&configuration)
        return MatteService(configuration: configuration, segmenter: try segmenter.get())
    }

    static func application(_ service: MatteService) -> some ApplicationProtocol {
        Application(router: MatteServerRoutes.router(service: service, logger: Logger(label: "test")),
                    server: MatteServerRoutes.server)
    }

    /// A multipart/form-data body: text fields and files, in order.
    static func multipart(_ fields: [(String, Part)]) -> (body: ByteBuffer, headers: HTTPFields) {
        let boundary = "----mattekit-test-boundary-7MA4YWxkTrZu0gW"
        var bytes: [UInt8] = []
        for (name, part) in fields {
            bytes += Array("--\(boundary)\r\n".utf8)
            switch part {
            case let .text(value):
                bytes += Array("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
            case let .file(fileName, data):
                bytes += Array("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
                bytes += data + Array("\r\n".utf8)
            }
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        return (ByteBuffer(bytes: bytes), [.contentType: "multipart/form-data; boundary=\(boundary)"])
    }

    enum Part { case text(String), file(String, [UInt8]) }

    /// The `{"errors":[{"title","code"}]}` body's first error.
    static func error(_ response: TestResponse) throws -> (title: String, code: String) {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
        let first = try #require((object?["errors"] as? [[String: Any]])?.first)
        return (try #require(first["title"] as? String), try #require(first["code"] as? String))
    }

    static func image(_ response: TestResponse) throws -> Image {
        try Image(decoding: Array(buffer: response.body))
    }

    /// The mean alpha (0…255) over a box given in fractions of the picture's size.
    static func meanAlpha(_ image: Image, x: ClosedRange<Double>, y: ClosedRange<Double>) -> Double {
        let channel = image.layout == .rgba ? 3 : image.layout == .grayAlpha ? 1 : 0
        var sum = 0.0, n = 0.0
        for py in Int(y.lowerBound * Double(image.height))..<Int(y.upperBound * Double(image.height)) {
            for px in Int(x.lowerBound * Double(image.width))..<Int(x.upperBound * Double(image.width)) {
                sum += Double(image.pixel(x: px, y: py)[channel]); n += 1
            }
        }
        return sum / max(n, 1)
    }
}
