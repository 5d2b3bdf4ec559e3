import Testing
import MattingKit

@Suite("InputPolicy")
struct InputPolicyTests {
    @Test(arguments: [
        (4000, 3000, 2048, 1536),   // long side capped at 2048, short side 1536 ≤ 1600
        (3000, 4000, 1536, 2048),
        (1200, 1800, 1200, 1800),   // already in the recommended range
        (512, 512, 512, 512),       // never scaled up
        (6000, 4000, 2048, 1365),
        (2000, 2000, 1600, 1600),   // short side capped at 1600
        (10000, 100, 2048, 20),     // panorama: the long side binds
    ])
    func workingSize(width: Int, height: Int, expectedWidth: Int, expectedHeight: Int) {
        let size = InputPolicy().workingSize(width: width, height: height)
        #expect(size.width == expectedWidth && size.height == expectedHeight)
        #expect(max(size.width, size.height) <= 2048)
    }

    @Test func networkSizeIsAStrideMultipleWithinTheCap() {
        let policy = InputPolicy()
        for (w, h) in [(2048, 1536), (1200, 1800), (300, 200), (17, 9), (2048, 20)] {
            let size = policy.networkSize(workingWidth: w, workingHeight: h, stride: 32)
            #expect(size.width % 32 == 0 && size.height % 32 == 0, "\(w)×\(h) → \(size)")
            #expect(size.width <= 512 && size.height <= 512 && size.width >= 32 && size.height >= 32, "\(w)×\(h) → \(size)")
        }
        let size = policy.networkSize(workingWidth: 2048, workingHeight: 1536, stride: 32)
        #expect(size.width == 512 && size.height == 384)
    }

    @Test func capsAreClampedToSaneValues() {
        let policy = InputPolicy(maximumSide: 1, workingShortSide: 0, networkMaximumSide: 100_000)
        #expect(policy.maximumSide == 16 && policy.workingShortSide == 16 && policy.networkMaximumSide == 16)
    }
}
