import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MatteServer
import MattingKit
import NIOCore
import Synchronization
import Testing

/// Large uploads matted in strips from their bytes (`MatteServerConfiguration.stripsAbove`):
/// every answer the strips serve holds the bytes and headers of the whole-picture path.
@Suite(.serialized) struct StripUploadTests {
    /// The sample portrait upscaled to 2400×1800 (reduced for the network: guided upsampling
    /// and foreground correction at full size), as JPEG.
    static func largePhoto() throws -> [UInt8] {
        let sample = try Image(decoding: try Fixtures.samplePhoto())
        return try sample.converted(to: .rgb).resized(width: 2400, height: 1800, filter: .bilinear).encoded(as: .jpeg)
    }

    /// One answer: the status, the headers that describe the picture, and the body.
    struct Answer: Equatable, Sendable {
        var status: HTTPResponse.Status
        var headers: [String]
        var body: [UInt8]
    }

    static func answers(_ service: MatteService, _ requests: [Request]) async throws -> [Answer] {
        let answers = Mutex<[Answer]>([])
        try await Fixtures.application(service).test(.router) { client in
            for request in requests {
                let form = Fixtures.multipart(request.fields)
                try await client.execute(uri: request.uri, method: .post, headers: form.headers, body: form.body) { response in
                    let names = ["Content-Type", "X-Width", "X-Height", "X-Foreground-Top", "X-Foreground-Left",
                                 "X-Foreground-Width", "X-Foreground-Height"]
                    let answer = Answer(status: response.status, headers: names.map { response.headers[HTTPField.Name($0)!] ?? "-" },
                                        body: Array(buffer: response.body))
                    answers.withLock { $0.append(answer) }
                }
            }
        }
        return answers.withLock { $0 }
    }

    typealias Request = (uri: String, fields: [(String, Fixtures.Part)])

    /// Sends `requests` to a service that streams every upload and to one that never does.
    /// Expects the first to have streamed them all and the second none, and every pair of
    /// answers to be 200 with the same headers and bytes. Returns the streamed answers.
    static func streamedAnswersEqualTheWholePaths(_ requests: [Request],
                                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Answer] {
        let strips = try Fixtures.service { $0.stripsAbove = 0 }
        let whole = try Fixtures.service { $0.stripsAbove = Int.max }
        let streamed = try await answers(strips, requests)
        let expected = try await answers(whole, requests)
        #expect(strips.streamedCount == requests.count, "the strips served \(strips.streamedCount) of \(requests.count)",
                sourceLocation: sourceLocation)
        #expect(whole.streamedCount == 0, sourceLocation: sourceLocation)
        #expect(streamed.count == requests.count && expected.count == requests.count, sourceLocation: sourceLocation)
        for (index, (a, b)) in zip(streamed, expected).enumerated() {
            let name = "\(requests[index].uri) #\(index)"
            #expect(a.status == .ok && b.status == .ok, "\(name): \(a.status), \(b.status)", sourceLocation: sourceLocation)
            #expect(a.headers == b.headers, "\(name): \(a.headers) vs \(b.headers)", sourceLocation: sourceLocation)
            #expect(a.body == b.body, "\(name): the bodies differ (\(a.body.count) vs \(b.body.count) bytes)",
                    sourceLocation: sourceLocation)
        }
        return streamed
    }

    @Test func largeUploadsInStripsEqualTheWholePath() async throws {
        let photo = try Self.largePhoto()
        let requests: [Request] = [
            ("/api/remove", [("file", .file("big.jpg", photo))]),                                   // PNG cut-out
            ("/api/remove", [("file", .file("big.jpg", photo)), ("om", .text("true"))]),            // PNG mask
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("bg_color", .text("81d4fa"))]),  // JPEG over a colour
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("format", .text("zip"))]),         // color.jpg + alpha.png
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("bg_color", .text("81d4fa")), ("format", .text("png"))]),  // RGB PNG over a colour
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("bg_color", .text("81d4fa77"))]),  // RGBA PNG over a translucent colour
            ("/api/remove", [("file", .file("big.jpg", photo)), ("bgc", .text("129,212,250,119"))]),          // the same through rembg
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("bg_color", .text("81d4fa77")), ("format", .text("jpg"))]),  // JPEG over it
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("channels", .text("alpha")), ("format", .text("jpg"))]),  // JPEG mask
        ]
        let streamed = try await Self.streamedAnswersEqualTheWholePaths(requests)
        // The answers differ from each other in type and pixels (each is what was asked for).
        #expect(streamed[4].headers[0] == "image/png" && streamed[6].headers[0] == "image/png" && streamed[7].headers[0] == "image/jpeg")
        #expect(streamed[8].headers[0] == "image/jpeg")
        let overOpaque = try Image(decoding: streamed[4].body), overTranslucent = try Image(decoding: streamed[5].body)
        #expect(overOpaque.layout == .rgb && overTranslucent.layout == .rgba)
        #expect(overOpaque[1, 1, 0] == 0x81 && overTranslucent[1, 1, 3] == 0x77)
        #expect(streamed[5].body == streamed[6].body, "bg_color 81d4fa77 and bgc 129,212,250,119 are the same colour")
        // Not vacuous: a full-size cut-out with the astronaut in it and the background gone.
        let cutout = try Image(decoding: try #require(streamed.first).body)
        #expect(cutout.width == 2400 && cutout.height == 1800 && cutout.layout == .rgba)
        #expect(Fixtures.meanAlpha(cutout, x: 0.4...0.6, y: 0.7...0.9) > 240)
        #expect(Fixtures.meanAlpha(cutout, x: 0.0...0.1, y: 0.0...0.1) < 15)
    }

    /// A photo of at most 1000 px a side (not reduced for the network), as JPEG, optionally
    /// tagged with an EXIF orientation (an APP1 segment after the SOI; the stored pixels are
    /// the sample's, so the upright picture is the sample turned as the tag says).
    static func smallPhoto(orientation: Int? = nil, width: Int = 1000, height: Int = 750) throws -> [UInt8] {
        let sample = try Image(decoding: try Fixtures.samplePhoto())
        let jpeg = try sample.converted(to: .rgb).resized(width: width, height: height, filter: .bilinear).encoded(as: .jpeg)
        guard let orientation else { return jpeg }
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8)] }
        let tiff = [0x49, 0x49] + u16(42) + u16(8) + u16(0) + u16(1) + u16(0x0112) + u16(3) + u16(1) + u16(0)
            + u16(orientation) + u16(0) + u16(0) + u16(0)
        let payload = Array("Exif\0\0".utf8) + tiff
        let length = payload.count + 2
        return Array(jpeg[0..<2]) + [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload + Array(jpeg[2...])
    }

    /// Uploads turned or flipped by their EXIF orientation stream through the anonymous spill
    /// file, with the whole path's answers (upright); so does a crop of one.
    @Test(arguments: [3, 6])
    func turnedUploadsStreamWithTheWholePathsBytes(_ orientation: Int) async throws {
        let photo = try Self.smallPhoto(orientation: orientation)
        let requests: [Request] = [
            ("/api/remove", [("file", .file("turned.jpg", photo))]),                                            // PNG cut-out
            ("/v1.0/removebg", [("image_file", .file("turned.jpg", photo)), ("bg_color", .text("81d4fa"))]),    // JPEG over a colour
            ("/v1.0/removebg", [("image_file", .file("turned.jpg", photo)), ("crop", .text("true"))]),          // cropped
        ]
        let streamed = try await Self.streamedAnswersEqualTheWholePaths(requests)
        // Upright: a quarter turn swaps the sides.
        let cutout = try Image(decoding: try #require(streamed.first).body)
        #expect(orientation == 6 ? cutout.width == 750 && cutout.height == 1000 : cutout.width == 1000 && cutout.height == 750)
    }

    /// A crop (remove.bg's `crop`, `crop_margin`) streams: a bounds pass finds the subject's
    /// box, then only the crop is encoded, with the whole path's bytes and headers for every
    /// kind of answer.
    @Test func cropsStreamWithTheWholePathsBytes() async throws {
        let photo = try Self.smallPhoto()
        func cropped(_ uri: String, _ fields: [(String, Fixtures.Part)]) -> Request {
            (uri, [(uri == "/api/remove" ? "file" : "image_file", .file("small.jpg", photo)), ("crop", .text("true"))] + fields)
        }
        let requests = [
            cropped("/v1.0/removebg", []),                                                         // PNG cut-out
            cropped("/v1.0/removebg", [("crop_margin", .text("10% 37px"))]),                      // with a margin
            cropped("/v1.0/removebg", [("bg_color", .text("81d4fa")), ("crop_margin", .text("5%"))]),  // JPEG over a colour
            cropped("/v1.0/removebg", [("bg_color", .text("81d4fa")), ("format", .text("png"))]),  // RGB PNG over it
            cropped("/v1.0/removebg", [("bg_color", .text("81d4fa77"))]),                          // RGBA PNG, translucent
            cropped("/v1.0/removebg", [("channels", .text("alpha"))]),                             // PNG mask
            cropped("/v1.0/removebg", [("channels", .text("alpha")), ("format", .text("jpg"))]),   // JPEG mask
            cropped("/v1.0/removebg", [("format", .text("zip"))]),                                 // color.jpg + alpha.png
        ]
        let streamed = try await Self.streamedAnswersEqualTheWholePaths(requests)
        // Not vacuous: cropped, to the subject (its box starts at the answer's edge), smaller
        // with no margin than with one (where the picture leaves room for the margin).
        let plain = try Image(decoding: streamed[0].body), margined = try Image(decoding: streamed[1].body)
        #expect(plain.width < 1000 || plain.height < 750)
        #expect(streamed[0].headers[3] == "0" && streamed[0].headers[4] == "0", "\(streamed[0].headers)")
        #expect(margined.width >= plain.width && margined.height >= plain.height
                && (margined.width > plain.width || margined.height > plain.height), "\(margined.width)×\(margined.height)")
        #expect(streamed[0].headers[1] == String(plain.width) && streamed[0].headers[2] == String(plain.height))
    }

    /// A crop with no subject is 400 `unknown_foreground` in strips as on the whole path.
    @Test func cropWithNoSubjectIsTheSameErrorInStrips() async throws {
        let plain = try Image(width: 400, height: 300, layout: .rgb) { _, _, _ in 250 }.encoded(as: .png)
        let requests: [Request] = [
            ("/v1.0/removebg", [("image_file", .file("plain.png", plain)), ("crop", .text("true")), ("type", .text("product"))]),
        ]
        let streamed = try await Self.answers(try Fixtures.service { $0.stripsAbove = 0 }, requests)
        let expected = try await Self.answers(try Fixtures.service { $0.stripsAbove = Int.max }, requests)
        #expect(streamed == expected)
        #expect(streamed.first?.status == .badRequest)
        let body = String(decoding: streamed.first?.body ?? [], as: UTF8.self)
        #expect(body.contains("unknown_foreground"), "\(body)")
    }

    /// The page's answer (cut-out and mask, over a colour as PNG too) comes from the strips
    /// with the whole path's bytes.
    @Test func thePageStreams() async throws {
        let photo = try Self.largePhoto()
        let strips = try Fixtures.service { $0.stripsAbove = 0 }

        func pageImages(_ service: MatteService, _ fields: [(String, Fixtures.Part)]) async throws -> [String] {
            let images = Mutex<[String]>([])
            try await Fixtures.application(service).test(.router) { client in
                let form = Fixtures.multipart([("file", .file("big.jpg", photo))] + fields)
                try await client.execute(uri: "/api/matte", method: .post, headers: form.headers, body: form.body) { response in
                    let last = String(buffer: response.body).split(separator: "\n").last.map { String($0) } ?? ""
                    let object = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
                    let found = [object["image"] as? String ?? "none", object["mask"] as? String ?? "none"]
                    images.withLock { $0 = found }
                }
            }
            return images.withLock { $0 }
        }
        let whole = try Fixtures.service { $0.stripsAbove = Int.max }
        for (count, fields) in [[("format", Fixtures.Part.text("jpg"))], [("bg_color", .text("81d4fa80")), ("format", .text("png"))]].enumerated() {
            let streamedPage = try await pageImages(strips, fields)
            #expect(strips.streamedCount == count + 1)
            let wholePage = try await pageImages(whole, fields)
            #expect(streamedPage == wholePage && !streamedPage.contains("none"), "\(fields)")
        }
    }

    /// `size` reduces a large upload as it is decoded: the answer is the reduced size, and the
    /// same bytes with the strips on or off (both reduce before matting).
    @Test func sizeReducesAsTheUploadIsDecoded() async throws {
        let photo = try Self.largePhoto()
        let requests: [Request] = [
            ("/v1.0/removebg", [("image_file", .file("big.jpg", photo)), ("size", .text("medium"))]),
        ]
        let strips = try await Self.answers(try Fixtures.service { $0.stripsAbove = 0 }, requests)
        let whole = try await Self.answers(try Fixtures.service { $0.stripsAbove = Int.max }, requests)
        #expect(strips == whole)
        let answer = try #require(strips.first)
        // 1.5 MP of 2400×1800: scale √(1.5 M / 4.32 M).
        let scale = (1_500_000.0 / (2400.0 * 1800.0)).squareRoot()
        #expect(answer.status == .ok && answer.headers[1] == String(Int(2400 * scale)) && answer.headers[2] == String(Int(1800 * scale)))
        let image = try Image(decoding: answer.body)
        #expect(image.width == Int(2400 * scale) && image.height == Int(1800 * scale))
        #expect(Fixtures.meanAlpha(image, x: 0.4...0.6, y: 0.7...0.9) > 240)
    }

    /// A broken large upload gives the documented JSON error on the strip path as on the whole
    /// path: 400 `image_truncated`, for every kind of answer the strips make.
    @Test func brokenUploadsInStripsGiveTheJSONErrors() async throws {
        let photo = try Self.largePhoto()
        let truncated = Array(photo.prefix(photo.count * 2 / 3))
        let requests: [Request] = [
            ("/api/remove", [("file", .file("big.jpg", truncated))]),
            ("/v1.0/removebg", [("image_file", .file("big.jpg", truncated)), ("bg_color", .text("81d4fa77"))]),
            ("/v1.0/removebg", [("image_file", .file("big.jpg", truncated)), ("format", .text("zip"))]),
        ]
        let strips = try await Self.answers(try Fixtures.service { $0.stripsAbove = 0 }, requests)
        let whole = try await Self.answers(try Fixtures.service { $0.stripsAbove = Int.max }, requests)
        #expect(strips.count == requests.count && whole.count == requests.count)
        for answer in strips + whole {
            #expect(answer.status == .badRequest && answer.headers[0] == "application/json")
            let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            let first = (object?["errors"] as? [[String: Any]])?.first
            #expect(first?["code"] as? String == "image_truncated", "\(String(decoding: answer.body, as: UTF8.self))")
        }
    }
}
