import Foundation
import MattingImage
import MattingRefine

/// The one-call matting pipeline: photo in, matte and cut-out out, at the photo's size.
///
/// ```swift
/// let matter = try Matter(threads: 2)                       // loads the default model once
/// let photo = try Image(contentsOf: inputURL)
/// let result = try await matter.matte(photo, options: MattingOptions())
/// try result.cutout.write(to: outputURL, format: .png)
/// try result.matte.write(to: maskURL, format: .png)
/// print(result.timings)
/// ```
///
/// Stages: the photo is reduced to the working size (``InputPolicy``: at most 2048 px a
/// side, short side at most 1600 px); the segmenter finds the subject at low resolution;
/// the refiner builds a trimap around the coarse edge and solves closed-form matting on the
/// unknown band; foreground colours are estimated there; the matte is brought back to the
/// original size along the photo's edges (guided upsampling) and post-processed
/// (threshold → erode → feather for the presets).
///
/// **One thread budget.** A `Matter` owns one `ThreadPool` (or uses the one you give it),
/// and every stage — network, solver, foreground estimation, upsampling, post-processing —
/// runs on it and nothing else: `threads: 1` uses one core for the whole call. Calls run one
/// at a time on the pool's own thread, in the order they were made; the calling task is
/// suspended meanwhile, never blocked. For several photos at once, make several `Matter`s
/// (they can share one ``ModelSegmenter``, so the model is parsed once).
///
/// **Same bytes for any thread count.** Every stage splits its work so each output has one
/// writer and sums in a fixed order: the matte and the cut-out are byte-identical whether the
/// pool has 1 thread or 16.
///
/// **Cancellation.** Cancelling the calling task ends the matte with `CancellationError`
/// within one step of whichever stage is running: between two network layers, two solver
/// iterations, two foreground levels or two stages. Everything the matte allocated is freed.
///
/// **Reuse.** The network's compiled graphs and engine sessions are kept between calls, so
/// repeated mattes allocate no new network memory.
public final class Matter: Sendable {
    /// The segmenter that supplies the coarse alpha; nil for a `Matter` that only refines
    /// (trimap, coarse mask and studio paths).
    public let segmenter: ModelSegmenter?
    /// The threads every stage runs on.
    public let pool: ThreadPool
    let runner: SegmentationRunner?
    /// The pose detector for ``MattingOptions/peopleOnly``, loaded on first use.
    let people: PersonDetectorSlot

    /// A pipeline around the installed default model (`Scripts/fetch-models.sh` fetches it).
    ///
    /// - Parameter threads: threads for the whole pipeline (at least 1); the default is the
    ///   number of cores the process may use.
    /// - Throws: ``MattingError/modelMissing(path:)`` if the model is not installed;
    ///   ``MattingError/modelFailed(file:reason:)`` if it cannot be loaded.
    public convenience init(threads: Int = Matter.defaultThreadCount) throws {
        try self.init(segmenter: ModelSegmenter.defaultModel(), pool: ThreadPool(threadCount: threads))
    }

    /// A pipeline around `segmenter` (nil: no network; only the trimap, coarse-mask and studio
    /// paths work) running on `pool`.
    ///
    /// Share a pool between `Matter`s to share one thread budget: their calls then take turns.
    public init(segmenter: ModelSegmenter?, pool: ThreadPool) {
        self.segmenter = segmenter
        self.pool = pool
        runner = segmenter.map { SegmentationRunner(segmenter: $0, pool: pool) }
        people = PersonDetectorSlot(pool: pool)
    }

    /// A pipeline with no network, for the trimap, coarse-mask and studio paths.
    ///
    /// - Parameter threads: threads for the whole pipeline (at least 1).
    public convenience init(refiningOnlyWithThreads threads: Int = Matter.defaultThreadCount) {
        self.init(segmenter: nil, pool: ThreadPool(threadCount: threads))
    }

    /// The number of cores this process may use: the default thread budget.
    public static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    // MARK: The four paths

    /// Mattes `image` with the segmentation network. Unless `options` names post-processing,
    /// the `portrait` preset is applied.
    ///
    /// - Parameters:
    ///   - image: any layout (alpha is ignored), any size; never modified.
    ///   - options: post-processing, background, limits.
    /// - Throws: `CancellationError`; ``MattingError`` naming the stage that failed.
    public func matte(_ image: Image, options: MattingOptions = MattingOptions()) async throws -> MattingResult {
        try await matte(image, options: options, progress: nil)
    }

    /// Mattes `image` with the segmentation network, reporting progress.
    ///
    /// - Parameters:
    ///   - image: any layout (alpha is ignored), any size; never modified.
    ///   - options: post-processing, background, limits.
    ///   - progress: called on the pipeline's thread as stages start and the solver
    ///     converges; fractions never decrease and the last call has fraction exactly 1.
    /// - Throws: as ``matte(_:options:)``.
    public func matte(
        _ image: Image, options: MattingOptions = MattingOptions(),
        progress: @escaping @Sendable (MattingProgress) -> Void
    ) async throws -> MattingResult {
        try await matte(image, options: options, progress: Optional(progress))
    }

    private func matte(
        _ image: Image, options: MattingOptions, progress: (@Sendable (MattingProgress) -> Void)?
    ) async throws -> MattingResult {
        guard let runner else { throw MattingError.noModel }
        return try await run(image, options: options, defaultOperations: .portrait, stages: [.segment, .refine], progress: progress) { pipeline, working in
            let (coarse, heads) = try pipeline.stage(.segment) {
                try self.coarseAlphaAndHeads(for: working.image, runner: runner, options: options)
            }
            return try pipeline.stage(.refine) {
                let upsampled = coarse.resized(
                    width: working.image.width, height: working.image.height, filter: .bilinear, pool: pipeline.pool)
                return try options.refiner(default: .fast).matte(working.float, coarseAlpha: upsampled, hairRegions: heads, pool: pipeline.pool)
            }
        }
    }

    /// Mattes `image` from a caller's trimap (0 background, 255 foreground, anything else
    /// unknown), with no network. The trimap is resized (nearest) to the working size. The
    /// result is the solver's alpha as it is, unless `options` names post-processing.
    ///
    /// - Throws: ``MattingError/sizeMismatch(_:)`` unless the trimap has the image's size;
    ///   ``MattingError/unusableTrimap(_:)`` when it marks no pixel as known (0 or 255) and
    ///   some as unknown; `CancellationError`; ``MattingError`` naming the stage that failed.
    public func matte(
        _ image: Image, trimap: Image, options: MattingOptions = MattingOptions(),
        progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> MattingResult {
        guard trimap.width == image.width, trimap.height == image.height else {
            throw MattingError.sizeMismatch("trimap is \(trimap.width)×\(trimap.height), photo is \(image.width)×\(image.height)")
        }
        return try await matte(image, trimap: trimap, named: "the trimap", options: options, progress: progress)
    }

    /// ``matte(_:trimap:options:progress:)`` of a trimap of the image's size, whose errors call
    /// it `name` (its file's path when it was read from one).
    func matte(
        _ image: Image, trimap: Image, named name: String, options: MattingOptions,
        progress: (@Sendable (MattingProgress) -> Void)?
    ) async throws -> MattingResult {
        try await run(image, options: options, defaultOperations: .identity, stages: [.refine], progress: progress) { pipeline, working in
            let small = try Self.usableTrimap(
                trimap.converted(to: .gray).resized(width: working.image.width, height: working.image.height, filter: .nearest, pool: pipeline.pool),
                name: name)
            return try pipeline.stage(.refine) {
                try options.refiner(default: .exact).matte(working.float, trimap: small, pool: pipeline.pool)
            }
        }
    }

    /// The caller's trimap at the working size, or ``MattingError/unusableTrimap(_:)`` naming it
    /// (`name`) when it marks unknown pixels and no known one: every constant alpha then fits
    /// it, so the solver has no answer to give.
    static func usableTrimap(_ small: Image, name: String) throws -> Trimap {
        let trimap = Trimap(small)
        guard trimap.unknownCount > 0, trimap.foregroundCount + trimap.backgroundCount == 0 else { return trimap }
        throw MattingError.unusableTrimap(
            "\(name) marks no pixel as known (0 for background, 255 for foreground) at the working size "
                + "\(small.width)×\(small.height), so the matte is undetermined")
    }

    /// Mattes `image` from a caller's coarse mask (any single- or multi-channel picture of
    /// the photo's size; the first channel, 0…255, is the coarse alpha), with no network. The
    /// result is the solver's alpha as it is, unless `options` names post-processing.
    ///
    /// - Throws: as ``matte(_:trimap:options:progress:)``.
    public func matte(
        _ image: Image, coarseMask: Image, options: MattingOptions = MattingOptions(),
        progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> MattingResult {
        guard coarseMask.width == image.width, coarseMask.height == image.height else {
            throw MattingError.sizeMismatch("mask is \(coarseMask.width)×\(coarseMask.height), photo is \(image.width)×\(image.height)")
        }
        return try await run(image, options: options, defaultOperations: .identity, stages: [.refine], progress: progress) { pipeline, working in
            try pipeline.stage(.refine) {
                let coarse = coarseMask.channel(0).converted(to: FloatImage.self, pool: pipeline.pool)
                    .resized(width: working.image.width, height: working.image.height, filter: .area, pool: pipeline.pool)
                return try options.refiner(default: .fast).matte(working.float, coarseAlpha: coarse, pool: pipeline.pool)
            }
        }
    }

    /// Mattes a product shot on a plain or near-uniform backdrop, with no network: the
    /// backdrop colour is estimated from the picture's border, a trimap is made from each
    /// pixel's colour distance to it (`StudioTrimap`), and the same solver runs. Unless
    /// `options` names post-processing, the `product` preset is applied.
    ///
    /// - Throws: `CancellationError`; ``MattingError`` naming the stage that failed.
    public func studioMatte(
        _ image: Image, options: MattingOptions = MattingOptions(), studio: StudioTrimap = StudioTrimap(),
        progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> MattingResult {
        try await run(image, options: options, defaultOperations: .product, stages: [.refine], progress: progress) { pipeline, working in
            try pipeline.stage(.refine) {
                try options.refiner(default: .fast).matte(working.float, trimap: studio.trimap(for: working.float), pool: pipeline.pool)
            }
        }
    }

    // MARK: The shared stages

    /// The photo at working size, 8-bit and float.
    struct Working {
        let image: Image
        let float: FloatImage
    }

    /// Runs the stages every path shares on the pool's thread; `solve` turns the working copy
    /// into a working-size alpha (its own stages, `middle`, are reported between prepare and
    /// foreground).
    private func run(
        _ image: Image, options: MattingOptions, defaultOperations: MatteOperations, stages middle: [MattingProgress.Stage],
        progress: (@Sendable (MattingProgress) -> Void)?,
        solve: @escaping @Sendable (Pipeline, Working) throws -> FloatImage
    ) async throws -> MattingResult {
        guard !image.isEmpty else { throw MattingError.emptyImage }
        let pool = self.pool
        let reporter = ProgressReporter(
            stages: [.prepare] + middle + (options.estimatesForeground ? [.foreground] : []) + [.upsample, .postprocess],
            handler: progress)
        return try await pool.run(progress: { reporter.within($0) }) {
            let pipeline = Pipeline(pool: pool, reporter: reporter)
            let result = try Self.run(
                image, options: options, operations: options.operations(default: defaultOperations), pipeline: pipeline, solve: solve)
            reporter.finish()
            return result
        }
    }

    private static func run(
        _ image: Image, options: MattingOptions, operations: MatteOperations, pipeline: Pipeline,
        solve: (Pipeline, Working) throws -> FloatImage
    ) throws -> MattingResult {
        let pool = pipeline.pool
        let (original, working) = try pipeline.stage(.prepare) { () throws -> (Image, Working) in
            var rgb = image.converted(to: .rgb)
            if options.enhance { rgb = try Enhancement().applied(to: rgb) }
            let size = options.inputPolicy.workingSize(width: rgb.width, height: rgb.height)
            let small = rgb.resized(width: size.width, height: size.height, filter: .area, pool: pool)
            return (rgb, Working(image: small, float: small.converted(to: FloatImage.self, pool: pool)))
        }
        let alpha = try solve(pipeline, working)
        let foreground = try options.estimatesForeground
            ? pipeline.stage(.foreground) { try ForegroundEstimator().foreground(working.float, alpha: alpha, pool: pool) }
            : nil
        let isReduced = working.image.width != original.width || working.image.height != original.height
        let (fullAlpha, fullForeground) = try pipeline.stage(.upsample) { () throws -> (FloatImage, Image) in
            guard isReduced else {
                return (alpha, foreground.map { quantizedMatte($0, pool: pool) } ?? original)
            }
            // The 8-bit photo is the guide: no full-size float copy (see `Refiner.upsampled(_:guide:)`).
            let fullAlpha = try options.refiner.upsampled(alpha, guide: original, pool: pool)
            try pool.checkCancellation()
            pool.reportProgress(0.5)
            let fullForeground = try foreground.map {
                try Refiner.correctedForeground(original: original, working: working.float, foreground: $0, pool: pool)
            } ?? original
            return (fullAlpha, fullForeground)
        }
        let matte = try pipeline.stage(.postprocess) {
            // A guided-filter step follows the photo; the presets need no guide and run as one
            // banded pass straight to 8 bits (no full-size float intermediates).
            let needsGuide = operations.steps.contains { if case .guidedFilter = $0 { true } else { false } }
            let guide = needsGuide ? original.converted(to: FloatImage.self, pool: pool) : nil
            return try operations.appliedQuantized(to: fullAlpha, guide: guide, pool: pool)
        }
        // The cut-out's colours are the photo's: they keep its colour profile, so encoders write
        // it back and colours stay where they were (the matte is alpha, with no colour space).
        var colours = fullForeground
        colours.colorProfile = image.colorProfile?.forColours
        return MattingResult(matte: matte, foreground: colours, timings: pipeline.timings.value)
    }
}

/// One matte's running state on the pool's thread: the pool, the progress reporter and the
/// stage timings.
final class Pipeline: @unchecked Sendable {
    // @unchecked: used only on the pool's thread, one matte at a time.
    let pool: ThreadPool
    let reporter: ProgressReporter
    let timings = Box(MattingTimings())

    init(pool: ThreadPool, reporter: ProgressReporter) {
        self.pool = pool
        self.reporter = reporter
    }

    /// Runs one stage: checks for cancellation first, reports its start, times it, and
    /// names it in any error it throws that is not already a ``MattingError`` or a
    /// cancellation. With `keepingFileErrors`, an `ImageError` (a stage that reads or writes
    /// files: it names the file) is thrown as it is, as the whole-picture path throws it.
    func stage<T>(_ stage: MattingProgress.Stage, keepingFileErrors: Bool = false, _ body: () throws -> T) throws -> T {
        try pool.checkCancellation()
        reporter.begin(stage)
        do {
            return try timings.value.measure(stage.rawValue, body)
        } catch let error as ImageError where keepingFileErrors {
            throw error
        } catch {
            throw MattingError.wrapping(error, stage: stage)
        }
    }
}

/// A mutable value behind a reference, for state a `Sendable` closure updates on one thread.
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

extension ColorProfile {
    /// The profile the cut-out's colours carry: this one if it describes RGB pixels. A gray
    /// photo's gray profile cannot describe the RGB cut-out made from it, so its gray levels
    /// become RGB as they are (sRGB by convention) and the profile is left out.
    var forColours: ColorProfile? { describes(.rgb) ? self : nil }
}
