import Hummingbird
@testable import MatteServer
import NIOCore
import Synchronization
import Testing

/// The request log's "served" or "(connection lost)", on writers that fail at chosen points.
struct RequestLogTests {
    /// A connection that takes `accepting` bytes, then fails; `failsAtEnd` fails the end marker.
    struct FailingWriter: ResponseBodyWriter {
        struct Closed: Error {}
        var accepting: Int
        var failsAtEnd: Bool

        mutating func write(_ buffer: ByteBuffer) async throws {
            guard buffer.readableBytes <= accepting else { throw Closed() }
            accepting -= buffer.readableBytes
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
            if failsAtEnd { throw Closed() }
        }
    }

    /// Writes a body of three 100-byte buffers (sized or chunked) and returns what `done` saw.
    func report(sized: Bool, accepting: Int, failsAtEnd: Bool) async -> (bytes: Int, served: Bool)? {
        let chunk = ByteBuffer(repeating: 7, count: 100)
        let write: @Sendable (inout any ResponseBodyWriter) async throws -> Void = { writer in
            for _ in 0..<3 { try await writer.write(chunk) }
            try await writer.finish(nil)
        }
        let original = sized ? ResponseBody(contentLength: 300, write) : ResponseBody(write)
        let seen = Mutex<(Int, Bool)?>(nil)
        let body = RequestLogMiddleware<BasicRequestContext>.reporting(original) { bytes, served in
            seen.withLock { $0 = (bytes, served) }
        }
        try? await body.write(FailingWriter(accepting: accepting, failsAtEnd: failsAtEnd))
        return seen.withLock { $0.map { (bytes: $0.0, served: $0.1) } }
    }

    @Test func aWholeBodyIsServed() async {
        let seen = await report(sized: true, accepting: 300, failsAtEnd: false)
        #expect(seen?.bytes == 300 && seen?.served == true)
    }

    /// The client had every byte it was told to expect and closed before the end marker.
    @Test func aSizedBodyWhoseEndMarkerFailsIsServed() async {
        let seen = await report(sized: true, accepting: 300, failsAtEnd: true)
        #expect(seen?.bytes == 300 && seen?.served == true)
    }

    /// A chunked body ends with its end marker: without it the client cannot know it has all.
    @Test func aChunkedBodyWhoseEndMarkerFailsIsLost() async {
        let seen = await report(sized: false, accepting: 300, failsAtEnd: true)
        #expect(seen?.bytes == 300 && seen?.served == false)
    }

    @Test func aBodyCutShortIsLost() async {
        let seen = await report(sized: true, accepting: 150, failsAtEnd: false)
        #expect(seen?.bytes == 100 && seen?.served == false)
    }
}
