import Foundation
import Synchronization

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
        /// The one-line reason for a failure; nil otherwise.
        public var error: String?
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

    /// Mattes the plan's pending photos on `jobs` worker threads and returns one record per
    /// item of the plan, in the plan's order (skipped and rejected ones included).
    ///
    /// A failure is recorded and the run goes on. `onEvent` is called on the worker threads,
    /// never two at once.
    ///
    /// - Parameters:
    ///   - plan: what ``plan()`` decided; only its pending photos are matted.
    ///   - jobs: photos in flight at once (at least 1). Each photo's network runs on the
    ///     threads `matter` was made with; jobs × threads ≈ cores is a good choice.
    ///   - matter: the loaded pipeline, shared by every worker; needed when ``needsModel``
    ///     (without it every pending photo fails).
    ///   - onEvent: told when each photo starts and finishes (for progress displays).
    public func run(
        _ plan: Plan, jobs: Int, matter: Matter?, onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) -> [Record] {
        let pending = plan.items.indices.filter { plan.items[$0].state == .pending }
        let state = RunState(records: plan.items.map(Record.init(item:)))
        let workers = max(1, min(jobs, pending.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    let index: Int? = state.progress.withLock { state in
                        guard state.next < pending.count else { return nil }
                        defer { state.next += 1 }
                        onEvent(.started(plan.items[pending[state.next]]))
                        return pending[state.next]
                    }
                    guard let index else { return }
                    let record = Self.process(plan.items[index], matter: matter)
                    state.progress.withLock { state in
                        state.records[index] = record
                        onEvent(.finished(record))
                    }
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return state.progress.withLock { $0.records }
    }

    /// The workers' shared position in the plan and the records so far.
    final class RunState: Sendable {
        let progress: Mutex<(next: Int, records: [Record])>
        init(records: [Record]) { progress = Mutex((0, records)) }
    }

    static func process(_ item: Item, matter: Matter?) -> Record {
        var record = Record(item: item)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let outcome = try item.job.run {
                guard let matter else { throw MattingError.unsuitableModel("no model was loaded for this batch") }
                return matter
            }
            record.status = .processed
            record.outputs = outcome.outputs.map(\.path)
            record.size = Record.Size(width: outcome.width, height: outcome.height)
        } catch {
            record.status = .failed
            record.outputs = []
            record.error = "\(error)".replacingOccurrences(of: "\n", with: " ")
        }
        record.seconds = MatteJob.seconds(clock.now - start)
        return record
    }
}
