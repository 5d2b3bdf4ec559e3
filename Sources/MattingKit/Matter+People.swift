import Foundation
import MattingImage

/// The pose detector a ``Matter`` uses for ``MattingOptions/peopleOnly``: loaded and compiled
/// for the Matter's pool on first use, once; a missing or unloadable model file is remembered
/// as "no detector" (the option then leaves masks as they are, as with no person found).
final class PersonDetectorSlot: @unchecked Sendable {
    // @unchecked: `state` is only touched under `lock`.
    private let lock = NSLock()
    private var state: PersonDetector??
    private let pool: ThreadPool

    init(pool: ThreadPool) { self.pool = pool }

    /// The detector, loading it on the first call.
    var detector: PersonDetector? {
        lock.withLock {
            if let state { return state }
            let loaded = try? PersonDetector(pool: pool)
            state = .some(loaded)
            return loaded
        }
    }
}

extension Matter {
    /// The network's coarse alpha for the working copy, with ``MattingOptions/peopleOnly``
    /// applied: both the whole-picture and the strip paths call this.
    func coarseAlpha(for working: Image, runner: SegmentationRunner, options: MattingOptions) throws -> FloatImage {
        let coarse = try runner.coarseAlpha(for: working)
        guard options.peopleOnly, let detector = people.detector else { return coarse }
        let found = try detector.peopleInSquares(of: working, pool: pool)
        return PersonDetector.keepingPeople(coarse, people: found, photoWidth: working.width, photoHeight: working.height)
    }
}
