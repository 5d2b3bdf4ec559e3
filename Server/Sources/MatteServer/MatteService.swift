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
        /// Of those, the ones matted in strips.
        var streamed = 0
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
    /// Of those, the ones matted in strips from the upload's bytes.
    var streamedCount: Int { state.withLock { $0.streamed } }

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
    /// A large upload (over ``MatteServerConfiguration/stripsAbove`` pixels) not reduced by
    /// `size` goes through `Matter.matte(encoded:answering:…)`: its rows are decoded from the
    /// upload's bytes, and the answer encoded strip by strip into memory, in chunks — the same
    /// bytes as the whole path, without holding the full-size photo, matte or cut-out. A crop
    /// costs a bounds pass more. An upload turned or flipped by its EXIF orientation (3–8) has
    /// its upright pixels spilled to an anonymous temporary file in `TMPDIR` (no name on disk,
    /// unlinked at once, its space reserved before decoding; about 3 bytes a pixel); if that
    /// fails the request fails with 500 `spill_failed`, the picture is never held instead.
    /// An interlaced PNG's or pre-enhanced rows, and a crop's matte and colour rows, go through
    /// the same kind of file so that they are made once; if it cannot be made, they are made
    /// again (the same bytes, more time).
    ///
    /// - Parameters:
    ///   - includeMask: also encode the matte as PNG (`Rendered.maskPNG`).
    ///   - progress: the matte's progress (called on the pipeline's thread).
    /// - Throws: `APIError` for every failure (bad image, too many pixels, timeout, cancellation).
    func run(
        _ request: MatteRequest, ticket: Ticket, includeMask: Bool = false, progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws(APIError) -> (Rendered, Timings) {
        let timeout = configuration.requestTimeoutSeconds
        do {
            return try await withThrowingTaskGroup(of: (Rendered, Timings)?.self) { group in
                group.addTask {
                    if let plan = self.encodedPlan(request, includeMask: includeMask) {
                        return try await self.workEncoded(request, plan: plan, includeMask: includeMask, matter: ticket.matter,
                                                          progress: progress)
                    }
                    return try await self.work(request, matter: ticket.matter, progress: progress) { result, pool in
                        try Rendering.render(result, request.output, includeMask: includeMask, pool: pool)
                    }
                }
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

    /// The strip plan for `request`, if its answer can be made that way: a photo of more than
    /// ``MatteServerConfiguration/stripsAbove`` pixels that needs no reduction (`size`); every
    /// answer can (``Rendering/plan(_:includeMask:)``). The header is read here only to decide;
    /// its errors are left to the whole path to report.
    private func encodedPlan(_ request: MatteRequest, includeMask: Bool) -> EncodedPlan? {
        let plan = Rendering.plan(request.output, includeMask: includeMask)
        guard let info = try? ImageInfo(decoding: request.image) else { return nil }
        let pixels = info.width.multipliedReportingOverflow(by: info.height)
        guard !pixels.overflow, pixels.partialValue > configuration.stripsAbove else { return nil }
        if let maximumPixels = request.maximumPixels, pixels.partialValue > maximumPixels { return nil }
        return plan
    }

    /// `request` through `Matter.matte(encoded:…)`. The queue time is how long an empty job
    /// waited for the pipeline's earlier work; decode is the strip path's first pass
    /// (`prepare`), encode its full-size pass (`upsample`), and matte the rest.
    private func workEncoded(
        _ request: MatteRequest, plan: EncodedPlan, includeMask: Bool, matter: Matter,
        progress: (@Sendable (MattingProgress) -> Void)?
    ) async throws -> (Rendered, Timings) {
        let clock = ContinuousClock()
        var timings = Timings()
        let start = clock.now
        let began = try await matter.pool.run { clock.now }
        var options = MattingOptions(operations: request.operations)
        options.background = plan.background
        var cropping: SubjectCrop?
        if let margin = plan.crop {
            cropping = { subject, width, height in
                try Rendering.cropRect(subject: subject, margin: margin, width: width, height: height)
            }
        }
        let matte = try await matter.matte(
            encoded: request.image, answering: plan.outputs, options: options,
            studio: request.source == .studio ? StudioTrimap() : nil,
            decoding: DecodingOptions(maximumPixelCount: configuration.maximumPixels),
            stripsAbove: configuration.stripsAbove, cropping: cropping, progress: progress)
        let rendered = try Rendering.rendered(matte, request.output, plan: plan, includeMask: includeMask)
        let end = clock.now
        timings.queue = (began - start).seconds
        timings.decode = matte.timings["prepare"] ?? 0
        timings.encode = matte.timings["upsample"] ?? 0
        timings.matte = max(0, (end - began).seconds - timings.decode - timings.encode)
        let total = (end - start).seconds
        state.withLock { s in
            s.recentSeconds = 0.8 * s.recentSeconds + 0.2 * total
            s.served += 1
            if matte.isStreamed { s.streamed += 1 }
        }
        return (rendered, timings)
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
            // A photo larger than `size` asks is reduced as it is decoded, a band of rows at a
            // time: the full-size picture is never held.
            let photo = try Image(decoding: bytes, options: DecodingOptions(maximumPixelCount: limit), reducedTo: { width, height in
                guard let maximumPixels, width * height > maximumPixels, width > 0, height > 0 else { return nil }
                let scale = (Double(maximumPixels) / Double(width * height)).squareRoot()
                return (max(1, Int(Double(width) * scale)), max(1, Int(Double(height) * scale)))
            }, pool: pool)
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
