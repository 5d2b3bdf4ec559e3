import Testing
import MattingImage
@testable import MattingKit

@Suite struct MattingResultCutoutTests {
    /// The one-pass cut-out equals the generic conversion it replaces.
    @Test func cutoutEqualsGenericConversion() throws {
        for (w, h) in [(1, 1), (7, 5), (64, 33)] {
            let rgb = try Image(width: w, height: h, layout: .rgb, components: (0..<w * h * 3).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let matte = try Image(width: w, height: h, layout: .gray, components: (0..<w * h).map { UInt8(truncatingIfNeeded: $0 * 13) })
            let result = MattingResult(matte: matte, foreground: rgb, timings: MattingTimings())
            #expect(result.cutout == rgb.converted(to: .rgba).replacingChannel(3, with: matte), "\(w)×\(h)")
            // The PNG made from the planes is the PNG of the cut-out, byte for byte.
            #expect(try result.cutoutPNG() == (try result.cutout.encoded(as: .png)), "\(w)×\(h)")
        }
    }
}
