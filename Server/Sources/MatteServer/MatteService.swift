import Foundation
import MattingKit
import Synchronization

/// The mattes a server computes: a fixed set of pipelines sharing one loaded model, a
/// bounded admission count, a timeout per request, and cancellation passed through.
///
/// Each pipeline (`Matter`) runs its calls one at a time in order; a request goes to the
/// pipeline with the fewest admitted requests. At most `jobs + queueLength` requests are
/// admitted at once; the next one is refused at once with 429 and a `Retry-After` estimate
/// rather than left to wait without bound.
public final class MatteService: Sendable {
    let configuration: MatteServerConfiguration
    let matters: [Matter]
    private let state: Mutex<State>

    private struct State {
        var admitted: [Int]
        /// Seconds of the last finished mattes (for `Retry-After`).
        var recentSeconds: Double = 2
        var served = 0
    }

    /// Pipelines around `segmenter` (nil: only `type=product`, the studio path, works).
    public init(configuration: MatteServerConfiguration, segmenter: ModelSegmenter?) {
        self.configuration = configuration
        let jobs = max(1, configuration.jobs)
        matters = (0..<jobs).map { _ in
            Matter(segmenter: segmenter, pool: ThreadPool(threadCount: max(1, configuration.threadsPerJob)))
        }
        state = Mutex(State(admitted: Array(repeating: 0, count: jobs)))
    }

    /// Requests admitted now (running or waiting).
    public var admittedCount: Int { state.withLock { $0.admitted.reduce(0, +) } }
    /// Requests answered with a result since start.
    public var servedCount: Int { state.withLock { $0.served } }

    /// A place in the queue; the place is given back when the ticket is dropped, whatever
    /// happens to the request (an error, a dropped connection, a response never written).
    final class Ticket: Sendable {
        let service: MatteService
        let index: Int
        init(service: MatteService, index: Int) { self.service = service; self.index = index }
        var matter: Matter { service.matters[index] }
        deinit { service.release(index) }
    }

    /// Admits one request, or refuses with 429 and `Retry-After` when the queue is full.
    func admit() throws(APIError) -> Ticket {
        let capacity = matters.count + max(0, configuration.queueLength)
        let choice: Int? = state.withLock { state in
            guard state.admitted.reduce(0, +) < capacity else { return nil }
            let index = state.admitted.indices.min { state.admitted[$0] < state.admitted[$1] } ?? 0
            state.admitted[index] += 1
            return index
        }
        guard let choice else {
            let seconds = state.withLock { s in s.recentSeconds * Double(capacity) / Double(matters.count) }
            throw APIError(.tooManyRequests, code: "rate_limit_exceeded",
                           title: "the server is busy: \(capacity) requests are already running or waiting; retry later",
                           retryAfter: max(1, Int(seconds.rounded(.up))))
        }
        return Ticket(service: self, index: choice)
    }

    private func release(_ index: Int) {
        state.withLock { $0.admitted[index] -= 1 }
    }

    /// Timings of one request, for `Server-Timing`.
    struct Timings: Sendable {
        /// Waiting for the pipeline (earlier requests on it), then the library's three steps.
        var queue = 0.0, decode = 0.0, matte = 0.0, encode = 0.0
        var header: String {
            String(format: "queue;dur=%.1f, decode;dur=%.1f, matte;dur=%.1f, encode;dur=%.1f",
                   queue * 1000, decode * 1000, matte * 1000, encode * 1000)
        }
    }

    /// Decodes, mattes and renders `request` on the ticket's pipeline, within the timeout.
    ///
    /// - Parameters:
    ///   - progress: the matte's progress (called on the pipeline's thread).
    ///   - render: encodes the result; runs on the pipeline's thread.
    /// - Throws: `APIError` for every failure (bad image, too many pixels, timeout, cancellation).
    func run<T: Sendable>(
        _ request: MatteRequest, ticket: Ticket, progress: (@Sendable (MattingProgress) -> Void)? = nil,
        render: @escaping @Sendable (MattingResult, ThreadPool) throws -> T
    ) async throws(APIError) -> (T, Timings) {
        let timeout = configuration.requestTimeoutSeconds
        do {
            return try await withThrowingTaskGroup(of: (T, Timings)?.self) { group in
                group.addTask { try await self.work(request, matter: ticket.matter, progress: progress, render: render) }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let answer = first else {
                    throw APIError(.serviceUnavailable, code: "timeout",
                                   title: "the image took longer than the server's limit of \(timeout) seconds", retryAfter: 5)
                }
                return answer
            }
        } catch {
            throw APIError.from(error)
        }
    }

    private func work<T: Sendable>(
        _ request: MatteRequest, matter: Matter, progress: (@Sendable (MattingProgress) -> Void)?,
        render: @escaping @Sendable (MattingResult, ThreadPool) throws -> T
    ) async throws -> (T, Timings) {
        let clock = ContinuousClock()
        var timings = Timings()
        let start = clock.now
        let limit = configuration.maximumPixels
        let maximumPixels = request.maximumPixels
        let bytes = request.image
        let pool = matter.pool
        let (photo, began) = try await pool.run { () throws -> (Image, ContinuousClock.Instant) in
            let began = clock.now
            var photo = try Image(decoding: bytes, options: DecodingOptions(maximumPixelCount: limit))
            if let maximumPixels, photo.pixelCount > maximumPixels, !photo.isEmpty {
                let scale = (Double(maximumPixels) / Double(photo.pixelCount)).squareRoot()
                let profile = photo.colorProfile
                photo = photo.resized(
                    width: max(1, Int(Double(photo.width) * scale)), height: max(1, Int(Double(photo.height) * scale)),
                    pool: pool)
                photo.colorProfile = profile
            }
            return (photo, began)
        }
        let decoded = clock.now
        timings.queue = (began - start).seconds
        timings.decode = (decoded - began).seconds
        let result: MattingResult
        switch (request.source, progress) {
        case (.studio, _):
            result = try await matter.studioMatte(photo, options: MattingOptions(operations: request.operations), progress: progress)
        case (.model, let progress?):
            result = try await matter.matte(photo, options: MattingOptions(operations: request.operations), progress: progress)
        case (.model, nil):
            result = try await matter.matte(photo, options: MattingOptions(operations: request.operations))
        }
        let matted = clock.now
        timings.matte = (matted - decoded).seconds
        let rendered = try await pool.run { try render(result, pool) }
        timings.encode = (clock.now - matted).seconds
        let total = (clock.now - start).seconds
        state.withLock { s in
            s.recentSeconds = 0.8 * s.recentSeconds + 0.2 * total
            s.served += 1
        }
        return (rendered, timings)
    }
}
