import Foundation
import MattingImage

/// One face found by MediaPipe's face detector (BlazeFace), in the photo's normalised
/// coordinates (0…1 across its width and down its height).
package struct FaceDetection: Sendable {
    /// The detector's confidence, 0…1.
    package var score: Float
    /// The face's box (`(x, y)` its top-left corner, then its width and height): from about
    /// the brows to the chin, cheek to cheek.
    package var box: (x: Float, y: Float, width: Float, height: Float)
    /// The six keypoints as `(x, y)`: the eyes (the person's right, then left), the nose tip,
    /// the mouth's centre, the ear tragions (right, then left).
    package var keypoints: [(x: Float, y: Float)]

    /// How far the body a face implies reaches to each side of the face's centre, in face
    /// widths.
    package static let bodyHalfWidth: Float = 2
    /// How far the body a face implies reaches below the face's box, in face heights (an
    /// adult standing is about seven to eight heads tall).
    package static let bodyDepth: Float = 7
    /// How far it reaches above the face's box (the hair), in face heights.
    package static let bodyHeadroom: Float = 0.5

    /// The body this face implies, in pixels of a `width`×`height` photo: a box
    /// ``bodyHalfWidth`` face widths to each side of the face's centre (four face widths
    /// wide), from ``bodyHeadroom`` face heights above the face's box to ``bodyDepth`` face
    /// heights below it.
    package func body(width: Int, height: Int) -> (x0: Float, y0: Float, x1: Float, y1: Float) {
        let w = Float(width), h = Float(height)
        let faceWidth = box.width * w, faceHeight = box.height * h
        let centre = (box.x + box.width / 2) * w
        let top = box.y * h, bottom = (box.y + box.height) * h
        return (centre - Self.bodyHalfWidth * faceWidth, top - Self.bodyHeadroom * faceHeight,
                centre + Self.bodyHalfWidth * faceWidth, bottom + Self.bodyDepth * faceHeight)
    }

    /// Whether pixel `(x, y)` of a `width`×`height` photo is within the body this face
    /// implies (``body(width:height:)``).
    package func reaches(x: Float, y: Float, width: Int, height: Int) -> Bool {
        let b = body(width: width, height: height)
        return x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1
    }
}

extension FaceDetection {
    /// A decoded detection read as a face: its box and six keypoints.
    init(_ raw: SSDDetection) {
        self.init(score: raw.score, box: raw.box, keypoints: raw.keypoints)
    }
}

/// Finds faces in a photo with one of MediaPipe's two face detectors (BlazeFace, installed by
/// `Scripts/fetch-models.sh`), decoded as MediaPipe's `face_detection` graphs decode them.
///
/// The photo is letterboxed into the network's square (scaled to fit, centred, zero in the
/// network's −1…1 range around it); the anchors' boxes, six keypoints and score logits are
/// decoded (fixed-size SSD anchors, sigmoid scores clipped at ±100), suppressed by weighted
/// non-maximum suppression at IoU 0.3 and mapped back to the photo (``SSDDetector``).
package final class FaceDetector: Sendable {
    /// Which of MediaPipe's face detectors.
    package enum Range: Sendable, CaseIterable {
        /// `face_detection_short_range.tflite`: 128×128, 896 anchors (strides 8 and 16, two
        /// and six a cell), minimum score 0.5; made for faces near the camera.
        case short
        /// `face_detection_full_range_sparse.tflite`: 192×192, 2304 anchors (stride 4, one a
        /// cell), minimum score 0.6; made for faces up to about five metres away.
        case full

        /// The model file's name in ``DefaultModel/directory``.
        package var fileName: String {
            switch self {
            case .short: "face_detection_short_range.tflite"
            case .full: "face_detection_full_range_sparse.tflite"
            }
        }

        /// The anchors and outputs (MediaPipe's `face_detection_short_range.pbtxt` and
        /// `face_detection_full_range.pbtxt`).
        var layout: SSDLayout {
            switch self {
            case .short: SSDLayout(side: 128, groups: [(8, 2), (16, 6)], keypointCount: 6)
            case .full: SSDLayout(side: 192, groups: [(4, 1)], keypointCount: 6)
            }
        }

        /// MediaPipe's `min_score_thresh` for the model.
        var minimumScore: Float {
            switch self {
            case .short: 0.5
            case .full: 0.6
            }
        }
    }

    /// The detector's model.
    package let range: Range
    let core: SSDDetector

    /// The minimum score ``MattingOptions/peopleOnly`` uses with the full-range model: 0.5
    /// rather than MediaPipe's 0.6, for recall (on the quality set's six-person poker photo the
    /// sixth face, looking down, scores 0.51; no false face was found at 0.5 on the people
    /// items or the tests' faceless pictures).
    package static let recallScore: Float = 0.5

    /// Loads and compiles the detector. Detections scoring below `minimumScore` (default:
    /// MediaPipe's threshold for the model) are dropped.
    ///
    /// - Throws: ``MattingError/modelMissing(path:)`` if the file is not installed, or
    ///   ``MattingError/modelFailed(file:reason:)`` if it is not that face detector.
    package init(range: Range = .full, minimumScore: Float? = nil, contentsOf url: URL? = nil, pool: ThreadPool = .serial) throws {
        self.range = range
        core = try SSDDetector(
            contentsOf: try url ?? DefaultModel.url(fileName: range.fileName), layout: range.layout,
            minimumScore: minimumScore ?? range.minimumScore, modelName: "MediaPipe's \(range) range face detector", pool: pool)
    }

    /// The faces in `image`, best first.
    package func faces(in image: Image, pool: ThreadPool = .serial) throws -> [FaceDetection] {
        try core.detections(in: image, pool: pool).map(FaceDetection.init)
    }

    /// The faces in `image`, looked for in the whole photo and, when it is not square, also in
    /// three squares of its short side along its long side, merged (as
    /// ``PersonDetector/peopleInSquares(of:pool:)``).
    package func facesInSquares(of image: Image, pool: ThreadPool = .serial) throws -> [FaceDetection] {
        try core.detectionsInSquares(of: image, pool: pool).map(FaceDetection.init)
    }
}
