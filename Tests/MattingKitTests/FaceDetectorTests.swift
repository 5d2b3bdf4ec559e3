import Foundation
@testable import MattingKit
import MattingTestSupport
import Testing

/// MediaPipe's face detectors through ``FaceDetector``, on the astronaut (public domain,
/// `Fixtures/People/astronaut-256.jpg`) and photos made from it; and the person filter fed by
/// faces, on constructed mattes. Needs the models `Scripts/fetch-models.sh` installs.
@Suite("Face detector")
struct FaceDetectorTests {
    static let detectors: [FaceDetector.Range: FaceDetector] = {
        var result: [FaceDetector.Range: FaceDetector] = [:]
        for range in FaceDetector.Range.allCases { result[range] = try? FaceDetector(range: range) }
        return result
    }()

    /// The full-range model at ``FaceDetector/recallScore``, as ``MattingOptions/peopleOnly``
    /// uses it.
    static let recall: FaceDetector? = try? FaceDetector(range: .full, minimumScore: FaceDetector.recallScore)

    static func requireDetector(_ range: FaceDetector.Range, recall: Bool = false) throws -> FaceDetector {
        guard let detector = recall ? Self.recall : detectors[range] else {
            Issue.record("the \(range) range face detector is missing: run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)")
            throw CancellationError()
        }
        return detector
    }

    /// Her face: one detection, its box around her eyes, nose and mouth (about x 0.33…0.60,
    /// y 0.12…0.40 of the photo), its eyes above its mouth and the person's right eye on the
    /// photo's left.
    @Test(arguments: FaceDetector.Range.allCases)
    func findsTheAstronautsFace(range: FaceDetector.Range) throws {
        let faces = try Self.requireDetector(range).faces(in: try PersonDetectorTests.astronaut())
        #expect(faces.count == 1, "\(faces.map { ($0.score, $0.box) })")
        let face = try #require(faces.first)
        #expect(face.score > 0.6)
        let cx = face.box.x + face.box.width / 2, cy = face.box.y + face.box.height / 2
        #expect((0.38...0.56).contains(cx) && (0.18...0.34).contains(cy), "box \(face.box)")
        #expect((0.10...0.25).contains(face.box.width) && (0.10...0.25).contains(face.box.height), "box \(face.box)")
        let rightEye = face.keypoints[0], leftEye = face.keypoints[1], mouth = face.keypoints[3]
        #expect(rightEye.x < leftEye.x && max(rightEye.y, leftEye.y) < mouth.y, "keypoints \(face.keypoints)")
        for point in face.keypoints.prefix(4) {
            #expect(point.x >= face.box.x && point.x <= face.box.x + face.box.width, "\(point) outside \(face.box)")
        }
    }

    /// Two copies side by side: two faces, one in each half, mapped back through the letterbox.
    /// The full-range model as the filter uses it; the short-range model finds neither (each
    /// face is about 24 pixels of its 128 here: it is made for faces near the camera).
    @Test func findsTwoFacesSideBySide() throws {
        let faces = try Self.requireDetector(.full, recall: true).faces(in: try PersonDetectorTests.twoAstronauts())
        #expect(faces.count == 2, "\(faces.map { ($0.score, $0.box) })")
        let centres = faces.map { $0.box.x + $0.box.width / 2 }.sorted()
        if centres.count == 2 {
            #expect((0.19...0.28).contains(centres[0]) && (0.69...0.78).contains(centres[1]), "\(centres)")
        }
    }

    /// No face: the photo's own top-right background (wall and shuttle), a smooth gradient,
    /// and her body below the chin. The full-range model as the filter uses it (minimum score
    /// 0.5); the short-range one finds a "face" (score 0.52) across her suit in the last.
    @Test func findsNoFaceWhereThereIsNone() throws {
        let (corner, gradient) = try PersonDetectorTests.emptyPictures()
        let body = try PersonDetectorTests.astronaut().cropped(to: ImageRect(x: 0, y: 120, width: 256, height: 136))
        let detector = try Self.requireDetector(.full, recall: true)
        #expect(try detector.faces(in: corner).isEmpty)
        #expect(try detector.faces(in: gradient).isEmpty)
        let onBody = try detector.faces(in: body)
        #expect(onBody.isEmpty, "\(onBody.map { ($0.score, $0.box) })")
    }

    // MARK: The filter, fed by faces

    /// A face at `x` (normalised), 0.1 wide and 0.1 tall on the 200×100 matte's 0.2…0.3 band:
    /// its body reaches 0.2 (four face widths) to each side of `x` and from y 0.15 to 1.
    static func face(atX x: Float) -> FaceDetection {
        FaceDetection(score: 0.9, box: (x - 0.05, 0.2, 0.1, 0.1), keypoints: Array(repeating: (x, 0.25), count: 6))
    }

    /// The body a face implies, in pixels: as documented.
    @Test func theBodyAFaceImplies() {
        let body = Self.face(atX: 0.5).body(width: 200, height: 100)
        #expect(abs(body.x0 - 60) < 1e-3 && abs(body.x1 - 140) < 1e-3, "\(body)")
        #expect(abs(body.y0 - 15) < 1e-3 && abs(body.y1 - 100) < 1e-3, "\(body)")
        #expect(Self.face(atX: 0.5).reaches(x: 100, y: 90, width: 200, height: 100))
        #expect(!Self.face(atX: 0.5).reaches(x: 150, y: 50, width: 200, height: 100))
    }

    /// A person the pose detector missed and a face found is kept; with neither, only the
    /// person the pose detector found is.
    @Test func aPersonFoundOnlyByAFaceIsKept() {
        let alpha = PersonDetectorTests.matte(discs: [(0.25, 0.6, 0.3), (0.75, 0.6, 0.3)])
        let posed = [PersonDetectorTests.person(atX: 0.25)]
        let withFace = PersonDetector.keepingPeople(alpha, people: posed, faces: [Self.face(atX: 0.75)])
        #expect(withFace.packedComponents.elementsEqual(alpha.packedComponents))
        let poseOnly = PersonDetector.keepingPeople(alpha, people: posed)
        #expect(PersonDetectorTests.sum(poseOnly, x: 120..<200) == 0 && PersonDetectorTests.sum(alpha, x: 120..<200) > 500)
        let faceOnly = PersonDetector.keepingPeople(alpha, people: [], faces: [Self.face(atX: 0.75)])
        #expect(PersonDetectorTests.sum(faceOnly, x: 120..<200) == PersonDetectorTests.sum(alpha, x: 120..<200))
        #expect(PersonDetectorTests.sum(faceOnly, x: 0..<80) == 0)
    }

    /// A person found by a face and a separate object of the same alpha beside them: the
    /// object goes, the person stays.
    @Test func anObjectApartFromAFacesPersonIsCleared() {
        let alpha = PersonDetectorTests.matte(discs: [(0.25, 0.6, 0.3), (0.8, 0.5, 0.2)])
        let kept = PersonDetector.keepingPeople(alpha, people: [], faces: [Self.face(atX: 0.25)])
        #expect(PersonDetectorTests.sum(kept, x: 0..<100) == PersonDetectorTests.sum(alpha, x: 0..<100))
        #expect(PersonDetectorTests.sum(kept, x: 130..<200) == 0 && PersonDetectorTests.sum(alpha, x: 130..<200) > 500)
    }

    /// No person and no face: the matte as it was.
    @Test func withNoDetectionNothingChanges() {
        let alpha = PersonDetectorTests.matte(discs: [(0.25, 0.6, 0.3), (0.8, 0.5, 0.2)])
        #expect(PersonDetector.keepingPeople(alpha, people: [], faces: []).packedComponents == alpha.packedComponents)
    }
}
