import Foundation
import MattingImage

/// The detectors a ``Matter`` uses for ``MattingOptions/peopleOnly``: MediaPipe's pose
/// detector and its full-range face detector, each loaded and compiled for the Matter's pool
/// on first use, once; a missing or unloadable model file is remembered as "no detector" (the
/// option then goes by the other one, and with neither leaves masks as they are, as with no
/// person found).
final class PersonDetectorSlot: @unchecked Sendable {
    // @unchecked: `pose` and `face` are only touched under `lock`.
    private let lock = NSLock()
    private var pose: PersonDetector??
    private var face: FaceDetector??
    private let pool: ThreadPool

    init(pool: ThreadPool) { self.pool = pool }

    /// The pose detector, loading it on the first call.
    var detector: PersonDetector? {
        lock.withLock {
            if let pose { return pose }
            let loaded = try? PersonDetector(pool: pool)
            pose = .some(loaded)
            return loaded
        }
    }

    /// The face detector, loading it on the first call.
    var faceDetector: FaceDetector? {
        lock.withLock {
            if let face { return face }
            let loaded = try? FaceDetector(range: .full, minimumScore: FaceDetector.recallScore, pool: pool)
            face = .some(loaded)
            return loaded
        }
    }
}

extension Matter {
    /// The network's coarse alpha for the working copy, with ``MattingOptions/peopleOnly``
    /// applied (both the whole-picture and the strip paths call this: regions kept when a
    /// pose detection or the body under a detected face reaches them, both detectors run on
    /// the photo and on three squares along a wide or tall one), and, when
    /// ``MattingOptions/hairAwareTrimap`` and ``MattingOptions/peopleOnly`` are both on (so the detector has run anyway), the region
    /// around and above each pose detection's head in the working copy's pixels, where the
    /// trimap's band is wide (`ImageRect`). No detector run is added for the hair band (the
    /// faces are not used for it: the band was measured with the pose detector's boxes).
    func coarseAlphaAndHeads(
        for working: Image, runner: SegmentationRunner, options: MattingOptions
    ) throws -> (alpha: FloatImage, heads: [ImageRect]) {
        let coarse = try runner.coarseAlpha(for: working)
        guard options.peopleOnly else { return (coarse, []) }
        let found = try people.detector?.peopleInSquares(of: working, pool: pool) ?? []
        let faces = try people.faceDetector?.facesInSquares(of: working, pool: pool) ?? []
        let kept = PersonDetector.keepingPeople(
            coarse, people: found, faces: faces, photoWidth: working.width, photoHeight: working.height)
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
