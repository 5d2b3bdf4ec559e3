import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MattingKit
import NIOCore

/// The request context: Hummingbird's core storage plus the connection, so that a request
/// whose client has gone can cancel its matte.
public struct MatteRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The server's routes on a router: the page, the three matting routes, health and the
/// OpenAPI document.
///
/// ```swift
/// let service = MatteService(configuration: configuration, segmenter: try ModelSegmenter.defaultModel())
/// let app = Application(router: MatteServerRoutes.router(service: service, logger: logger),
///                       server: MatteServerRoutes.server, configuration: …)
/// ```
public enum MatteServerRoutes {
    /// Builds the router for `service`.
    public static func router(service: MatteService, logger: Logger) -> Router<MatteRequestContext> {
        let router = Router(context: MatteRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        let routes = Handlers(service: service)

        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.index_html)))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
        router.get("/health") { _, _ in routes.health() }
        router.post("/api/remove") { request, context in await routes.answer(request, context, route: .rembg) }
        // rembg's GET form fetches `url`; this server fetches nothing on a client's behalf.
        router.get("/api/remove") { _, _ in
            Handlers.errorResponse(APIError(
                .badRequest, code: "image_url_unsupported",
                title: "url: this server fetches nothing on a client's behalf; POST the photo as the multipart file field file"))
        }
        router.post("/v1.0/removebg") { request, context in await routes.answer(request, context, route: .removeBG) }
        router.post("/api/matte") { request, context in await routes.answer(request, context, route: .page) }
        return router
    }

    /// The HTTP/1.1 server with the handler that turns a client's closed connection into
    /// cancellation.
    public static var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [CloseOnInputClosedHandler()], idleTimeout: .seconds(300)))
    }
}

/// A client that closes its side of the connection has gone (browsers and HTTP clients
/// close, they do not half-close): close ours too, so its request's `closeFuture` fires and
/// the matte is cancelled.
final class CloseOnInputClosedHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

struct Handlers: Sendable {
    enum Route: String { case rembg = "/api/remove", removeBG = "/v1.0/removebg", page = "/api/matte" }

    let service: MatteService

    func health() -> Response {
        let object: [String: Any] = [
            "status": "ok", "jobs": service.matters.count, "threadsPerJob": service.configuration.threadsPerJob,
            "queueLength": service.configuration.queueLength, "admitted": service.admittedCount,
            "served": service.servedCount, "apiKeyRequired": service.configuration.apiKey != nil,
            "maximumUploadBytes": service.configuration.maximumUploadBytes,
            "maximumPixels": service.configuration.maximumPixels,
            "model": service.matters.first?.segmenter != nil,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func answer(_ request: Request, _ context: MatteRequestContext, route: Route) async -> Response {
        do {
            try checkKey(request)
            var request = request
            let body = try await readBody(&request)
            var form = try FormData(body: body, contentType: request.headers[.contentType])
            try form.addQuery(request.uri.query)
            let matteRequest: MatteRequest = switch route {
            case .rembg: try MatteRequest.rembg(form)
            case .removeBG: try MatteRequest.removeBG(form)
            case .page: try MatteRequest.page(form)
            }
            let ticket = try service.admit()
            if route == .page { return streamed(matteRequest, ticket: ticket, channel: context.channel) }
            let (rendered, timings) = try await cancellingOnClose(context.channel) {
                try await service.run(matteRequest, ticket: ticket)
            }
            return image(rendered, timings: timings, request: matteRequest)
        } catch {
            return Self.errorResponse(APIError.from(error))
        }
    }

    /// Runs `body`, cancelling it if the client's connection closes first.
    private func cancellingOnClose<T: Sendable>(_ channel: any Channel, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        channel.closeFuture.whenComplete { _ in task.cancel() }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// The API key check: absent key → 403 `missing_api_key`, wrong key → 403 `auth_failed`.
    private func checkKey(_ request: Request) throws(APIError) {
        guard let expected = service.configuration.apiKey else { return }
        guard let given = request.headers[HTTPField.Name("X-Api-Key")!] else {
            throw APIError(.forbidden, code: "missing_api_key", title: "this server needs an API key in the X-Api-Key header")
        }
        guard ConstantTime.equal(Array(given.utf8), Array(expected.utf8)) else {
            throw APIError(.forbidden, code: "auth_failed", title: "the API key in X-Api-Key is not valid")
        }
    }

    /// The body, refused with 413 as soon as it passes the limit (at once when
    /// `Content-Length` says so).
    private func readBody(_ request: inout Request) async throws -> [UInt8] {
        let limit = service.configuration.maximumUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.uploadTooLarge(limit: limit)
        }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else { throw APIError.uploadTooLarge(limit: limit) }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    private func image(_ rendered: Rendered, timings: MatteService.Timings, request: MatteRequest) -> Response {
        var headers: HTTPFields = [
            .contentType: rendered.contentType,
            HTTPField.Name("X-Width")!: String(rendered.width),
            HTTPField.Name("X-Height")!: String(rendered.height),
            HTTPField.Name("X-Type")!: request.source.rawValue,
            HTTPField.Name("X-Credits-Charged")!: "0",
            HTTPField.Name("Server-Timing")!: timings.header,
            .contentDisposition: "inline; filename=\"result.\(rendered.fileExtension)\"",
        ]
        if let box = rendered.foreground {
            headers[HTTPField.Name("X-Foreground-Top")!] = String(box.y)
            headers[HTTPField.Name("X-Foreground-Left")!] = String(box.x)
            headers[HTTPField.Name("X-Foreground-Width")!] = String(box.width)
            headers[HTTPField.Name("X-Foreground-Height")!] = String(box.height)
        }
        return Response(status: .ok, headers: headers, body: Self.body(rendered.bytes))
    }

    /// The page's answer: NDJSON, one progress line per stage, then one line with the result
    /// (or with the error that stopped it). A write that fails (the page was closed) cancels
    /// the matte.
    private func streamed(_ request: MatteRequest, ticket: MatteService.Ticket, channel: any Channel) -> Response {
        let service = self.service
        let body = ResponseBody { writer in
            let (events, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(64))
            let work = Task {
                defer { continuation.finish() }
                do {
                    let (rendered, timings) = try await service.run(request, ticket: ticket, includeMask: true, progress: { progress in
                        continuation.yield(Self.line(["stage": progress.stage.rawValue, "fraction": progress.fraction]))
                    })
                    var line: [String: Any] = [
                        "done": true, "width": rendered.width, "height": rendered.height,
                        "contentType": rendered.contentType, "extension": rendered.fileExtension,
                        "image": Data(rendered.bytes.joined).base64EncodedString(),
                        "queueMs": timings.queue * 1000, "decodeMs": timings.decode * 1000, "matteMs": timings.matte * 1000, "encodeMs": timings.encode * 1000,
                    ]
                    if let mask = rendered.maskPNG { line["mask"] = Data(mask).base64EncodedString() }
                    continuation.yield(Self.line(line))
                } catch {
                    let apiError = APIError.from(error)
                    continuation.yield(Self.line(["error": ["title": apiError.title, "code": apiError.code, "status": Int(apiError.status.code)]]))
                }
            }
            channel.closeFuture.whenComplete { _ in work.cancel() }
            do {
                for await line in events { try await writer.write(ByteBuffer(bytes: line)) }
                try await writer.finish(nil)
            } catch {
                work.cancel()
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"], body: body)
    }

    /// The answer's bytes, copied into the response a slice of at most 1 MiB at a time, chunk
    /// by chunk (a large answer is not held twice, nor joined), with its length.
    static func body(_ bytes: EncodedBytes) -> ResponseBody {
        let slice = 1 << 20
        let count = bytes.count
        if bytes.chunks.count <= 1 && count <= slice { return .init(byteBuffer: ByteBuffer(bytes: bytes.joined)) }
        return ResponseBody(contentLength: count) { writer in
            for chunk in bytes.chunks {
                for start in stride(from: 0, to: chunk.count, by: slice) {
                    try await writer.write(ByteBuffer(bytes: chunk[start..<min(chunk.count, start + slice)]))
                }
            }
            try await writer.finish(nil)
        }
    }

    private static func line(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return [UInt8](data) + [10]
    }

    static func errorResponse(_ error: APIError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: error.body)))
    }
}

/// Comparison whose time does not depend on where two keys differ.
enum ConstantTime {
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
