import Foundation
import Testing
@testable import MattingKit
import MattingTestSupport

/// Fixtures from `Scripts/make-segmenter-fixtures.py`: small ONNX models with the interfaces of
/// MODNet, U²-Net, IS-Net and BSHM exports, the families' reference pre-processing of a test
/// image and onnxruntime's output post-processed as each family's reference code does.
enum SegmenterFixtures {
    static var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/ModelSegmenter")
    }

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func numpy(_ name: String) throws -> NumpyFile { try NumpyFile(contentsOf: url(name)) }

    /// An 8-bit RGB image stored as a `uint8` H×W×3 array.
    static func image(_ testCase: String) throws -> Image {
        let file = try numpy("\(testCase).image.npy")
        return try Image(width: file.shape[1], height: file.shape[0], layout: .rgb, components: file.data)
    }
}

/// One fixture case: which model, with which configuration, on which image.
struct SegmenterCase: Sendable, CustomStringConvertible {
    let name: String
    let model: String
    let configuration: ModelSegmenter.Configuration
    var description: String { name }

    /// The presets, with the input size set to the tiny fixture size (the models' interfaces
    /// are the families'; their sizes are not).
    static let all: [SegmenterCase] = {
        var modnet = ModelSegmenter.Configuration.modnet
        modnet.inputSize = .shortSide(16, multipleOf: 16)
        var u2net = ModelSegmenter.Configuration.u2net
        u2net.inputSize = .fixed(width: 32, height: 32)
        var isnet = ModelSegmenter.Configuration.isnet
        isnet.inputSize = .fixed(width: 32, height: 32)
        var bshm = ModelSegmenter.Configuration.bshm
        bshm.inputSize = .longSide(32, multipleOf: 16)
        let logits = ModelSegmenter.Configuration(
            inputSize: .shortSide(16, multipleOf: 16), layout: .nhwc, normalization: .unit,
            output: .name("logits"), outputChannel: 1, postProcessing: .sigmoid)
        return [
            SegmenterCase(name: "modnet_16x32", model: "modnet_like.onnx", configuration: modnet),
            SegmenterCase(name: "modnet_32x16", model: "modnet_like.onnx", configuration: modnet),
            SegmenterCase(name: "u2net_32x32", model: "u2net_like.onnx", configuration: u2net),
            SegmenterCase(name: "isnet_32x32", model: "isnet_like.onnx", configuration: isnet),
            SegmenterCase(name: "bshm_32x16", model: "bshm_like.onnx", configuration: bshm),
            SegmenterCase(name: "logits_16x32", model: "logits_nhwc.onnx", configuration: logits),
        ]
    }()
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite("ModelSegmenter against onnxruntime")
struct ModelSegmenterReferenceTests {
    /// Input tensors: both sides compute each value in double and round once to Float, so they
    /// agree to the last bit but for rare double-rounding ties; 1e-6 allows one ulp near ±2.
    static let inputTolerance: Float = 1e-6
    /// Alphas: the engine and onnxruntime sum convolutions in different orders (the importer
    /// tests see ~1e-7 relative); min-max normalisation can stretch that by 1/(max − min).
    static let alphaTolerance: Float = 1e-4

    @Test(arguments: SegmenterCase.all, [1, 2])
    func matchesTheReferencePipeline(_ testCase: SegmenterCase, threads: Int) throws {
        let segmenter = try ModelSegmenter(contentsOf: SegmenterFixtures.url(testCase.model), configuration: testCase.configuration)
        let pool = ThreadPool(threadCount: threads)
        let image = try SegmenterFixtures.image(testCase.name)
        // The policy maps the fixture image to its own size, so the network sees it unchanged.
        let network = segmenter.networkImage(for: image)
        #expect(network == image)

        let expectedInput = try SegmenterFixtures.numpy("\(testCase.name).input.npy")
        let input = segmenter.inputTensor(forNetworkImage: network)
        #expect(input.shape == expectedInput.shape)
        #expect(maxAbsDifference(input.floats, expectedInput.floats) <= Self.inputTolerance)

        let expectedAlpha = try SegmenterFixtures.numpy("\(testCase.name).alpha.npy")
        let alpha = try segmenter.coarseAlpha(for: image, pool: pool)
        #expect([alpha.height, alpha.width] == expectedAlpha.shape)
        let difference = maxAbsDifference(alpha.packedComponents, expectedAlpha.floats)
        #expect(difference <= Self.alphaTolerance, "max |ours − reference| = \(difference)")
    }

    @Test func outputIndexFollowsTheFilesDeclarationOrder() throws {
        // u2net_like declares its fused output first under a name that sorts last.
        var configuration = SegmenterCase.all[2].configuration
        let first = try ModelSegmenter(contentsOf: SegmenterFixtures.url("u2net_like.onnx"), configuration: configuration)
        #expect(first.outputName == "fused_z")
        configuration.output = .name("side_1")
        let side = try ModelSegmenter(contentsOf: SegmenterFixtures.url("u2net_like.onnx"), configuration: configuration)
        #expect(side.outputName == "side_1")
        let image = try SegmenterFixtures.image("u2net_32x32")
        let fused = try first.coarseAlpha(for: image).packedComponents
        #expect(maxAbsDifference(fused, try side.coarseAlpha(for: image).packedComponents) > 0.01)
    }

    @Test func presetsAreRecognisedFromTheInterface() throws {
        func preset(_ file: String) throws -> ModelSegmenter.Configuration? {
            try ModelSegmenter.Configuration.preset(matching: Model(contentsOf: SegmenterFixtures.url(file)))
        }
        #expect(try preset("modnet_like.onnx") == .modnet)
        var u2net = ModelSegmenter.Configuration.u2net
        u2net.inputSize = .fixed(width: 32, height: 32)
        #expect(try preset("u2net_like.onnx") == u2net)
        #expect(try preset("isnet_like.onnx")?.normalization == ModelSegmenter.Configuration.isnet.normalization)
        #expect(try preset("bshm_like.onnx") == .bshm)
        #expect(try preset("two_inputs.onnx") == nil)
        #expect(try preset("gray_input.onnx") == nil)
    }

    @Test func matterRunsABroughtModelEndToEnd() async throws {
        let matter = try Matter(model: SegmenterFixtures.url("modnet_like.onnx"), threads: 2)   // preset by interface
        let segmenter = try #require(matter.segmenter)
        #expect(segmenter.configuration == .modnet)
        let scene = SyntheticComposite(width: 70, height: 50)
        let result = try await matter.matte(scene.image, options: MattingOptions())
        #expect(result.matte.width == 70 && result.matte.height == 50)
        // The reference rule scales the short side 50 up to 512: 716 → 704 wide, 512 high.
        #expect(matter.runner?.sizes == [ModelSegmenter.Size(width: 704, height: 512)])
    }
}

@Suite("ModelSegmenter pre- and post-processing")
struct ModelSegmenterProcessingTests {
    static func segmenter(_ model: String, _ configuration: ModelSegmenter.Configuration) throws -> ModelSegmenter {
        try ModelSegmenter(contentsOf: SegmenterFixtures.url(model), configuration: configuration)
    }

    @Test func knownPixelsGiveKnownTensorValues() throws {
        // Two pixels, (0, 128, 255) and (100, 200, 50); the image maximum is 255.
        let image = try Image(width: 2, height: 1, layout: .rgb, components: [0, 128, 255, 100, 200, 50] as [UInt8])

        let modnet = try Self.segmenter("modnet_like.onnx", SegmenterCase.all[0].configuration)
        let m = modnet.inputTensor(forNetworkImage: image)   // NCHW: [c][y][x]
        #expect(m.shape == [1, 3, 1, 2])
        let symmetric: (Double) -> Float = { Float(($0 - 127.5) / 127.5) }
        let expectedModnet: [Float] = [-1, symmetric(100), symmetric(128), symmetric(200), 1, symmetric(50)]
        #expect(m.floats == expectedModnet)

        let u2net = try Self.segmenter("u2net_like.onnx", SegmenterCase.all[2].configuration)
        let u = u2net.inputTensor(forNetworkImage: image).floats
        let r0 = Float((0.0 - 0.485) / 0.229), g1 = Float((200.0 / 255 - 0.456) / 0.224)
        #expect(u[0] == r0)   // R of pixel 0
        #expect(u[3] == g1)   // G of pixel 1 (NCHW: index 1·2 + 1)
        // x / max(x): an image whose brightest value is 200 maps 200 to 1.
        let dim = try Image(width: 1, height: 1, layout: .rgb, components: [100, 200, 50] as [UInt8])
        let mean: [Double] = [0.485, 0.456, 0.406], std: [Double] = [0.229, 0.224, 0.225]
        let scaled: [Double] = [0.5, 1, 0.25]
        let expectedU2net: [Float] = (0..<3).map { Float((scaled[$0] - mean[$0]) / std[$0]) }
        #expect(u2net.inputTensor(forNetworkImage: dim).floats == expectedU2net)

        let isnet = try Self.segmenter("isnet_like.onnx", SegmenterCase.all[3].configuration)
        let centred: (Double) -> Float = { Float($0 / 255 - 0.5) }
        let expectedIsnet: [Float] = [centred(100), centred(200), centred(50)]
        #expect(isnet.inputTensor(forNetworkImage: dim).floats == expectedIsnet)

        let bshm = try Self.segmenter("bshm_like.onnx", SegmenterCase.all[4].configuration)
        let b = bshm.inputTensor(forNetworkImage: image)      // H×W×3, BGR, raw
        #expect(b.shape == [1, 2, 3])
        #expect(b.floats == [255, 128, 0, 50, 200, 100])

        let nhwc = try Self.segmenter("logits_nhwc.onnx", SegmenterCase.all[5].configuration)
        let n = nhwc.inputTensor(forNetworkImage: image)
        #expect(n.shape == [1, 1, 2, 3])
        let unit: (Double) -> Float = { Float($0 / 255) }
        let expectedNHWC: [Float] = [0, unit(128), 1, unit(100), unit(200), unit(50)]
        #expect(n.floats == expectedNHWC)
    }

    @Test func sizePolicies() {
        typealias P = ModelSegmenter.Configuration.InputSize
        func size(_ p: P, _ w: Int, _ h: Int) -> [Int] { let s = p.size(forWidth: w, height: h); return [s.width, s.height] }
        // MODNet's rule: short side to 512 when the photo is larger or smaller than 512 both ways…
        #expect(size(.reference(512, multipleOf: 32), 1200, 1800) == [512, 768])
        #expect(size(.reference(512, multipleOf: 32), 400, 300) == [672, 512])   // int(400/300·512) = 682 → 672
        // …and only rounding to multiples of 32 when 512 lies between its sides.
        #expect(size(.reference(512, multipleOf: 32), 600, 400) == [576, 384])
        #expect(size(.shortSide(320, multipleOf: 32), 1000, 1500) == [320, 480])
        #expect(size(.longSide(1024, multipleOf: 32), 1200, 1800) == [672, 1024])  // int(1200/1800·1024) = 682 → 672
        #expect(size(.longSide(1024, multipleOf: 32), 5, 2000) == [32, 1024])       // never below one multiple
        #expect(size(.fixed(width: 320, height: 320), 1, 9000) == [320, 320])
    }

    @Test func letterboxKeepsTheAspectRatioAndCropsTheOutput() throws {
        var configuration = SegmenterCase.all[2].configuration
        configuration.keepsAspectRatio = true
        let segmenter = try Self.segmenter("u2net_like.onnx", configuration)
        let wide = Image(width: 64, height: 32, layout: .rgb, repeating: 200)
        let network = segmenter.networkImage(for: wide)
        #expect(network.width == 32 && network.height == 32)
        // 64×32 fits as 32×16, centred: rows 8..<24 hold the photo, the rest is black.
        #expect(network.pixel(x: 5, y: 7) == [0, 0, 0] && network.pixel(x: 5, y: 8) == [200, 200, 200])
        #expect(network.pixel(x: 5, y: 23) == [200, 200, 200] && network.pixel(x: 5, y: 24) == [0, 0, 0])
        let alpha = try segmenter.coarseAlpha(for: wide)
        #expect(alpha.width == 32 && alpha.height == 16)
    }

    @Test func postProcessing() {
        var plane: [Float] = [-2, 0, 2, .nan]
        ModelSegmenter.postProcess(&plane, .sigmoid)
        #expect(abs(plane[0] - 0.1192029) < 1e-6 && plane[1] == 0.5 && abs(plane[2] - 0.8807971) < 1e-6 && plane[3] == 0)
        plane = [3, 5, 4, .nan]
        ModelSegmenter.postProcess(&plane, .minMaxNormalized)
        #expect(plane == [0, 1, 0.5, 0])
        plane = [7, 7]
        ModelSegmenter.postProcess(&plane, .minMaxNormalized)   // constant: 0, not NaN
        #expect(plane == [0, 0])
        plane = [-10, 127.5, 300]
        ModelSegmenter.postProcess(&plane, .scaled(by: 1.0 / 255))
        #expect(plane == [0, 0.5, 1])
    }
}

@Suite("ModelSegmenter compiled-size cache")
struct ModelSegmenterCacheTests {
    @Test func sizesAreCompiledOnceAndEvictedLeastRecentlyUsed() throws {
        var configuration = SegmenterCase.all[0].configuration
        configuration.maximumCachedSizes = 1
        let segmenter = try ModelSegmenter(contentsOf: SegmenterFixtures.url("modnet_like.onnx"), configuration: configuration)
        let runner = SegmentationRunner(segmenter: segmenter, pool: ThreadPool(threadCount: 2))
        let tall = try SegmenterFixtures.image("modnet_16x32"), wide = try SegmenterFixtures.image("modnet_32x16")
        let first = try runner.coarseAlpha(for: tall)
        #expect(runner.sizes == [ModelSegmenter.Size(width: 16, height: 32)])
        _ = try runner.coarseAlpha(for: wide)
        #expect(runner.sizes == [ModelSegmenter.Size(width: 32, height: 16)])
        #expect(try runner.coarseAlpha(for: tall) == first)   // recompiled, same result
        #expect(try segmenter.coarseAlpha(for: tall) == first)   // the standalone call agrees
    }

    /// Concurrent calls on one runner each check out a session of their own; sessions are
    /// returned and reused, so the cache never holds more than were in use at once.
    @Test func concurrentCallsShareCompiledGraphs() async throws {
        let segmenter = try ModelSegmenter(
            contentsOf: SegmenterFixtures.url("modnet_like.onnx"), configuration: SegmenterCase.all[0].configuration)
        let runner = SegmentationRunner(segmenter: segmenter, pool: ThreadPool(threadCount: 2))
        let images = [try SegmenterFixtures.image("modnet_16x32"), try SegmenterFixtures.image("modnet_32x16")]
        let serial = try images.map { try segmenter.coarseAlpha(for: $0) }
        let results = try await withThrowingTaskGroup(of: (Int, FloatImage).self) { group in
            for i in 0..<12 {
                group.addTask { (i % 2, try runner.coarseAlpha(for: images[i % 2])) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 12)
        for (which, alpha) in results { #expect(alpha == serial[which]) }
        #expect(runner.sizes.count == 2)
        #expect(runner.sessionCount <= 12 && runner.sessionCount >= 2)
        let before = runner.sessionCount
        for _ in 0..<5 { _ = try runner.coarseAlpha(for: images[0]) }
        #expect(runner.sessionCount == before, "serial calls reuse sessions")
    }
}

@Suite("ModelSegmenter errors")
struct ModelSegmenterErrorTests {
    /// The reason of an `incompatibleModel` error for `file` opened with `configuration`.
    static func reason(_ file: String, _ configuration: ModelSegmenter.Configuration) -> String? {
        do {
            _ = try ModelSegmenter(contentsOf: SegmenterFixtures.url(file), configuration: configuration)
            return nil
        } catch let MattingError.incompatibleModel(name, reason) {
            #expect(name == file)
            return reason
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func interfacesThatDoNotFitAreNamedErrors() throws {
        let modnet = SegmenterCase.all[0].configuration, u2net = SegmenterCase.all[2].configuration
        #expect(Self.reason("two_inputs.onnx", modnet)?.contains("has 2 inputs (image, trimap)") == true)
        #expect(Self.reason("gray_input.onnx", modnet)?.contains("has 1 channels") == true)
        #expect(Self.reason("modnet_like.onnx", .bshm)?.contains("rank 4") == true)          // HWC needs rank 3
        #expect(Self.reason("bshm_like.onnx", modnet)?.contains("rank 3") == true)
        #expect(Self.reason("u2net_like.onnx", .u2net)?.contains("fixed at 32×32 but the configuration asks for 320×320") == true)
        var named = u2net
        named.output = .name("nope")
        #expect(Self.reason("u2net_like.onnx", named)?.contains("no output 'nope' (outputs: fused_z, side_1") == true)
        named.output = .index(7)
        #expect(Self.reason("u2net_like.onnx", named)?.contains("output index 7 does not exist") == true)
        var channel = SegmenterCase.all[5].configuration
        channel.outputChannel = 2
        #expect(Self.reason("logits_nhwc.onnx", channel)?.contains("has 2 channel(s); channel 2") == true)
        let description = MattingError.incompatibleModel(file: "m.onnx", reason: "why").description
        #expect(description == "m.onnx: model does not fit the segmenter: why")
    }

    @Test func filesThatAreNoModelsAreErrorsNamingTheFile() {
        for file in ["manifest.json", "missing.onnx"] {
            do {
                _ = try ModelSegmenter(contentsOf: SegmenterFixtures.url(file), configuration: .modnet)
                Issue.record("\(file) was accepted")
            } catch let MattingError.modelFailed(name, reason) {
                #expect(name == file && !reason.isEmpty)
                // Named once: the importer's own "file: format: …" prefix is not repeated.
                #expect(!reason.contains(file), "\(reason)")
            } catch {
                Issue.record("\(file): unexpected \(error)")
            }
        }
        #expect(throws: MattingError.self) {
            try Matter(model: SegmenterFixtures.url("two_inputs.onnx"))   // no preset fits, none given
        }
    }

    @Test func emptyImageIsATypedError() throws {
        let segmenter = try ModelSegmenter(contentsOf: SegmenterFixtures.url("modnet_like.onnx"), configuration: .modnet)
        #expect(throws: ImageError.self) { try segmenter.coarseAlpha(for: Image(width: 0, height: 0, layout: .rgb)) }
    }
}

@Suite("ModelSegmenter with the default model")
struct ModelSegmenterSelfieTests {
    /// The default model is the selfie configuration: the photo stretched to 256×256 with area
    /// averaging, `v / 255`, the output as it is; the result equals the network run by hand.
    @Test func defaultModelIsTheSelfieConfiguration() throws {
        let segmenter = try ModelSegmenter.defaultModel()
        #expect(segmenter.configuration == .selfie && segmenter.format == .tflite)
        let scene = SyntheticComposite(width: 300, height: 200)
        let network = segmenter.networkImage(for: scene.image)
        #expect(network == scene.image.resized(width: 256, height: 256, filter: .area))
        let tensor = segmenter.inputTensor(forNetworkImage: network)
        #expect(tensor.shape == [1, 256, 256, 3])
        #expect(maxAbsDifference(tensor.floats, network.converted(to: FloatImage.self).packedComponents) <= Float(1).ulp)
        let compiled = try segmenter.graph.compile(inputShapes: [segmenter.inputName: tensor.shape], threads: 1)
        let byHand = try #require(compiled.makeSession().run([segmenter.inputName: tensor])[segmenter.outputName])
        let alpha = try segmenter.coarseAlpha(for: scene.image, pool: ThreadPool(threadCount: 2))
        #expect(alpha.width == 256 && alpha.height == 256)
        #expect(alpha.packedComponents == byHand.floats.map { min(max($0, 0), 1) })
    }

    /// Photos at least 1.6 times as wide as tall go to the landscape model (256×144), narrower
    /// ones to the square model, through the segmenter and through a `Matter` alike.
    @Test func widePhotosGoToTheLandscapeModel() async throws {
        let segmenter = try ModelSegmenter.defaultModel()
        let landscape = try #require(segmenter.wideVariant)
        #expect(landscape.configuration == .selfieLandscape && landscape.declaredSize == .init(width: 256, height: 144))
        #expect(landscape.fileName == DefaultModel.landscapeFileName && segmenter.wideAspectRatio == 1.6)
        var square = segmenter
        square.wideVariant = nil
        let pool = ThreadPool(threadCount: 2)

        let wide = SyntheticComposite(width: 320, height: 200).image
        #expect(segmenter.segmenter(forWidth: 320, height: 200).fileName == DefaultModel.landscapeFileName)
        let wideAlpha = try segmenter.coarseAlpha(for: wide, pool: pool)
        #expect(wideAlpha.width == 256 && wideAlpha.height == 144)
        #expect(wideAlpha == (try landscape.coarseAlpha(for: wide, pool: pool)))
        #expect((try square.coarseAlpha(for: wide, pool: pool)).height == 256)

        let narrower = SyntheticComposite(width: 319, height: 200).image
        #expect(segmenter.segmenter(forWidth: 319, height: 200).fileName == DefaultModel.fileName)
        #expect(try segmenter.coarseAlpha(for: narrower, pool: pool) == (try square.coarseAlpha(for: narrower, pool: pool)))

        let options = MattingOptions()
        let both = try await Matter(segmenter: segmenter, pool: pool).matte(wide, options: options)
        let byLandscape = try await Matter(segmenter: landscape, pool: pool).matte(wide, options: options)
        let bySquare = try await Matter(segmenter: square, pool: pool).matte(wide, options: options)
        #expect(both.matte == byLandscape.matte)
        #expect(both.matte != bySquare.matte)
    }
}

/// Real MODNet / U²-Netp ONNX files, which are not committed: run only when
/// `MATTINGKIT_BYOM_MODELS` names a folder holding `modnet.onnx` and/or `u2netp.onnx`
/// (Docs/BringYourOwnModel.md says where to get them). With `MATTINGKIT_BYOM_OUTPUT` set, the
/// network input, coarse alpha (raw little-endian float32 with the shape in the name) and the
/// matte and cut-out PNGs are written there for inspection and comparison with onnxruntime.
@Suite("ModelSegmenter with real models", .enabled(if: ProcessInfo.processInfo.environment["MATTINGKIT_BYOM_MODELS"] != nil))
struct ModelSegmenterRealModelTests {
    static let environment = ProcessInfo.processInfo.environment

    @Test(arguments: [("modnet.onnx", ModelSegmenter.Configuration.modnet), ("u2netp.onnx", .u2net)])
    func astronaut(_ file: String, _ configuration: ModelSegmenter.Configuration) async throws {
        let folder = URL(fileURLWithPath: try #require(Self.environment["MATTINGKIT_BYOM_MODELS"]))
        let url = folder.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let photo = try Image(contentsOf: DefaultModel.directory.deletingLastPathComponent()
            .appendingPathComponent("samples/astronaut.png"))
        let segmenter = try ModelSegmenter(contentsOf: url, configuration: configuration)
        let coarse = try segmenter.coarseAlpha(for: photo)
        let result = try await Matter(segmenter: segmenter, pool: ThreadPool(threadCount: 2)).matte(photo)
        print("\(file): coarse \(coarse.width)×\(coarse.height); \(result.timings)")
        // The astronaut fills the lower centre of the photo; the top corners are background.
        func mean(_ image: FloatImage, x: ClosedRange<Double>, y: ClosedRange<Double>) -> Float {
            var sum: Float = 0, n = 0
            for py in Int(y.lowerBound * Double(image.height))..<Int(y.upperBound * Double(image.height)) {
                for px in Int(x.lowerBound * Double(image.width))..<Int(x.upperBound * Double(image.width)) {
                    sum += image[px, py, 0]; n += 1
                }
            }
            return sum / Float(max(n, 1))
        }
        let subject = mean(coarse, x: 0.35...0.65, y: 0.6...0.9)
        let corners = (mean(coarse, x: 0...0.1, y: 0...0.1) + mean(coarse, x: 0.9...1, y: 0...0.1)) / 2
        print("\(file): mean coarse alpha on the subject \(subject), in the top corners \(corners)")
        #expect(subject > 0.8 && corners < 0.2)
        if let out = Self.environment["MATTINGKIT_BYOM_OUTPUT"] {
            let dir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let stem = url.deletingPathExtension().lastPathComponent
            let tensor = segmenter.inputTensor(forNetworkImage: segmenter.networkImage(for: photo))
            let shape = tensor.shape.map(String.init).joined(separator: "x")
            try tensor.floats.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("\(stem).input.\(shape).f32")) }
            try coarse.packedComponents.withUnsafeBytes {
                try Data($0).write(to: dir.appendingPathComponent("\(stem).alpha.\(coarse.height)x\(coarse.width).f32"))
            }
            try coarse.converted(to: Image.self).write(to: dir.appendingPathComponent("\(stem).coarse.png"))
            try result.matte.write(to: dir.appendingPathComponent("\(stem).matte.png"))
            try result.cutout.write(to: dir.appendingPathComponent("\(stem).cutout.png"))
        }
    }
}
