import Foundation
@testable import MattingKit
import MattingTestSupport
import Testing

/// MediaPipe's pose detector through ``PersonDetector``, on a real photo (the astronaut, public
/// domain, 256×256 in `Fixtures/People`) and on photos made from it; and the person filter on
/// constructed mattes.
@Suite("Person detector")
struct PersonDetectorTests {
    static func astronaut() throws -> Image {
        try Image(contentsOf: Bundle.module.resourceURL!.appendingPathComponent("Fixtures/People/astronaut-256.jpg"))
    }

    static let detector: PersonDetector? = try? PersonDetector()

    /// Two copies of the astronaut side by side (512×256).
    static func twoAstronauts() throws -> Image {
        let one = try astronaut()
        var two = Image(width: one.width * 2, height: one.height, layout: .rgb)
        for y in 0..<one.height {
            for x in 0..<one.width {
                for c in 0..<3 { two[x, y, c] = one[x, y, c]; two[x + one.width, y, c] = one[x, y, c] }
            }
        }
        return two
    }

    /// Pictures with nobody in them: the astronaut photo's own top-right background (wall and
    /// shuttle, 96×96), and a smooth 200×150 gradient.
    static func emptyPictures() throws -> (corner: Image, gradient: Image) {
        let photo = try astronaut()
        var corner = Image(width: 96, height: 96, layout: .rgb)
        for y in 0..<96 { for x in 0..<96 { for c in 0..<3 { corner[x, y, c] = photo[160 + x, y, c] } } }
        var gradient = Image(width: 200, height: 150, layout: .rgb)
        for y in 0..<150 { for x in 0..<200 { gradient[x, y, 0] = UInt8(x); gradient[x, y, 1] = UInt8(y); gradient[x, y, 2] = 128 } }
        return (corner, gradient)
    }

    static func requireDetector() throws -> PersonDetector {
        guard let detector else {
            Issue.record("the pose detector is missing: run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)")
            throw CancellationError()
        }
        return detector
    }

    @Test func findsTheAstronautsBody() throws {
        let people = try Self.requireDetector().people(in: try Self.astronaut())
        #expect(people.count == 1, "\(people.map(\.score))")
        let person = try #require(people.first)
        #expect(person.score > 0.5)
        // Her shoulders' midpoint is at about (0.40, 0.48) of the photo; her hips are below
        // the frame; the whole-body circle around them reaches the top of her head (y ≈ 0.1).
        let shoulders = person.keypoints[2], hips = person.keypoints[0]
        #expect((0.33...0.50).contains(shoulders.x) && (0.40...0.56).contains(shoulders.y), "shoulders \(shoulders)")
        #expect(hips.y > 0.9, "hips \(hips)")
        let body = person.bodyCircle(width: 256, height: 256)
        #expect(body.y - body.radius < 0.12 * 256, "body circle \(body)")
        // The box sits in the upper middle (around the face and neck).
        let bx = person.face.x + person.face.width / 2, by = person.face.y + person.face.height / 2
        #expect((0.3...0.6).contains(bx) && (0.1...0.45).contains(by), "box centre (\(bx), \(by))")
    }

    /// Two copies side by side: two people, one in each half; letterboxing maps them back.
    @Test func findsTwoPeopleSideBySide() throws {
        let people = try Self.requireDetector().people(in: try Self.twoAstronauts())
        #expect(people.count == 2, "\(people.map { ($0.score, $0.face) })")
        let shoulders = people.map(\.keypoints[2].x).sorted()
        if shoulders.count == 2 {
            #expect((0.15...0.26).contains(shoulders[0]) && (0.65...0.76).contains(shoulders[1]), "\(shoulders)")
        }
    }

    /// A picture with nobody in it: the photo's own top-right background (wall and shuttle),
    /// and a smooth gradient.
    @Test func findsNobodyWhereThereIsNobody() throws {
        let (corner, gradient) = try Self.emptyPictures()
        let detector = try Self.requireDetector()
        #expect(try detector.people(in: corner).isEmpty)
        #expect(try detector.people(in: gradient).isEmpty)
    }

    /// The same answer on any number of threads.
    @Test func threadsDoNotChangeTheAnswer() throws {
        let photo = try Self.astronaut()
        let one = try Self.requireDetector().people(in: photo)
        let two = try Self.requireDetector().people(in: photo, pool: ThreadPool(threadCount: 2))
        #expect(one.map(\.score) == two.map(\.score))
        #expect(one.map(\.face.x) == two.map(\.face.x))
    }

    // MARK: The filter

    /// A person at `x` whose whole-body circle is centred at (x, 0.8) and passes through
    /// (x, 0.5), and whose upper-body circle is centred at (x, 0.55) through (x, 0.35).
    static func person(atX x: Float) -> PersonDetection {
        PersonDetection(score: 0.9, face: (x - 0.05, 0.25, 0.1, 0.1),
                        keypoints: [(x, 0.8), (x, 0.5), (x, 0.55), (x, 0.35)])
    }

    /// Discs of alpha 1 with a soft rim, on a 200×100 matte.
    static func matte(discs: [(x: Float, y: Float, r: Float)]) -> FloatImage {
        var alpha = FloatImage(width: 200, height: 100, layout: .gray)
        for y in 0..<100 {
            for x in 0..<200 {
                var value: Float = 0
                for d in discs {
                    let distance = ((Float(x) - d.x * 200) * (Float(x) - d.x * 200) + (Float(y) - d.y * 100) * (Float(y) - d.y * 100)).squareRoot()
                    value = max(value, min(1, max(0, (d.r * 100 + 2 - distance) / 4)))
                }
                alpha[x, y, 0] = value
            }
        }
        return alpha
    }

    static func sum(_ alpha: FloatImage, x: Range<Int>) -> Float {
        var total: Float = 0
        for y in 0..<alpha.height { for px in x { total += alpha[px, y, 0] } }
        return total
    }

    @Test func anObjectApartFromThePersonIsCleared() {
        // The person at x 0.25 (pixels 0…100), an object of the same kind at x 0.8.
        let alpha = Self.matte(discs: [(0.25, 0.6, 0.3), (0.8, 0.5, 0.2)])
        let kept = PersonDetector.keepingPeople(alpha, people: [Self.person(atX: 0.25)])
        #expect(Self.sum(kept, x: 0..<100) == Self.sum(alpha, x: 0..<100))
        #expect(Self.sum(kept, x: 130..<200) == 0 && Self.sum(alpha, x: 130..<200) > 500)
    }

    @Test func twoPeopleAreBothKept() {
        let alpha = Self.matte(discs: [(0.25, 0.6, 0.3), (0.75, 0.6, 0.3)])
        let kept = PersonDetector.keepingPeople(alpha, people: [Self.person(atX: 0.25), Self.person(atX: 0.75)])
        #expect(kept.packedComponents.elementsEqual(alpha.packedComponents), "changed pixels: \(zip(kept.packedComponents, alpha.packedComponents).count { $0 != $1 })")
    }

    @Test func withNobodyDetectedNothingChanges() {
        let alpha = Self.matte(discs: [(0.25, 0.6, 0.3), (0.8, 0.5, 0.2)])
        #expect(PersonDetector.keepingPeople(alpha, people: []).packedComponents == alpha.packedComponents)
        #expect(Self.sum(alpha, x: 130..<200) > 500)
    }

    /// What the filter cannot do: an object that touches the person is one region with them.
    @Test func anObjectJoinedToThePersonStays() {
        let alpha = Self.matte(discs: [(0.25, 0.6, 0.3), (0.45, 0.6, 0.15)])
        let kept = PersonDetector.keepingPeople(alpha, people: [Self.person(atX: 0.25)])
        #expect(kept.packedComponents.elementsEqual(alpha.packedComponents), "changed pixels: \(zip(kept.packedComponents, alpha.packedComponents).count { $0 != $1 })")
        #expect(Self.sum(alpha, x: 100..<110) > 50)  // the object is really there
    }
}
