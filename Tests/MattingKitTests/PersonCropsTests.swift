import Foundation
@testable import MattingKit
import MattingTestSupport
import Testing

/// ``MattingOptions/personCrops`` through the pipeline, on photos made from the astronaut
/// (public domain, `Fixtures/People/astronaut-256.jpg`). Needs the models
/// `Scripts/fetch-models.sh` installs.
@Suite("Person crops")
struct PersonCropsTests {
    static func requireMatter() throws -> Matter {
        guard let matter = PeopleOnlyTests.matter, matter.people.faceDetector != nil else {
            Issue.record("the selfie or face model is missing: run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)")
            throw CancellationError()
        }
        return matter
    }

    /// Mean alpha (0…255) of a matte over `rect`.
    static func mean(_ matte: Image, _ rect: ImageRect) -> Double {
        var total = 0
        for y in rect.y..<(rect.y + rect.height) { for x in rect.x..<(rect.x + rect.width) { total += Int(matte[x, y, 0]) } }
        return Double(total) / Double(rect.width * rect.height)
    }

    /// With nobody in the picture (her sleeve's cloth scaled up, no face), the option changes
    /// nothing: no face, no crop.
    @Test func withNoDetectionTheMatteIsUnchanged() async throws {
        let matter = try Self.requireMatter()
        let photo = try PeopleOnlyTests.nobody()
        #expect(try #require(matter.people.faceDetector).facesInSquares(of: photo).isEmpty)
        var on = MattingOptions(); on.personCrops = true
        let before = try await matter.matte(photo).matte
        let after = try await matter.matte(photo, options: on).matte
        #expect(after == before)
    }

    /// Her photo shrunk to 120 pixels in a grey 1280×720 picture: the whole-photo mask (the
    /// landscape model's 256×144) all but misses her; the crop around her face sees her at
    /// the model's own framing, so her face comes out far more opaque with the option.
    @Test func aSmallPersonGetsAFullerMask() async throws {
        let matter = try Self.requireMatter()
        let astronaut = try PersonDetectorTests.astronaut().resized(width: 120, height: 120, filter: .area)
        var photo = PeopleOnlyTests.canvas(width: 1280, height: 720, colour: (128, 128, 128))
        PeopleOnlyTests.pasted(astronaut, into: &photo, x: 600, y: 450)
        let faces = try #require(matter.people.faceDetector).facesInSquares(of: photo)
        // Her face: the best detection whose centre is within her square.
        let found = try #require(faces.first { face in
            let cx = (face.box.x + face.box.width / 2) * 1280, cy = (face.box.y + face.box.height / 2) * 720
            return (600...720).contains(cx) && (450...570).contains(cy)
        }, "\(faces.map(\.box))")
        let face = ImageRect(
            x: Int(found.box.x * 1280), y: Int(found.box.y * 720), width: Int(found.box.width * 1280),
            height: Int(found.box.height * 720))
        var on = MattingOptions(); on.personCrops = true
        let without = Self.mean(try await matter.matte(photo).matte, face)
        let with = Self.mean(try await matter.matte(photo, options: on).matte, face)
        #expect(with > without + 50, "face's mean alpha \(without) without crops, \(with) with")
        #expect(with > 128, "face mean alpha \(without) without crops, \(with) with")
    }

    /// The field round-trips through JSON, and options stored before it existed decode with
    /// its default.
    @Test func codableRoundTripAndOlderJSON() throws {
        var on = MattingOptions(); on.personCrops = true
        #expect(try JSONDecoder().decode(MattingOptions.self, from: JSONEncoder().encode(on)) == on)
        #expect(on != MattingOptions())
        var current = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(on)) as? [String: Any])
        #expect(current["personCrops"] as? Bool == true)
        current["personCrops"] = nil
        let old = try JSONDecoder().decode(MattingOptions.self, from: JSONSerialization.data(withJSONObject: current))
        #expect(old.personCrops == MattingOptions.defaultPersonCrops)
        #expect(old == MattingOptions())
    }
}
