import Foundation
import Testing
@testable import MattingFiles
import MattingKit

@Suite("PreviewSheet")
struct PreviewSheetTests {
    /// A 160×120 result from the known composite's trimap (no model).
    static let scene = SyntheticComposite(width: 160, height: 120)
    static func result(_ scene: SyntheticComposite = scene) async throws -> MattingResult {
        try await MatterTests.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .none))
    }

    /// The panel of `sheet` at `index` (0…3) as its own picture.
    static func panel(_ sheet: Image, _ index: Int, width: Int, gap: Int) -> Image {
        sheet.cropped(to: ImageRect(x: index * (width + gap), y: 0, width: width, height: sheet.height))
    }

    @Test func panelSizeKeepsTheAspectAndNeverEnlarges() {
        let sheet = PreviewSheet()
        #expect(sheet.panelSize(width: 1000, height: 750) == (512, 384))
        #expect(sheet.panelSize(width: 750, height: 1000) == (384, 512))
        #expect(sheet.panelSize(width: 4000, height: 10) == (512, 1))
        #expect(sheet.panelSize(width: 300, height: 200) == (300, 200))
        #expect(PreviewSheet(maximumPanelSide: 64).panelSize(width: 160, height: 120) == (64, 48))
    }

    @Test func fourPanelsWithGapsAtTheDocumentedSize() async throws {
        let result = try await Self.result()
        let layout = PreviewSheet(maximumPanelSide: 64, gap: 5)
        let background = RGBColor(red: 0, green: 255, blue: 0)
        let sheet = try layout.sheet(photo: Self.scene.image, result: result, background: background)
        #expect(sheet.layout == .rgb && sheet.width == 4 * 64 + 3 * 5 && sheet.height == 48)

        // Panel 1 is the photo, panel 2 the matte, each area-downscaled.
        #expect(Self.panel(sheet, 0, width: 64, gap: 5) == Self.scene.image.resized(width: 64, height: 48, filter: .area))
        let matte = result.matte.resized(width: 64, height: 48, filter: .area)
        let mattePanel = Self.panel(sheet, 1, width: 64, gap: 5)
        for c in 0..<3 { #expect(mattePanel.channel(c) == matte) }

        // Gaps are the gap colour.
        for gapX in [64, 64 + 4, 2 * 64 + 5, 3 * 64 + 2 * 5 + 4] {
            for y in [0, 47] { #expect(sheet.pixel(x: gapX, y: y) == [32, 32, 32], "gap at x = \(gapX)") }
        }

        // Where the matte is 0, panel 3 shows the checkerboard (both colours) and panel 4 the background;
        // where it is 255, both show the same subject colour.
        let checker = Self.panel(sheet, 2, width: 64, gap: 5), flat = Self.panel(sheet, 3, width: 64, gap: 5)
        var seen = Set<[UInt8]>(), transparent = 0, opaque = 0
        for y in 0..<48 {
            for x in 0..<64 {
                if matte[x, y, 0] == 0 {
                    let expected = layout.checkerColor(x: x, y: y)
                    #expect(checker.pixel(x: x, y: y) == [expected.red, expected.green, expected.blue], "(\(x), \(y))")
                    #expect(flat.pixel(x: x, y: y) == [0, 255, 0], "(\(x), \(y))")
                    seen.insert(checker.pixel(x: x, y: y))
                    transparent += 1
                } else if matte[x, y, 0] == 255 {
                    #expect(checker.pixel(x: x, y: y) == flat.pixel(x: x, y: y), "(\(x), \(y))")
                    opaque += 1
                }
            }
        }
        #expect(transparent > 500 && opaque > 300, "transparent \(transparent), opaque \(opaque)")
        #expect(seen == [[255, 255, 255], [204, 204, 204]])
        // The subject is the composite's orange disc (85 %, 35 %, 20 %) at the centre.
        let centre = flat.pixel(x: 32, y: 24)
        #expect(abs(Int(centre[0]) - 217) < 12 && abs(Int(centre[1]) - 89) < 12 && abs(Int(centre[2]) - 51) < 12, "\(centre)")
    }

    @Test func smallPhotosKeepTheirSize() async throws {
        let scene = SyntheticComposite(width: 40, height: 30)
        let result = try await Self.result(scene)
        let sheet = try PreviewSheet(gap: 0).sheet(photo: scene.image, result: result, background: .white)
        #expect(sheet.width == 160 && sheet.height == 30)
        #expect(Self.panel(sheet, 0, width: 40, gap: 0) == scene.image)
    }
}
