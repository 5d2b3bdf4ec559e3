import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingTestSupport

/// A composite with a known matte: a coloured disc with a soft, 6 px wide edge and a few
/// 1–2 px semi-transparent "strands", over a textured background.
struct SyntheticComposite {
    let image: Image
    let alpha: [Float]   // ground truth, row-major
    let width: Int
    let height: Int

    init(width: Int, height: Int, seed: UInt64 = 1) {
        self.width = width
        self.height = height
        var rng = SeededGenerator(seed: seed)
        let cx = Float(width) / 2, cy = Float(height) / 2, radius = Float(min(width, height)) / 3
        var alpha = [Float](repeating: 0, count: width * height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let noise = rng.floats(width * height, in: -0.04...0.04)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Float(x) - cx, dy = Float(y) - cy
                let d = (dx * dx + dy * dy).squareRoot()
                var a = min(max((radius - d) / 6 + 0.5, 0), 1)
                // Strands: thin radial lines beyond the disc's edge, half transparent.
                if d > radius && d < radius * 1.25 && abs(dy) < 1 && dx > 0 { a = max(a, 0.5) }
                alpha[y * width + x] = a
                let fg: [Float] = [0.85, 0.35, 0.2]
                let bg: [Float] = [0.2 + 0.1 * sin(Float(x) / 9), 0.45, 0.75 + 0.1 * cos(Float(y) / 7)]
                for c in 0..<3 {
                    let v = a * fg[c] + (1 - a) * (bg[c] + noise[y * width + x])
                    pixels[(y * width + x) * 3 + c] = UInt8(min(max(v * 255 + 0.5, 0), 255))
                }
            }
        }
        self.alpha = alpha
        self.image = try! Image(width: width, height: height, layout: .rgb, components: pixels)
    }

    /// The user's view: foreground inside the disc (shrunk), background outside (grown).
    var trimap: Image {
        let cx = Float(width) / 2, cy = Float(height) / 2, radius = Float(min(width, height)) / 3
        return Image(width: width, height: height, layout: .gray) { x, y, _ in
            let dx = Float(x) - cx, dy = Float(y) - cy
            let d = (dx * dx + dy * dy).squareRoot()
            return d < radius - 8 ? 255 : (d > radius * 1.3 ? 0 : 128)
        }
    }

    /// Mean absolute alpha error (0…1) of an 8-bit matte over all pixels.
    func meanError(of matte: Image) -> Float {
        let values = matte.packedComponents
        return zip(values, alpha).reduce(0) { $0 + abs(Float($1.0) / 255 - $1.1) } / Float(alpha.count)
    }
}

extension SyntheticComposite {
    /// A hard (0/255) mask of the disc, as a network's coarse answer would be.
    var hardMask: Image {
        let cx = Float(width) / 2, cy = Float(height) / 2, radius = Float(min(width, height)) / 3
        return Image(width: width, height: height, layout: .gray) { x, y, _ in
            let dx = Float(x) - cx, dy = Float(y) - cy
            return (dx * dx + dy * dy).squareRoot() < radius ? 255 : 0
        }
    }
}

@Suite("Matter")
struct MatterTests {
    /// A pipeline with no network, on two threads (a new one per use: calls on one Matter
    /// take turns, and tests run side by side).
    static var refiner: Matter { Matter(refiningOnlyWithThreads: 2) }

    /// With no post-processing the solver's matte is compared with the truth: mean error
    /// below 2 % of the alpha range (the composite is 8-bit and noisy, so not exact).
    @Test func trimapPathRecoversAKnownMatte() async throws {
        let scene = SyntheticComposite(width: 160, height: 120)
        let result = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .identity))
        #expect(result.matte.width == 160 && result.matte.height == 120 && result.matte.layout == .gray)
        let error = scene.meanError(of: result.matte)
        #expect(error < 0.02, "mean alpha error \(error)")
        #expect(result.cutout.layout == .rgba && result.cutout.width == 160)
        #expect(result.timings["refine"] != nil && result.timings.total > 0)
    }

    @Test func coarseMaskPathRefinesAHardMask() async throws {
        let scene = SyntheticComposite(width: 160, height: 120, seed: 2)
        let result = try await Self.refiner.matte(scene.image, coarseMask: scene.hardMask, options: MattingOptions(operations: .identity))
        #expect(scene.meanError(of: result.matte) < 0.03)
        // The coarse mask was hard (0/1); the refined matte has the soft edge back.
        let partial = result.matte.packedComponents.filter { $0 > 10 && $0 < 245 }.count
        #expect(partial > 100, "only \(partial) partially transparent pixels")
    }

    /// Large inputs are solved at the policy's working size and come back at the input's
    /// size. A small cap keeps the debug-build test fast; the 2048 default is the same path.
    @Test func largeInputsAreReducedAndComeBackAtFullSize() async throws {
        let scene = SyntheticComposite(width: 1000, height: 750, seed: 3)
        var options = MattingOptions(operations: .identity)
        options.inputPolicy = InputPolicy(maximumSide: 256, workingShortSide: 200)
        #expect(options.inputPolicy.workingSize(width: 1000, height: 750) == (256, 192))
        let result = try await Self.refiner.matte(scene.image, coarseMask: scene.hardMask, options: options)
        #expect(result.matte.width == 1000 && result.matte.height == 750)
        #expect(result.foreground.width == 1000 && result.foreground.height == 750)
        #expect(scene.meanError(of: result.matte) < 0.03)
    }

    @Test func presetsChangeTheMatteAsDefined() async throws {
        let scene = SyntheticComposite(width: 160, height: 120)
        let plain = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .identity)).matte
        let portrait = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .portrait)).matte
        // Erosion by 1 px and a threshold of 12 can only lower coverage.
        let sum = { (m: Image) in m.packedComponents.reduce(0) { $0 + Int($1) } }
        #expect(sum(portrait) < sum(plain))
        // Alpha below 12/255 is gone after the threshold, before feathering spreads it: a
        // pixel far from the subject is exactly 0.
        #expect(portrait[0, 0, 0] == 0)
    }

    /// A guided-filter step in the options follows the photo (the pipeline supplies it).
    @Test func guidedFilterStepUsesThePhoto() async throws {
        let scene = SyntheticComposite(width: 120, height: 90)
        let options = MattingOptions(operations: MatteOperations.identity.appending(.guidedFilter(radius: 4, epsilon: 1e-3)))
        let plain = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .identity))
        let guided = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: options)
        #expect(guided.matte != plain.matte)
        #expect(scene.meanError(of: guided.matte) < 0.03)
    }

    @Test func compositeOverAColourUsesTheMatte() async throws {
        let scene = SyntheticComposite(width: 160, height: 120)
        let result = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .identity))
        let flat = result.composited(over: RGBColor(red: 0, green: 255, blue: 0))
        #expect(flat.layout == .rgb)
        // Far corner: background, so the new colour; disc centre: the subject.
        #expect(flat.pixel(x: 0, y: 0) == [0, 255, 0])
        #expect(abs(Int(flat[80, 60, 0]) - 217) <= 6 && flat[80, 60, 1] < 120)
    }

    @Test func studioModeFindsAProductOnAPlainBackdrop() async throws {
        // A dark product with a soft edge on near-white seamless paper.
        let w = 200, h = 150
        var rng = SeededGenerator(seed: 9)
        let noise = rng.floats(w * h, in: -0.02...0.02)
        var truth = [Float](repeating: 0, count: w * h)
        let photo = Image(width: w, height: h, layout: .rgb) { x, y, c in
            let inside = Float(min(min(x - 60, 140 - x), min(y - 40, 110 - y)))
            let a = min(max(inside / 3 + 0.5, 0), 1)
            truth[y * w + x] = a
            let fg: Float = [0.15, 0.2, 0.3][c], bg: Float = 0.93 + noise[y * w + x]
            return UInt8(min(max((a * fg + (1 - a) * bg) * 255 + 0.5, 0), 255))
        }
        let result = try await Self.refiner.studioMatte(photo, options: MattingOptions(operations: .identity))
        let matte = result.matte.packedComponents
        var error: Float = 0
        for i in 0..<(w * h) { error += abs(Float(matte[i]) / 255 - truth[i]) }
        error /= Float(w * h)
        #expect(error < 0.01, "mean alpha error \(error)")
    }

    @Test func badInputsAreTypedErrors() async {
        let scene = SyntheticComposite(width: 40, height: 30)
        await #expect(throws: MattingError.sizeMismatch("trimap is 41×30, photo is 40×30")) {
            try await Self.refiner.matte(scene.image, trimap: Image(width: 41, height: 30, layout: .gray))
        }
        // Unknown everywhere: no known pixel to anchor the solve, named before the refine stage.
        await #expect(throws: MattingError.unusableTrimap(
            "the trimap marks no pixel as known (0 for background, 255 for foreground) at the working size 40×30, "
                + "so the matte is undetermined")) {
            try await Self.refiner.matte(scene.image, trimap: Image(width: 40, height: 30, layout: .gray, repeating: 128))
        }
        await #expect(throws: MattingError.emptyImage) {
            try await Self.refiner.matte(Image(width: 0, height: 0, layout: .rgb), trimap: Image(width: 0, height: 0, layout: .gray))
        }
        // No segmenter: the automatic path says so instead of failing somewhere inside.
        await #expect(throws: MattingError.noModel) { try await Self.refiner.matte(scene.image) }
        // A failure inside a stage names the stage.
        var options = MattingOptions()
        options.operations = [.threshold(300)]
        do {
            _ = try await Self.refiner.matte(scene.image, trimap: scene.trimap, options: options)
            Issue.record("a threshold of 300 was accepted")
        } catch let MattingError.stageFailed(stage, reason) {
            #expect(stage == .postprocess && reason.contains("300"), "\(reason)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// With default options, a caller's trimap or coarse mask gives the solver's alpha as it is
    /// (the presets degrade it); asking for a preset applies it on any path.
    @Test func defaultPostProcessingFollowsTheInput() async throws {
        let scene = SyntheticComposite(width: 120, height: 90)
        let matter = Self.refiner
        let byDefault = try await matter.matte(scene.image, trimap: scene.trimap)
        let plain = try await matter.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .identity))
        let portrait = try await matter.matte(scene.image, trimap: scene.trimap, options: MattingOptions(operations: .portrait))
        #expect(byDefault.matte == plain.matte)
        #expect(portrait.matte != plain.matte)
        let maskDefault = try await matter.matte(scene.image, coarseMask: scene.hardMask)
        let maskPlain = try await matter.matte(scene.image, coarseMask: scene.hardMask, options: MattingOptions(operations: MatteOperations.identity))
        #expect(maskDefault.matte == maskPlain.matte)
        // Studio mode defaults to the product preset.
        let studioDefault = try await matter.studioMatte(scene.image)
        let studioProduct = try await matter.studioMatte(scene.image, options: MattingOptions(operations: .product))
        #expect(studioDefault.matte == studioProduct.matte)
    }

    /// With default options a caller's trimap is solved to the exact minimiser, and the other
    /// paths stop early; `solverAccuracy` chooses on any path. Each matte is checked against the
    /// solver called directly on the same float photo and trimap, quantised as the pipeline does.
    @Test func defaultSolverFollowsTheInput() async throws {
        let scene = SyntheticComposite(width: 120, height: 90, seed: 2)
        let matter = Self.refiner
        let photo = scene.image.converted(to: .rgb).converted(to: FloatImage.self)
        let trimap = Trimap(scene.trimap.converted(to: .gray))
        func direct(_ solver: ClosedFormMatting) throws -> [UInt8] {
            try MatteOperations.identity.appliedQuantized(to: solver.alpha(for: photo, trimap: trimap, pool: .serial)).packedComponents
        }
        let exact = try direct(ClosedFormMatting.exact), fast = try direct(ClosedFormMatting())
        #expect(exact != fast)
        let byDefault = try await matter.matte(scene.image, trimap: scene.trimap).matte.packedComponents
        #expect(byDefault == exact)
        let asked = try await matter.matte(scene.image, trimap: scene.trimap, options: MattingOptions(solverAccuracy: .fast))
        #expect(asked.matte.packedComponents == fast)
        // The coarse-mask path stops early unless asked.
        let maskDefault = try await matter.matte(scene.image, coarseMask: scene.hardMask).matte
        let maskFast = try await matter.matte(scene.image, coarseMask: scene.hardMask, options: MattingOptions(solverAccuracy: .fast)).matte
        let maskExact = try await matter.matte(scene.image, coarseMask: scene.hardMask, options: MattingOptions(solverAccuracy: .exact)).matte
        #expect(maskDefault == maskFast && maskExact != maskFast)
        #expect(MattingOptions().refiner(default: .fast) == Refiner())
        #expect(MattingOptions().refiner(default: .exact).solver == ClosedFormMatting.exact)
    }

    @Test func missingModelNamesTheFetchCommand() {
        let description = MattingError.modelMissing(path: "/nowhere/selfie_segmentation.tflite").description
        #expect(description.contains("Scripts/fetch-models.sh") && description.contains("/nowhere/"))
    }

    /// Options are plain data: equal values compare equal, and JSON round-trips them.
    @Test func optionsAreEquatableAndCodable() throws {
        var options = MattingOptions(operations: .complexBackground, background: try RGBColor(parsing: "#102030"), enhance: true)
        options.refiner.solver.tolerance = 1e-5
        options.inputPolicy = InputPolicy(maximumSide: 1024, workingShortSide: 800)
        let decoded = try JSONDecoder().decode(MattingOptions.self, from: JSONEncoder().encode(options))
        #expect(decoded == options)
        #expect(decoded != MattingOptions())
        #expect(MattingOptions() == MattingOptions(operations: nil))
        #expect(MattingOptions().operations(default: .portrait).threshold == 12)
        #expect(MattingOptions(operations: .identity).operations(default: .portrait) == MatteOperations.identity)
        // Fields added later decode to their defaults from JSON stored before them.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(MattingOptions(solverAccuracy: .exact))) as? [String: Any])
        #expect(object.removeValue(forKey: "solverAccuracy") as? String == "exact")
        object.removeValue(forKey: "peopleOnly")
        #expect(try JSONDecoder().decode(MattingOptions.self, from: JSONSerialization.data(withJSONObject: object)) == MattingOptions())
    }

    /// `hairAwareTrimap` is shorthand for the refiner's hair band: off by default, on installs
    /// the defaults or keeps settings already there, off removes them; it round-trips in JSON.
    @Test func hairAwareTrimapIsTheRefinersHairBand() throws {
        var options = MattingOptions()
        #expect(!options.hairAwareTrimap && options.refiner.trimapOptions.hairBand == nil)
        options.hairAwareTrimap = true
        #expect(options.refiner.trimapOptions.hairBand == HairBand())
        options.refiner.trimapOptions.hairBand?.widthFactor = 4
        options.hairAwareTrimap = true
        #expect(options.refiner.trimapOptions.hairBand?.widthFactor == 4)
        #expect(try JSONDecoder().decode(MattingOptions.self, from: JSONEncoder().encode(options)) == options)
        options.hairAwareTrimap = false
        #expect(options == MattingOptions())
    }
}

/// ``MattingOptions/informationFlow`` reaches the solver.
@Suite struct InformationFlowOptionTests {
    /// With the option the trimap path's matte differs from the default one and is the
    /// solver's own answer (the solver called directly on the same float photo and trimap,
    /// quantised as the pipeline does); `MattingOptions.informationFlow` and the refiner's
    /// `solver.informationFlow` are one setting.
    @Test func theOptionReachesTheSolver() async throws {
        let scene = SyntheticComposite(width: 120, height: 90, seed: 4)
        var options = MattingOptions()
        #expect(options.informationFlow == nil)
        options.informationFlow = InformationFlow()
        #expect(options.refiner.solver.informationFlow == InformationFlow())
        let matter = Matter(refiningOnlyWithThreads: 2)
        let with = try await matter.matte(scene.image, trimap: scene.trimap, options: options).matte
        let without = try await matter.matte(scene.image, trimap: scene.trimap, options: MattingOptions()).matte
        #expect(with.packedComponents != without.packedComponents)

        let photo = scene.image.converted(to: .rgb).converted(to: FloatImage.self)
        // (the trimap path runs the solver to the exact minimiser: the terms with the Jacobi loop at 1e-6)
        let direct = try options.refiner(default: .exact).solver.alpha(for: photo, trimap: Trimap(scene.trimap.converted(to: .gray)), pool: .serial)
        let expected = try MatteOperations.identity.appliedQuantized(to: direct)
        #expect(with.packedComponents == expected.packedComponents)
    }
}
