/// How far one matte has come: reported to the `progress` handler of ``Matter``'s calls.
///
/// ``fraction`` never decreases from one call to the next, and the last call of a matte that
/// succeeds has ``fraction`` exactly 1 and ``stage`` ``Stage/finished``. The handler runs on
/// the ``Matter``'s own thread while the matte works: keep it short (hand the value to your
/// UI or log and return).
public struct MattingProgress: Sendable, Hashable {
    /// A stage of the pipeline, in the order they run (a path with no network skips
    /// ``segment``).
    public enum Stage: String, Sendable, Hashable, Codable, CaseIterable {
        /// Colour conversion, pre-enhance, and the working-size copy.
        case prepare
        /// The segmentation network.
        case segment
        /// The trimap and the alpha solve (several reports as the solver converges).
        case refine
        /// Foreground colour estimation.
        case foreground
        /// The matte and foreground brought back to the photo's size.
        case upsample
        /// Threshold, erosion, feathering and the rest of the post-processing.
        case postprocess
        /// Done: the result is ready.
        case finished
    }

    /// The share of the whole matte done, 0…1.
    public var fraction: Double
    /// The stage running.
    public var stage: Stage

    public init(fraction: Double, stage: Stage) {
        self.fraction = fraction
        self.stage = stage
    }
}

/// Turns stage starts and within-stage fractions into monotone ``MattingProgress`` reports.
///
/// Each stage owns a fixed share of 0…1 (the solve the largest); reports that would not move
/// the fraction forward by at least 1/200 within a stage are dropped, so a handler hears a
/// few dozen calls per photo, not one per solver iteration.
final class ProgressReporter: @unchecked Sendable {
    // @unchecked: used only on the Matter's pool thread, one matte at a time.
    private let handler: (@Sendable (MattingProgress) -> Void)?
    private let shares: [(stage: MattingProgress.Stage, start: Double, end: Double)]
    private var current: (stage: MattingProgress.Stage, start: Double, end: Double)
    private var last = 0.0

    /// Shares of each stage in a whole matte (relative weights; stages a path skips are
    /// left out and the rest scaled to fill 0…1).
    private static let weights: [MattingProgress.Stage: Double] = [
        .prepare: 4, .segment: 4, .refine: 62, .foreground: 12, .upsample: 12, .postprocess: 6,
    ]

    init(stages: [MattingProgress.Stage], handler: (@Sendable (MattingProgress) -> Void)?) {
        self.handler = handler
        let total = stages.reduce(0) { $0 + (Self.weights[$1] ?? 0) }
        var start = 0.0
        var shares: [(MattingProgress.Stage, Double, Double)] = []
        for stage in stages {
            let end = start + (Self.weights[stage] ?? 0) / total
            shares.append((stage, start, end))
            start = end
        }
        self.shares = shares
        current = shares.first ?? (.prepare, 0, 0)
    }

    /// The stage `stage` starts.
    func begin(_ stage: MattingProgress.Stage) {
        guard let share = shares.first(where: { $0.stage == stage }) else { return }
        current = share
        report(share.start, force: true)
    }

    /// The current stage is `fraction` (0…1) done.
    func within(_ fraction: Double) {
        guard fraction.isFinite else { return }
        report(current.start + min(1, max(0, fraction)) * (current.end - current.start), force: false)
    }

    /// The matte is done: the last report, fraction exactly 1.
    func finish() {
        last = 1
        handler?(MattingProgress(fraction: 1, stage: .finished))
    }

    private func report(_ value: Double, force: Bool) {
        guard let handler else { return }
        let value = min(max(value, last), 1)
        guard force || value >= last + 0.005 else { return }
        last = value
        handler(MattingProgress(fraction: value, stage: current.stage))
    }
}
