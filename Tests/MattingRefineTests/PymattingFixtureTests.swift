import Foundation
import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

/// MattingRefine against pymatting 1.1.16 on the synthetic composite made by
/// Scripts/make-refine-fixtures.py (128×96, hair strands, a semi-transparent veil; see
/// Fixtures/refine-versions.txt).
@Suite struct PymattingFixtureTests {
    static func load(_ name: String) throws -> NumpyFile {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures"))
        return try NumpyFile(contentsOf: url)
    }

    static func inputs() throws -> (FloatImage, Trimap, [Float]) {
        let image = try load("refine-image").image(scale: 1 / 255)
        let t = try load("refine-trimap")
        let trimap = Trimap(try Image(width: t.shape[1], height: t.shape[0], layout: .gray, components: t.floats.map { UInt8($0) }))
        return (image, trimap, try load("refine-true-alpha").floats)
    }

    /// Tolerances: pymatting solves to a relative residual of 1e-7 with an incomplete
    /// Cholesky preconditioner; we stop at 1e-4 after coarse-to-fine. Both minimise the same
    /// energy, so alphas agree to a mean absolute difference of 0.01 over the unknown
    /// pixels, and our error against the true alpha (SAD) is at most 5 % above pymatting's.
    @Test func closedFormAlphaMatchesPymatting() throws {
        let (image, trimap, truth) = try Self.inputs()
        let reference = try Self.load("refine-pymatting-alpha").floats
        let (alpha, stats) = try ClosedFormMatting().solve(image, trimap: trimap)
        let ours = alpha.packedComponents
        let known = trimap.knownValues
        var difference = 0.0, worst: Float = 0, unknown = 0
        for i in ours.indices where known[i] == nil {
            difference += Double(abs(ours[i] - reference[i]))
            worst = max(worst, abs(ours[i] - reference[i]))
            unknown += 1
        }
        let ourSAD = zip(ours, truth).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        let theirSAD = zip(reference, truth).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        let mean = difference / Double(unknown)
        #expect(mean <= 0.01, "mean |ours − pymatting| \(mean), max \(worst), levels \(stats.levels)")
        #expect(ourSAD <= theirSAD * 1.05, "SAD ours \(ourSAD) vs pymatting \(theirSAD)")
    }

    /// Same algorithm, same defaults; our band-parallel sweep differs from pymatting's single
    /// raster sweep only near band seams, so colours agree to 0.01 mean / 0.1 max where α > 0.05.
    @Test func foregroundMatchesPymatting() throws {
        let (image, _, truth) = try Self.inputs()
        let alpha = try FloatImage(width: image.width, height: image.height, layout: .gray, components: truth)
        let reference = try Self.load("refine-pymatting-foreground").floats
        let (foreground, _) = try ForegroundEstimator().estimate(image, alpha: alpha)
        let ours = foreground.packedComponents
        var total = 0.0, worst: Float = 0, count = 0
        for i in ours.indices where truth[i / 3] > 0.05 {
            total += Double(abs(ours[i] - reference[i]))
            worst = max(worst, abs(ours[i] - reference[i]))
            count += 1
        }
        #expect(total / Double(count) <= 0.01 && worst <= 0.1, "mean \(total / Double(count)), max \(worst)")
    }

    /// The active-band shortcut (``ForegroundEstimator/activeMargin``) against sweeping every
    /// pixel: where the foreground is visible (α > 0.05) colours agree to 2e-3 mean, 0.05 max.
    @Test func foregroundActiveBandMatchesFullSweep() throws {
        // The fixture, 3× larger (bilinear colours and alpha), so the finest levels exceed
        // 128×128 and the shortcut is taken.
        let (small, _, smallTruth) = try Self.inputs()
        let w = small.width * 3, h = small.height * 3
        let smallAlpha = try FloatImage(width: small.width, height: small.height, layout: .gray, components: smallTruth)
        let a = Plane(smallAlpha).data
        let up = bilinearUpsampled(a, width: small.width, height: small.height, to: w, h)
        let colours = Plane.planes(of: small.rgbImage).map {
            Plane(width: w, height: h, data: bilinearUpsampled($0.data, width: small.width, height: small.height, to: w, h))
        }
        let image = Plane.image(colours, layout: .rgb)
        let truth = up
        let alpha = try FloatImage(width: w, height: h, layout: .gray, components: up)
        var full = ForegroundEstimator()
        full.activeMargin = nil
        let reference = try full.estimate(image, alpha: alpha).foreground.packedComponents
        let ours = try ForegroundEstimator().estimate(image, alpha: alpha).foreground.packedComponents
        var total = 0.0, worst: Float = 0, count = 0
        for i in ours.indices where truth[i / 3] > 0.05 {
            total += Double(abs(ours[i] - reference[i]))
            worst = max(worst, abs(ours[i] - reference[i]))
            count += 1
        }
        #expect(total / Double(count) <= 2e-3 && worst <= 0.05, "mean \(total / Double(count)), max \(worst)")
    }

    /// The estimated foreground removes the old background from the edge band: its colour
    /// error against the true foreground is far below the photo's ("F = image").
    @Test func foregroundRemovesTheHalo() throws {
        let (image, _, truth) = try Self.inputs()
        let trueForeground = try Self.load("refine-true-foreground").floats
        let alpha = try FloatImage(width: image.width, height: image.height, layout: .gray, components: truth)
        let ours = try ForegroundEstimator().estimate(image, alpha: alpha).foreground.packedComponents
        let (estimated, naive) = ReferenceRefine.edgeBandForegroundError(
            ours, photo: image.packedComponents, trueForeground: trueForeground, trueAlpha: truth)
        #expect(estimated <= 0.5 * naive, "edge band: estimated \(estimated), F = image \(naive)")
        #expect(estimated <= 0.06, "edge band error \(estimated)")
    }
}
