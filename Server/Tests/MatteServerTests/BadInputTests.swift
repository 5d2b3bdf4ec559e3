import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MatteServer
import MattingKit
import NIOCore
import Testing

/// Every kind of bad input gets a 4xx with a JSON error naming the problem; the server answers
/// the next request as usual.
@Suite(.serialized) struct BadInputTests {
    let photo: [UInt8]

    init() throws { photo = try Fixtures.samplePhoto() }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let route: String
        let fields: [(String, Fixtures.Part)]
        let status: HTTPResponse.Status
        let code: String
        /// A word the title must contain (the parameter's name or the problem).
        let names: String
        var testDescription: String { name }
    }

    static func cases(_ photo: [UInt8]) -> [Case] {
        [
            Case(name: "not an image", route: "/api/remove", fields: [("file", .file("a.png", Array("just text, no picture".utf8)))],
                 status: .unsupportedMediaType, code: "unsupported_image_format", names: "PNG or JPEG"),
            Case(name: "truncated PNG", route: "/api/remove", fields: [("file", .file("a.png", Array(photo.prefix(photo.count / 2))))],
                 status: .badRequest, code: "image_truncated", names: "truncated"),
            Case(name: "truncated header", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", Array(photo.prefix(12))))],
                 status: .badRequest, code: "image_truncated", names: "truncated"),
            Case(name: "empty file", route: "/api/remove", fields: [("file", .file("a.png", []))],
                 status: .badRequest, code: "empty_file", names: "empty"),
            Case(name: "no file", route: "/api/remove", fields: [("om", .text("true"))],
                 status: .badRequest, code: "missing_source", names: "file"),
            Case(name: "no image on removebg", route: "/v1.0/removebg", fields: [("size", .text("auto"))],
                 status: .badRequest, code: "missing_source", names: "image_file"),
            Case(name: "image_url refused", route: "/v1.0/removebg", fields: [("image_url", .text("http://example.com/a.jpg"))],
                 status: .badRequest, code: "image_url_unsupported", names: "image_url"),
            Case(name: "two sources", route: "/v1.0/removebg",
                 fields: [("image_file", .file("a.png", photo)), ("image_file_b64", .text("aGVsbG8="))],
                 status: .badRequest, code: "multiple_sources", names: "image_file_b64"),
            Case(name: "bad base64", route: "/v1.0/removebg", fields: [("image_file_b64", .text("!!!not base64!!!"))],
                 status: .badRequest, code: "invalid_parameter", names: "image_file_b64"),
            Case(name: "threshold out of range", route: "/api/remove", fields: [("file", .file("a.png", photo)), ("threshold", .text("51"))],
                 status: .badRequest, code: "invalid_parameter", names: "threshold"),
            Case(name: "erosion not a number", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("erosion", .text("two"))],
                 status: .badRequest, code: "invalid_parameter", names: "erosion"),
            Case(name: "unknown preset", route: "/api/remove", fields: [("file", .file("a.png", photo)), ("preset", .text("vivid"))],
                 status: .badRequest, code: "invalid_parameter", names: "preset"),
            Case(name: "bad size", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("size", .text("huge"))],
                 status: .badRequest, code: "invalid_parameter", names: "size"),
            Case(name: "bad format", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("format", .text("webp"))],
                 status: .badRequest, code: "invalid_parameter", names: "format"),
            Case(name: "unsupported type", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("type", .text("car"))],
                 status: .badRequest, code: "invalid_parameter", names: "type"),
            Case(name: "bad colour", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("bg_color", .text("#12345"))],
                 status: .badRequest, code: "invalid_parameter", names: "bg_color"),
            Case(name: "bad rembg colour", route: "/api/remove", fields: [("file", .file("a.png", photo)), ("bgc", .text("300,0,0,255"))],
                 status: .badRequest, code: "invalid_parameter", names: "bgc"),
            Case(name: "bad crop margin", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("crop_margin", .text("60%"))],
                 status: .badRequest, code: "invalid_parameter", names: "crop_margin"),
            Case(name: "bad boolean", route: "/api/remove", fields: [("file", .file("a.png", photo)), ("om", .text("maybe"))],
                 status: .badRequest, code: "invalid_parameter", names: "om"),
            Case(name: "unknown parameter", route: "/v1.0/removebg", fields: [("image_file", .file("a.png", photo)), ("add_shadow", .text("true"))],
                 status: .badRequest, code: "unknown_parameter", names: "add_shadow"),
            Case(name: "parameter twice", route: "/api/remove",
                 fields: [("file", .file("a.png", photo)), ("threshold", .text("1")), ("threshold", .text("2"))],
                 status: .badRequest, code: "duplicate_parameter", names: "threshold"),
        ]
    }

    @Test func everyBadInputIsA4xxNamingTheProblem() async throws {
        let service = try Fixtures.service()
        try await Fixtures.application(service).test(.router) { client in
            for c in Self.cases(photo) {
                let form = Fixtures.multipart(c.fields)
                try await client.execute(uri: c.route, method: .post, headers: form.headers, body: form.body) { response in
                    #expect(response.status == c.status, "\(c.name)")
                    #expect(response.headers[.contentType] == "application/json", "\(c.name)")
                    let error = try Fixtures.error(response)
                    #expect(error.code == c.code, "\(c.name): \(error.title)")
                    #expect(error.title.contains(c.names), "\(c.name): \(error.title)")
                }
            }
            // Not a form at all.
            try await client.execute(uri: "/api/remove", method: .post, headers: [.contentType: "image/png"],
                                     body: ByteBuffer(bytes: photo)) { response in
                #expect(response.status == .unsupportedMediaType)
                let code = try Fixtures.error(response).code
                #expect(code == "unsupported_content_type")
            }
            try await client.execute(uri: "/api/remove", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=xyz"],
                                     body: ByteBuffer(string: "--xyz\r\nno headers end")) { response in
                #expect(response.status == .badRequest)
                let code = try Fixtures.error(response).code
                #expect(code == "invalid_multipart")
            }
            try await client.execute(uri: "/api/remove?url=http://example.com/a.jpg", method: .get) { response in
                #expect(response.status == .badRequest)
                let code = try Fixtures.error(response).code
                #expect(code == "image_url_unsupported")
            }
            // And the server still works.
            let good = Fixtures.multipart([("file", .file("a.png", photo)), ("om", .text("true"))])
            try await client.execute(uri: "/api/remove", method: .post, headers: good.headers, body: good.body) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func tooLargeInBytesAndInPixels() async throws {
        let small = try Fixtures.service { $0.maximumUploadBytes = 10_000 }
        try await Fixtures.application(small).test(.router) { client in
            let form = Fixtures.multipart([("file", .file("a.png", photo))])
            try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .contentTooLarge)
                let error = try Fixtures.error(response)
                #expect(error.code == "file_too_large" && error.title.contains("10000 bytes"))
            }
        }
        let few = try Fixtures.service { $0.maximumPixels = 100_000 }
        try await Fixtures.application(few).test(.router) { client in
            let form = Fixtures.multipart([("image_file", .file("a.png", photo))])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .contentTooLarge)
                let error = try Fixtures.error(response)
                #expect(error.code == "resolution_too_high" && error.title.contains("512×512"))
            }
        }
    }

    @Test func apiKeyMissingWrongAndRight() async throws {
        let service = try Fixtures.service { $0.apiKey = "s3cret-key" }
        try await Fixtures.application(service).test(.router) { client in
            let form = Fixtures.multipart([("image_file", .file("a.png", photo)), ("channels", .text("alpha"))])
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .forbidden)
                let code = try Fixtures.error(response).code
                #expect(code == "missing_api_key")
            }
            var wrong = form.headers
            wrong[HTTPField.Name("X-Api-Key")!] = "s3cret-kez"
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: wrong, body: form.body) { response in
                #expect(response.status == .forbidden)
                let code = try Fixtures.error(response).code
                #expect(code == "auth_failed")
            }
            var right = form.headers
            right[HTTPField.Name("X-Api-Key")!] = "s3cret-key"
            try await client.execute(uri: "/v1.0/removebg", method: .post, headers: right, body: form.body) { response in
                #expect(response.status == .ok)
            }
            // The page and health stay open.
            try await client.execute(uri: "/health", method: .get) { response in #expect(response.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response in #expect(response.status == .ok) }
        }
        #expect(ConstantTime.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abd".utf8)))
    }

    @Test func fullQueueAnswers429WithRetryAfter() async throws {
        let service = try Fixtures.service { $0.jobs = 1; $0.queueLength = 0 }
        try await Fixtures.application(service).test(.router) { client in
            var held: MatteService.Ticket? = try service.admit()
            #expect(held != nil)
            let form = Fixtures.multipart([("file", .file("a.png", photo))])
            try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                let code = try Fixtures.error(response).code
                #expect(code == "rate_limit_exceeded")
            }
            held = nil
            #expect(service.admittedCount == 0, "dropping a ticket gives its place back")
            try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func timeoutCancelsTheMatte() async throws {
        let service = try Fixtures.service { $0.requestTimeoutSeconds = 0.001 }
        try await Fixtures.application(service).test(.router) { client in
            let form = Fixtures.multipart([("file", .file("a.png", photo))])
            try await client.execute(uri: "/api/remove", method: .post, headers: form.headers, body: form.body) { response in
                #expect(response.status == .serviceUnavailable)
                let code = try Fixtures.error(response).code
                #expect(code == "timeout")
                #expect(response.headers[.retryAfter] != nil)
            }
        }
        #expect(service.admittedCount == 0)
        #expect(service.servedCount == 0)
    }
}
