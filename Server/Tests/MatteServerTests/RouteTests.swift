import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MatteServer
import MattingKit
import NIOCore
import Testing

/// Every route through Hummingbird's test client, with the real model on the sample portrait.
@Suite(.serialized) struct RouteTests {
    let photo: [UInt8]
    let service: MatteService

    init() throws {
        photo = try Fixtures.samplePhoto()
        service = try Fixtures.service()
    }

    @Test func pageIsServedWithEveryControl() async throws {
        try await Fixtures.application(service).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                let html = String(buffer: response.body)
                for id in ["file-input", "preset", "threshold", "erosion", "feather", "background", "format-png", "format-jpg",
                           "save-mask", "progress", "result-image", "download-cutout", "download-mask", "tab-batch",
                           "batch-input", "batch-download", "paste-warning"] {
                    #expect(html.contains("id=\"\(id)\""), "the page has no #\(id)")
                }
                // Offline: no asset from anywhere else.
                #expect(!html.contains("http://") && !html.contains("https://"))
            }
        }
    }

    @Test func healthAndOpenAPI() async throws {
        try await Fixtures.application(service).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(object?["status"] as? String == "ok")
                #expect(object?["model"] as? Bool == true)
            }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let committed = try String(contentsOf: URL(fileURLWithPath: #filePath)
                    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("Sources/MatteServer/Resources/openapi.yaml"), encoding: .utf8)
                #expect(String(buffer: response.body) == committed)
                for path in ["/api/remove:", "/v1.0/removebg:", "/api/matte:", "/health:", "/openapi.yaml:"] {
                    #expect(committed.contains("\n  \(path)\n"), "the document has no \(path)")
                }
            }
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try Fixtures.error(response).code
                #expect(code == "not_found")
            }
        }
    }

    @Test func rembgCutoutMaskAndBackground() async throws {
        try await Fixtures.application(service).test(.router) { client in
            let form = Fixtures.multipart([("file", .file("astronaut.png", photo))])
            try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                let cutout = try Fixtures.image(response)
                #expect(cutout.width == 512 && cutout.height == 512 && cutout.layout == .rgba)
                // The astronaut fills the lower centre; the top corners are background.
                #expect(Fixtures.meanAlpha(cutout, x: 0.4...0.6, y: 0.7...0.9) > 240)
                #expect(Fixtures.meanAlpha(cutout, x: 0.0...0.1, y: 0.0...0.1) < 15)
            }
            let mask = Fixtures.multipart([("file", .file("a.png", photo)), ("om", .text("true"))])
            try await client.execute(uri: "/api/remove", method: .post, headers: mask.headers, body: mask.body) { response in
                #expect(response.status == .ok)
                let matte = try Fixtures.image(response)
                #expect(matte.layout == .gray && matte.width == 512)
                #expect(Fixtures.meanAlpha(matte, x: 0.4...0.6, y: 0.7...0.9) > 240)
            }
            // rembg reads bgc from the query string: r,g,b,a.
            let plain = Fixtures.multipart([("file", .file("a.png", photo))])
            try await client.execute(uri: "/api/remove?bgc=255,0,0,255", method: .post, headers: plain.headers, body: plain.body) { response in
                #expect(response.status == .ok)
                let flat = try Fixtures.image(response)
                #expect(flat.layout == .rgb)
                #expect(flat.pixel(x: 2, y: 2) == [255, 0, 0])
            }
        }
    }

    @Test func removeBGFormatsAndHeaders() async throws {
        try await Fixtures.application(service).test(.router) { client in
            let form = Fixtures.multipart([("image_file", .file("astronaut.png", photo)), ("size", .text("auto"))])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                #expect(response.headers[HTTPField.Name("X-Width")!] == "512")
                #expect(response.headers[HTTPField.Name("X-Height")!] == "512")
                #expect(response.headers[HTTPField.Name("X-Type")!] == "person")
                let top = Int(response.headers[HTTPField.Name("X-Foreground-Top")!] ?? "")
                #expect(top != nil && top! < 256)
                let layout = try Fixtures.image(response).layout
                #expect(layout == .rgba)
            }
            // JSON with base64, an opaque background: auto → JPEG.
            let json = try JSONSerialization.data(withJSONObject: [
                "image_file_b64": Data(photo).base64EncodedString(), "bg_color": "81d4fa", "size": "preview",
            ])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(bytes: json)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
                let flat = try Fixtures.image(response)
                #expect(flat.pixelCount <= 250_000 && flat.width == flat.height)
                let corner = flat.pixel(x: 1, y: 1)
                #expect(abs(Int(corner[0]) - 0x81) < 6 && abs(Int(corner[1]) - 0xd4) < 6 && abs(Int(corner[2]) - 0xfa) < 6)
            }
            // zip: color.jpg and alpha.png, stored.
            let zip = Fixtures.multipart([("image_file", .file("a.png", photo)), ("format", .text("zip"))])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: zip.headers, body: zip.body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/zip")
                let files = try ZipReader.entries(Array(buffer: response.body))
                #expect(files.map(\.name) == ["color.jpg", "alpha.png"])
                let color = try Image(decoding: files[0].bytes), alpha = try Image(decoding: files[1].bytes)
                #expect(color.layout == .rgb && color.width == 512)
                #expect(alpha.layout == .gray && alpha.width == 512)
            }
            // channels=alpha, crop with a margin.
            let cropped = Fixtures.multipart([
                ("image_file", .file("a.png", photo)), ("channels", .text("alpha")), ("crop", .text("true")),
                ("crop_margin", .text("10px")),
            ])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: cropped.headers, body: cropped.body) { response in
                #expect(response.status == .ok)
                let matte = try Fixtures.image(response)
                #expect(matte.layout == .gray)
                #expect(matte.width < 512 || matte.height < 512)
                #expect(response.headers[HTTPField.Name("X-Width")!] == String(matte.width))
                let left = Int(response.headers[HTTPField.Name("X-Foreground-Left")!] ?? "-1") ?? -1
                #expect(left == 10 || left == 0, "the margin is 10 px unless the subject touches the edge")
            }
            // Studio mode and our own parameters.
            let studio = Fixtures.multipart([
                ("image_file", .file("a.png", photo)), ("type", .text("product")), ("threshold", .text("30")),
                ("erosion", .text("2")), ("feather", .text("false")),
            ])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: studio.headers, body: studio.body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-Type")!] == "product")
            }
        }
    }

    @Test func ownParametersChangeTheMatte() async throws {
        try await Fixtures.application(service).test(.router) { client in
            var mattes: [Image] = []
            for fields in [[("preset", "portrait")], [("threshold", "50"), ("erosion", "5"), ("feather", "false")]] {
                let form = Fixtures.multipart([("file", .file("a.png", photo)), ("om", .text("1"))] + fields.map { ($0.0, .text($0.1)) })
                try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                    #expect(response.status == .ok)
                    mattes.append(try Fixtures.image(response))
                }
            }
            #expect(mattes.count == 2 && mattes[0] != mattes[1])
            // Erosion 5 shrinks the subject: fewer opaque pixels.
            let opaque = mattes.map { m in m.packedComponents.filter { $0 > 0 }.count }
            #expect(opaque[1] < opaque[0])
        }
    }

    @Test func pageRouteStreamsProgressThenTheResult() async throws {
        try await Fixtures.application(service).test(.router) { client in
            let form = Fixtures.multipart([("file", .file("a.png", photo)), ("format", .text("jpg")), ("bg_color", .text("#00ff00"))])
            try await client.execute(uri: "/api/matte", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-ndjson")
                let lines = String(buffer: response.body).split(separator: "\n").map {
                    (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
                }
                let fractions = lines.compactMap { $0["fraction"] as? Double }
                #expect(fractions.count >= 3)
                #expect(fractions == fractions.sorted())
                let last = try #require(lines.last)
                #expect(last["done"] as? Bool == true)
                #expect(last["width"] as? Int == 512 && last["extension"] as? String == "jpg")
                let image = try Image(decoding: [UInt8](try #require(Data(base64Encoded: last["image"] as? String ?? ""))))
                #expect(image.width == 512 && image.layout == .rgb)
                let mask = try Image(decoding: [UInt8](try #require(Data(base64Encoded: last["mask"] as? String ?? ""))))
                #expect(mask.layout == .gray)
            }
            // An upload that is not an image: the error arrives as the stream's last line.
            let bad = Fixtures.multipart([("file", .file("a.png", Array("hello".utf8)))])
            try await client.execute(uri: "/api/matte", method: .post, headers: bad.headers, body: bad.body) { response in
                let last = String(buffer: response.body).split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.contains("\"unsupported_image_format\""))
            }
        }
    }
}

/// Reads a stored ZIP's entries through its central directory (for checking the server's).
enum ZipReader {
    struct Malformed: Error {}
    static func entries(_ zip: [UInt8]) throws -> [(name: String, bytes: [UInt8])] {
        func u16(_ i: Int) throws -> Int { guard i + 2 <= zip.count else { throw Malformed() }; return Int(zip[i]) | Int(zip[i + 1]) << 8 }
        func u32(_ i: Int) throws -> Int { let low = try u16(i), high = try u16(i + 2); return low | high << 16 }
        guard zip.count >= 22 else { throw Malformed() }
        let end = zip.count - 22
        guard try u32(end) == 0x0605_4b50 else { throw Malformed() }
        var at = try u32(end + 16)
        var out: [(String, [UInt8])] = []
        for _ in 0..<(try u16(end + 10)) {
            guard try u32(at) == 0x0201_4b50, try u16(at + 10) == 0 else { throw Malformed() }
            let crc = try u32(at + 16), size = try u32(at + 20), nameLength = try u16(at + 28), local = try u32(at + 42)
            let name = String(decoding: zip[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start + size <= zip.count else { throw Malformed() }
            let bytes = Array(zip[start..<(start + size)])
            guard ZipArchive.crc32(bytes) == UInt32(crc) else { throw Malformed() }
            out.append((name, bytes))
            at += 46 + nameLength + (try u16(at + 30)) + (try u16(at + 32))
        }
        return out
    }
}
