import Foundation
@testable import MattingKit
import MattingTestSupport
import Testing

/// ``MattingOptions/peopleOnly`` through the pipeline, on photos made from the astronaut
/// (public domain, `Fixtures/People/astronaut-256.jpg`): a separate object of her suit's colour
/// beside her, two people, and nobody. Needs the models `Scripts/fetch-models.sh` installs.
@Suite("People only")
struct PeopleOnlyTests {
    static let matter: Matter? = try? Matter(threads: 2)

    static func requireMatter() throws -> Matter {
        guard let matter, matter.people.detector != nil else {
            Issue.record("the selfie or pose model is missing: run Scripts/fetch-models.sh (or set MATTINGKIT_MODEL_DIR)")
            throw CancellationError()
        }
        return matter
    }

    /// A Matter with the square selfie model only: the wide pictures below would otherwise go
    /// to the landscape model, which does not keep the block the filter is tested on.
    static let squareMatter: Matter? = {
        guard var segmenter = try? ModelSegmenter.defaultModel() else { return nil }
        segmenter.wideVariant = nil
        return Matter(segmenter: segmenter, pool: ThreadPool(threadCount: 2))
    }()

    /// `photo` on a `width`×`height` canvas of `fill`, its top-left corner at `(x, y)`.
    static func pasted(_ photo: Image, into canvas: inout Image, x: Int, y: Int) {
        for py in 0..<photo.height where y + py < canvas.height {
            for px in 0..<photo.width where x + px < canvas.width {
                for c in 0..<3 { canvas[x + px, y + py, c] = photo[px, py, c] }
            }
        }
    }

    static func canvas(width: Int, height: Int, colour: (UInt8, UInt8, UInt8)) -> Image {
        var image = Image(width: width, height: height, layout: .rgb)
        for y in 0..<height { for x in 0..<width { image[x, y, 0] = colour.0; image[x, y, 1] = colour.1; image[x, y, 2] = colour.2 } }
        return image
    }

    /// Nobody: her sleeve's cloth scaled up on a blue-grey 300×300 picture (no person, no face).
    static func nobody() throws -> Image {
        let astronaut = try PersonDetectorTests.astronaut()
        var photo = canvas(width: 300, height: 300, colour: (40, 60, 90))
        let sleeve = astronaut.cropped(to: ImageRect(x: 12, y: 150, width: 40, height: 100)).resized(width: 120, height: 240, filter: .bilinear)
        pasted(sleeve, into: &photo, x: 90, y: 30)
        return photo
    }

    /// Mean alpha (0…255) over columns `x` of a matte.
    static func mean(_ matte: Image, x: Range<Int>) -> Double {
        var total = 0
        for y in 0..<matte.height { for px in x { total += Int(matte[px, y, 0]) } }
        return Double(total) / Double(matte.height * x.count)
    }

    /// Her whole photo on the left of a wide grey picture; on the right, apart from her, a
    /// cut of her orange sleeve scaled up into a person-sized block (the same colours and
    /// texture, no person). With the option, nothing on the right survives where the
    /// network (the square model) kept some of it; her matte is unchanged.
    @Test func aSeparateObjectOfHerColourIsDropped() async throws {
        _ = try Self.requireMatter()
        let matter = try #require(Self.squareMatter)
        let astronaut = try PersonDetectorTests.astronaut()
        var photo = Self.canvas(width: 640, height: 256, colour: (128, 128, 128))
        Self.pasted(astronaut, into: &photo, x: 0, y: 0)
        let sleeve = astronaut.cropped(to: ImageRect(x: 12, y: 150, width: 40, height: 100)).resized(width: 100, height: 230, filter: .bilinear)
        Self.pasted(sleeve, into: &photo, x: 470, y: 20)

        var off = MattingOptions(); off.peopleOnly = false
        var on = MattingOptions(); on.peopleOnly = true
        let before = try await matter.matte(photo, options: off).matte
        let after = try await matter.matte(photo, options: on).matte
        let people = try #require(matter.people.detector).people(in: photo)
        #expect(people.count == 1, "\(people.map(\.keypoints))")
        #expect(Self.mean(before, x: 470..<570) > 20, "the network keeps part of the block: the case is real")
        #expect(Self.mean(after, x: 400..<640) == 0)
        #expect(abs(Self.mean(after, x: 0..<256) - Self.mean(before, x: 0..<256)) < 0.5)
    }

    /// Two people side by side (on a square picture, grey above and below, so the network's
    /// 256×256 square does not squash them): both kept.
    @Test func twoPeopleAreBothKept() async throws {
        let matter = try Self.requireMatter()
        let astronaut = try PersonDetectorTests.astronaut()
        var photo = Self.canvas(width: 512, height: 512, colour: (128, 128, 128))
        Self.pasted(astronaut, into: &photo, x: 0, y: 128)
        Self.pasted(astronaut, into: &photo, x: 256, y: 128)
        var on = MattingOptions(); on.peopleOnly = true
        let before = try await matter.matte(photo).matte
        let after = try await matter.matte(photo, options: on).matte
        #expect(try #require(matter.people.detector).people(in: photo).count == 2)
        let left = Self.mean(after, x: 0..<256), right = Self.mean(after, x: 256..<512)
        #expect(left > 30 && right > 30, "mean alpha left \(left), right \(right)")
        // Small separate fragments (a piece of the flag at her side) may go; each person stays.
        for half in [0..<256, 256..<512] {
            let kept = Self.mean(after, x: half), was = Self.mean(before, x: half)
            #expect(abs(kept - was) < 0.03 * was, "columns \(half): mean alpha \(was) → \(kept)")
        }
    }

    /// Nobody in the picture: the network's mask is used as it is.
    @Test func withNobodyTheMatteIsAsToday() async throws {
        let matter = try Self.requireMatter()
        let photo = try Self.nobody()
        var on = MattingOptions(); on.peopleOnly = true
        #expect(try #require(matter.people.detector).people(in: photo).isEmpty)
        let before = try await matter.matte(photo).matte
        let after = try await matter.matte(photo, options: on).matte
        #expect(after == before)
    }

    /// Reach is measured in the photo's pixels, not the stretched mask's: a person's circle of
    /// radius 0.3 of the height in a photo twice as wide as tall reaches 0.15 of the width.
    @Test func reachFollowsThePhotosProportions() {
        // Whole-body circle around (0.25, 0.5) through (0.25, 0.2): radius 0.3 × 100 px = 30
        // px, × 1.25 = 37.5 px; an object centred at 0.25 + 60/200 = 0.55 of the width.
        let person = PersonDetection(score: 0.9, face: (0.2, 0.2, 0.1, 0.1), keypoints: [(0.25, 0.5), (0.25, 0.2), (0.25, 0.5), (0.25, 0.4)])
        var alpha = FloatImage(width: 64, height: 64, layout: .gray)   // a 200×100 photo stretched square
        for y in 28..<36 { for x in 33..<38 { alpha[x, y, 0] = 1 } }    // x 0.52…0.59: 104…118 photo px
        #expect(PersonDetector.keepingPeople(alpha, people: [person]).packedComponents.contains { $0 > 0 })
        #expect(PersonDetector.keepingPeople(alpha, people: [person], photoWidth: 200, photoHeight: 100)
            .packedComponents.allSatisfy { $0 == 0 })
    }

    /// Options stored before ``MattingOptions/peopleOnly`` existed still decode, with the default.
    @Test func olderEncodedOptionsStillDecode() throws {
        var current = try JSONSerialization.jsonObject(with: JSONEncoder().encode(MattingOptions())) as! [String: Any]
        #expect(current["peopleOnly"] as? Bool == MattingOptions.defaultPeopleOnly)
        current["peopleOnly"] = nil
        let old = try JSONDecoder().decode(MattingOptions.self, from: JSONSerialization.data(withJSONObject: current))
        #expect(old == MattingOptions())
        var on = MattingOptions(); on.peopleOnly = true
        #expect(try JSONDecoder().decode(MattingOptions.self, from: JSONEncoder().encode(on)) == on)
        #expect(on != MattingOptions(peopleOnly: false))
    }
}
