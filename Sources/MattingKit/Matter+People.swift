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
    /// applied (both the whole-picture and the strip paths call this), and, when ``MattingOptions/hairAwareTrimap`` and
    /// ``MattingOptions/peopleOnly`` are both on (so the detector has run anyway), the region
    /// around and above each detected person's head in the working copy's pixels, where the
    /// trimap's band is wide (`ImageRect`). No detector run is added for the hair band.
    func coarseAlphaAndHeads(
        for working: Image, runner: SegmentationRunner, options: MattingOptions
    ) throws -> (alpha: FloatImage, heads: [ImageRect]) {
        let coarse = try runner.coarseAlpha(for: working)
        guard options.peopleOnly, let detector = people.detector else { return (coarse, []) }
        let found = try detector.peopleInSquares(of: working, pool: pool)
        let kept = PersonDetector.keepingPeople(coarse, people: found, photoWidth: working.width, photoHeight: working.height)
        let heads = options.hairAwareTrimap ? found.map { Self.hairRegion($0, width: working.width, height: working.height) } : []
        return (kept, heads)
    }

    /// Around and above a detection's head box: twice its width, centred, from one box height
    /// above its top to its bottom (the box sits loosely between the face and the shoulders,
    /// so hair reaches well above it).
    static func hairRegion(_ person: PersonDetection, width: Int, height: Int) -> ImageRect {
        let w = Float(width), h = Float(height), box = person.face
        let x0 = (box.x - box.width / 2) * w, x1 = (box.x + box.width * 1.5) * w
        let y0 = (box.y - box.height) * h, y1 = (box.y + box.height) * h
        return ImageRect(
            x: Int(x0.rounded(.down)), y: Int(y0.rounded(.down)), width: Int((x1 - x0).rounded(.up)),
            height: Int((y1 - y0).rounded(.up)))
    }
}
