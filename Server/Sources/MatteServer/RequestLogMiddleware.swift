import Foundation
import Hummingbird
import Logging

/// One log line per request when its answer has been written: method, path, status, body
/// bytes and seconds. Routes the router does not know answer 404 (wrong method 405) in the
/// API's JSON error shape.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue, path = request.uri.path
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            let apiError = error.status == .notFound
                ? APIError(.notFound, code: "not_found", title: "\(method) \(path): no such route (see /openapi.yaml)")
                : APIError(error.status, code: "http_error", title: error.body ?? error.status.reasonPhrase)
            response = Handlers.errorResponse(apiError)
        } catch {
            response = Handlers.errorResponse(APIError.from(error))
        }
        let status = response.status.code
        let logger = self.logger
        response.body = Self.reporting(response.body) { bytes, served in
            let suffix = served ? "" : " (connection lost)"
            logger.info("\(method) \(path) \(status) \(bytes) B \(Self.elapsed(since: start)) s\(suffix)")
        }
        return response
    }

    /// `original`, with `done(bytes, served)` called once it has been written or has failed.
    /// `served` is false when the connection failed before the whole body was handed over; a
    /// client that has every byte of a sized body may close before the end marker (which
    /// carries no bytes) is queued, and that answer counts as served.
    static func reporting(_ original: ResponseBody, done: @escaping @Sendable (_ bytes: Int, _ served: Bool) -> Void) -> ResponseBody {
        ResponseBody(contentLength: original.contentLength) { writer in
            let counting = CountingWriter(base: writer)
            do {
                try await original.write(counting)
            } catch {
                let count = counting.count
                done(count.value, count.finishing && original.contentLength == count.value)
                throw error
            }
            done(counting.count.value, true)
        }
    }

    static func elapsed(since start: ContinuousClock.Instant) -> String {
        String(format: "%.3f", (ContinuousClock.now - start).seconds)
    }
}

/// A body writer that counts the bytes passing through.
struct CountingWriter: ResponseBodyWriter {
    /// One request's body is written by one task, one buffer after another: no two writes overlap.
    final class Count: @unchecked Sendable {
        var value = 0
        /// Every body buffer was handed over and the end marker is being written.
        var finishing = false
    }
    var base: any ResponseBodyWriter
    let count = Count()

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await base.write(buffer)
        count.value += buffer.readableBytes
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        count.finishing = true
        try await base.finish(trailingHeaders)
    }
}
