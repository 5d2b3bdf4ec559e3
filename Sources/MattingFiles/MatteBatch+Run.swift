import Foundation
import MattingKit

extension MatteBatch {
    /// What happened to one photo, as the report file records it.
    public struct Record: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable {
            /// Matted and written in this run.
            case processed
            /// Its outputs existed already.
            case skipped
            /// Not done; ``Record/error`` says why.
            case failed
        }

        /// The photo's path.
        public var input: String
        /// Its path below the input folder.
        public var relativePath: String
        /// The files that hold its results: written (processed) or found (skipped); empty when failed.
        public var outputs: [String]
        public var status: Status
        /// The one-line reason for a failure; nil otherwise. It usually starts with the photo's
        /// path (the error names its file); ``reason`` leaves that off.
        public var error: String?
        /// ``error`` without the photo's path in front, for lines that name the photo already.
        public var reason: String? {
            guard let error else { return nil }
            let prefix = input + ": "
            return error.hasPrefix(prefix) ? String(error.dropFirst(prefix.count)) : error
        }
        /// Seconds this photo took (decode to last write, or until it failed); nil when skipped.
        public var seconds: Double?
        /// The photo's width and height in pixels; nil unless processed.
        public var size: Size?

        public struct Size: Sendable, Codable, Equatable {
            public var width: Int
            public var height: Int
            public init(width: Int, height: Int) {
                self.width = width
                self.height = height
            }
        }

        public init(item: Item) {
            input = item.job.input.path
            relativePath = item.relativePath
            outputs = []
            switch item.state {
            case .pending, .finished:
                status = .skipped
                outputs = item.job.outputs.map(\.path)
            case let .rejected(reason):
                status = .failed
                error = reason
            }
        }

        enum CodingKeys: String, CodingKey { case input, relativePath = "relative_path", outputs, status, error, seconds, size }

        // Explicit nulls (rather than absent keys) so every record has the same keys.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(relativePath, forKey: .relativePath)
            try c.encode(outputs, forKey: .outputs)
            try c.encode(status, forKey: .status)
            try c.encode(error, forKey: .error)
            try c.encode(seconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .seconds)
            try c.encode(size, forKey: .size)
        }
    }

    /// Progress of a run, delivered one at a time in the order things happen.
    public enum Event: Sendable {
        /// A worker took the photo.
        case started(Item)
        /// The photo is done (``Record/Status/processed`` or ``Record/Status/failed``).
        case finished(Record)
    }

    /// Mattes the plan's pending photos, one photo per `Matter` at a time, and returns one
    /// record per item of the plan, in the plan's order (skipped and rejected ones included).
    ///
    /// A failure is recorded and the run goes on. Each photo runs on one of `matters` (its
    /// pool does the decoding, matting and encoding), so `matters.count` photos are in flight
    /// at once and the thread budget is the sum of their pools' threads. `onEvent` is called
    /// from this task, one event at a time and never while any lock is held.
    ///
    /// - Parameters:
    ///   - plan: what ``plan()`` decided; only its pending photos are matted.
    ///   - matters: the pipelines to run on (at least one). They need a segmenter when
    ///     ``needsModel`` (without one every pending photo fails with `MattingError.noModel`).
    ///   - onEvent: told when each photo starts and finishes (for progress displays).
    /// - Returns: the records; when the task is cancelled, photos not yet started are
    ///   recorded as failed with the reason "cancelled".
    public func run(
        _ plan: Plan, matters: [Matter], onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) async -> [Record] {
        precondition(!matters.isEmpty, "a batch needs at least one Matter")
        var records = plan.items.map(Record.init(item:))
        var pending = plan.items.indices.filter { plan.items[$0].state == .pending }[...]
        await withTaskGroup(of: (index: Int, record: Record, matter: Int).self) { group in
            var idle = Array(matters.indices.reversed())
            func startNext() {
                guard let worker = idle.popLast(), let index = pending.popFirst() else { return }
                let item = plan.items[index], matter = matters[worker]
                onEvent(.started(item))
                group.addTask { (index, await Self.process(item, matter: matter), worker) }
            }
            for _ in matters { startNext() }
            for await done in group {
                records[done.index] = done.record
                onEvent(.finished(done.record))
                idle.append(done.matter)
                if !Task.isCancelled { startNext() }
            }
        }
        for index in pending {
            records[index].status = .failed
            records[index].error = "cancelled"
        }
        return records
    }

    static func process(_ item: Item, matter: Matter) async -> Record {
        var record = Record(item: item)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let outcome = try await item.job.run(on: matter)
            record.status = .processed
            record.outputs = outcome.outputs.map(\.path)
            record.size = Record.Size(width: outcome.width, height: outcome.height)
        } catch {
            record.status = .failed
            record.outputs = []
            record.error = "\(error)".replacingOccurrences(of: "\n", with: " ")
        }
        record.seconds = (clock.now - start).seconds
        return record
    }
}
