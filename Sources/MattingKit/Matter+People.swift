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
    /// the photo and on three squares along a wide or tall one) and then
    /// ``MattingOptions/personCrops`` (the face detector's head-and-shoulders squares segmented
    /// again and raising the alpha inside them, feathered to their edges; the returned mask is then finer than
    /// the network's output), and, when
    /// ``MattingOptions/hairAwareTrimap`` and ``MattingOptions/peopleOnly`` are both on (so the detector has run anyway), the region
    /// around and above each pose detection's head in the working copy's pixels, where the
    /// trimap's band is wide (`ImageRect`). No detector run is added for the hair band (the
    /// faces are not used for it: the band was measured with the pose detector's boxes).
    func coarseAlphaAndHeads(
        for working: Image, runner: SegmentationRunner, options: MattingOptions
    ) throws -> (alpha: FloatImage, heads: [ImageRect]) {
        let coarse = try runner.coarseAlpha(for: working)
        guard options.peopleOnly || options.personCrops else { return (coarse, []) }
        let found = options.peopleOnly ? try people.detector?.peopleInSquares(of: working, pool: pool) ?? [] : []
        let faces = try people.faceDetector?.facesInSquares(of: working, pool: pool) ?? []
        var alpha = coarse
        if options.peopleOnly {
            alpha = PersonDetector.keepingPeople(
                alpha, people: found, faces: faces, photoWidth: working.width, photoHeight: working.height)
        }
        if options.personCrops {
            let squares = Self.headAndShoulders(faces: faces, width: working.width, height: working.height)
            alpha = try Self.raisingWithCrops(alpha, of: working, crops: squares, pool: pool) { try runner.coarseAlpha(for: $0) }
        }
        let heads = options.peopleOnly && options.hairAwareTrimap
            ? found.map { Self.hairRegion($0, width: working.width, height: working.height) } : []
        return (alpha, heads)
    }

    /// The longest side of the mask ``raisingWithCrops(_:of:crops:pool:segment:)`` returns (the
    /// working copy's own size when smaller): the crops' masks are finer than the whole
    /// photo's, so they are blended on a canvas finer than the network's output.
    static let cropCanvasSide = 1024
    /// A head-and-shoulders square's side, in face heights (``headAndShoulders(faces:width:height:)``).
    static let cropFaceHeights: Float = 3
    /// How far a crop's weight takes to rise from 0 at its edge to 1, as a fraction of its side.
    static let cropFeather: Float = 0.2
    /// The whole-photo alpha at and above which a crop leaves it as it is (sure foreground).
    /// Below it, even at 0, a crop may raise it: a person the whole-photo mask misses is
    /// what the crops are for.
    static let cropSure: Float = 0.95

    /// The squares, in pixels of a `width`×`height` photo, the selfie model sees again for
    /// ``MattingOptions/personCrops``: head and shoulders, as the model was trained on — a
    /// square ``cropFaceHeights`` face heights wide, centred on the face, its top 15 % of its
    /// side above the face's box. A square reaching past the photo is moved inside it (and
    /// cut to the photo's short side); squares under 16 pixels are dropped. (Pose detections'
    /// upper-body squares were measured too and lowered the mean IoU: Docs/Quality.md.)
    static func headAndShoulders(faces: [FaceDetection], width: Int, height: Int) -> [ImageRect] {
        let w = Float(width), h = Float(height)
        return faces.compactMap { face in
            let wanted = face.box.height * h * cropFaceHeights
            let side = min(wanted, w, h)
            guard side >= 16 else { return nil }
            let cx = (face.box.x + face.box.width / 2) * w
            let x = min(max(cx - side / 2, 0), w - side)
            let y = min(max(face.box.y * h - 0.15 * wanted + (wanted - side) / 2, 0), h - side)
            let x0 = Int(x.rounded()), y0 = Int(y.rounded()), s = Int(side.rounded())
            return ImageRect(x: x0, y: y0, width: min(s, width - x0), height: min(s, height - y0))
        }
    }

    /// `coarse` (a mask of the whole of `working`, any size) raised by `segment`'s mask of
    /// each of `crops` (pixels of `working`), on a canvas of `working`'s proportions at most
    /// ``cropCanvasSide`` on its long side. Inside a crop, where the whole-photo alpha is below
    /// ``cropSure``, it moves toward the crop's alpha by a weight that is 1
    /// in the crop's middle and falls linearly to 0 over ``cropFeather`` of its side toward
    /// each edge that is not the photo's own edge (so the crop leaves no seam), and only
    /// upward. Outside every crop the canvas is `coarse` upsampled (bilinear); with no crop,
    /// `coarse` itself.
    static func raisingWithCrops(
        _ coarse: FloatImage, of working: Image, crops: [ImageRect], pool: ThreadPool,
        segment: (Image) throws -> FloatImage
    ) throws -> FloatImage {
        guard !crops.isEmpty, !coarse.isEmpty else { return coarse }
        let scale = min(1, Double(cropCanvasSide) / Double(max(working.width, working.height)))
        let cw = max(1, Int((Double(working.width) * scale).rounded()))
        let ch = max(1, Int((Double(working.height) * scale).rounded()))
        var canvas = coarse.resized(width: cw, height: ch, filter: .bilinear, pool: pool)
        for square in crops {
            // The square on the canvas.
            let x0 = min(cw - 1, Int((Double(square.x) * scale).rounded()))
            let y0 = min(ch - 1, Int((Double(square.y) * scale).rounded()))
            let x1 = min(cw, max(x0 + 1, Int((Double(square.x + square.width) * scale).rounded())))
            let y1 = min(ch, max(y0 + 1, Int((Double(square.y + square.height) * scale).rounded())))
            let crop = try segment(working.cropped(to: square))
                .resized(width: x1 - x0, height: y1 - y0, filter: .bilinear, pool: pool)
            let ramp = max(1, cropFeather * Float(max(x1 - x0, y1 - y0)))
            let openLeft = x0 > 0, openTop = y0 > 0, openRight = x1 < cw, openBottom = y1 < ch
            canvas.withUnsafeMutableBufferPointer { out, stride in
                crop.withUnsafeBufferPointer { inside, cropStride in
                    for y in y0..<y1 {
                        var dy = Float.infinity
                        if openTop { dy = min(dy, Float(y - y0) + 0.5) }
                        if openBottom { dy = min(dy, Float(y1 - y) - 0.5) }
                        for x in x0..<x1 {
                            let base = out[y * stride + x]
                            guard base < cropSure else { continue }
                            var d = dy
                            if openLeft { d = min(d, Float(x - x0) + 0.5) }
                            if openRight { d = min(d, Float(x1 - x) - 0.5) }
                            let weight = min(1, d / ramp), other = inside[(y - y0) * cropStride + (x - x0)]
                            out[y * stride + x] = max(base, base + weight * (other - base))
                        }
                    }
                }
            }
        }
        return canvas
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
