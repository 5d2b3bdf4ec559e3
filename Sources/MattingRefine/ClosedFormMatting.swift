import MattingThreads
import MattingImage

/// The alpha solver: closed-form matting (Levin, Lischinski & Weiss, PAMI 2008) on the
/// unknown pixels of a trimap, solved matrix-free by preconditioned conjugate gradients.
///
/// Minimises `αᵀ L α` (the matting Laplacian, colour model, `(2r+1)²` windows,
/// regularisation `ε`) with the trimap's known pixels held fixed at 0 or 1 (eliminated, not
/// penalised: the system is `L_UU α_U = −L_UK α_K`, as pymatting's `estimate_alpha_cf`).
/// What makes it fast:
/// - `L·p` is applied in O(1) per pixel with box sums, never built;
/// - only 32×32 tiles holding unknown pixels are touched;
/// - coarse to fine: the problem is halved (2×2 means, a coarse pixel is known only if all
///   its fine pixels agree) until it has at most ``coarsestUnknownCount`` unknowns; each
///   level's solution, bilinearly upsampled, starts the next level;
/// - the finest-but-one guess (or the caller's `initialAlpha`) starts close to the answer;
/// - Jacobi (diagonal) preconditioning by default, or one multigrid V-cycle per iteration
///   (``Preconditioner/multigrid``; ``exact`` uses it to reach the exact minimiser);
///   tiles spread over the caller's pool.
///
/// Stopping rule, at every level: the relative residual `‖r‖₂ / ‖b‖₂ ≤ tolerance`, where
/// `b = −L_UK α_K` is the right-hand side (so a zero start has relative residual 1), or
/// `maxIterations`. The result is clamped to 0…1.
///
/// ```swift
/// let alpha = try ClosedFormMatting().alpha(for: photo, trimap: trimap)
/// ```
public struct ClosedFormMatting: Sendable, Hashable, Codable {
    /// Regularisation ε of the window covariance (`Σ + ε/|w| U`). Default 1e-7 (pymatting's).
    public var epsilon: Double = 1e-7
    /// Window radius r (`(2r+1)²` windows). Default 1 (3×3).
    public var radius: Int = 1
    /// Relative residual at which a level stops. Default 1e-3: about a quarter of the exact
    /// solve's time (``exact``, 1e-6), for an answer that stops short of the minimiser. On the
    /// synthetic 1200×1800 benchmark that early stop scores better against the true alpha; on
    /// real photos with real ground truth the minimiser does (Docs/Quality.md), which is why a
    /// caller's trimap is solved exactly by default in the pipeline (`MattingOptions.solverAccuracy`).
    public var tolerance: Double = 1e-3
    /// Iteration cap per level. Default 400.
    public var maxIterations: Int = 400
    /// Iteration cap of the finest level only (nil: ``maxIterations``). Coarser levels are
    /// 4×, 16×, … cheaper, so they are solved to ``tolerance`` while the finest level,
    /// which starts from their upsampled answer, only polishes detail.
    public var finestMaxIterations: Int? = nil
    /// Halve the problem until it has at most this many unknown pixels or a side below 16
    /// (0 disables coarse-to-fine). Default 1 000: smooth, semi-transparent regions are
    /// the slow modes of the Laplacian, and only coarse grids remove them cheaply.
    public var coarsestUnknownCount: Int = 1_000
    /// Adds the non-local terms of information-flow matting (``InformationFlow``) on the
    /// finest level; coarser levels stay closed form and only start it. Default `nil` (off).
    /// Set a tight ``tolerance`` (1e-6) with it: the terms were measured on the minimiser.
    public var informationFlow: InformationFlow? = nil
    /// How each level's conjugate-gradient loop is preconditioned. Default ``Preconditioner/jacobi``.
    public var preconditioner: Preconditioner = .jacobi

    /// The preconditioners of the conjugate-gradient loop.
    public enum Preconditioner: String, Sendable, Hashable, Codable, CaseIterable {
        /// The diagonal: cheap iterations, many of them; the default, stopped early (1e-3).
        case jacobi
        /// One multigrid V-cycle per iteration of flexible CG on the finest level: smoothed
        /// aggregation on the image grid (4×4-pixel blocks, each with the four coarse unknowns
        /// that hold the functions locally affine in colour, Galerkin operators below,
        /// Gauss–Seidel smoothing); with windows wider than radius 1, a V-cycle over the
        /// coarse-to-fine pyramid instead. 16–37 iterations to 1e-6 on the development set, a
        /// 1200×1800 benchmark and a 4000×3000 composite, each costing several Jacobi ones, and the only way
        /// here to reach a tolerance of 1e-6 within ``ClosedFormMatting/maxIterations`` on large
        /// pictures. With ``ClosedFormMatting/informationFlow`` set, the terms' solve (finest
        /// level only) is preconditioned by smoothed aggregation built on the matting Laplacian
        /// alone (with the known-to-unknown term alone, a diagonal, on the Laplacian plus it):
        /// 81 iterations to 1e-6 at 1200×1800 where Jacobi takes 216 after its coarser levels,
        /// for about the same CPU time (Docs/Quality.md); with windows wider than radius 1 the
        /// Jacobi loop runs instead.
        case multigrid
    }

    /// The defaults: ε 1e-7, radius 1, tolerance 1e-3, 400 iterations per level.
    public init() {}

    /// The exact minimiser of the closed-form energy: the defaults with the multigrid
    /// preconditioner and a tolerance of 1e-6, where the answer agrees with pymatting's
    /// `estimate_alpha_cf` to within rounding on real photos (Docs/Quality.md). It costs
    /// about 2–4× the default's CPU time, which stops at 1e-3 and leaves the minimiser's
    /// slowest modes half solved; on real photos with real ground truth the exact minimiser
    /// is the more accurate matte.
    public static var exact: ClosedFormMatting { ClosedFormMatting().solvedExactly }

    /// This solver (same ε, radius and terms) run to the exact minimiser: the multigrid
    /// preconditioner, a tolerance of at most 1e-6 and no early cap on the finest level.
    public var solvedExactly: ClosedFormMatting {
        var solver = self
        solver.preconditioner = .multigrid
        solver.tolerance = min(tolerance, 1e-6)
        solver.finestMaxIterations = nil
        return solver
    }

    private enum CodingKeys: String, CodingKey {
        case epsilon, radius, tolerance, maxIterations, finestMaxIterations, coarsestUnknownCount, informationFlow
        case preconditioner
    }

    /// Decodes a solver; fields added since a form was stored (``preconditioner``) take their
    /// defaults when absent, so older JSON still decodes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epsilon = try c.decode(Double.self, forKey: .epsilon)
        radius = try c.decode(Int.self, forKey: .radius)
        tolerance = try c.decode(Double.self, forKey: .tolerance)
        maxIterations = try c.decode(Int.self, forKey: .maxIterations)
        finestMaxIterations = try c.decodeIfPresent(Int.self, forKey: .finestMaxIterations)
        coarsestUnknownCount = try c.decode(Int.self, forKey: .coarsestUnknownCount)
        informationFlow = try c.decodeIfPresent(InformationFlow.self, forKey: .informationFlow)
        preconditioner = try c.decodeIfPresent(Preconditioner.self, forKey: .preconditioner) ?? .jacobi
    }

    /// The defaults with the finest level capped at 60 iterations: about 40 % less work; on
    /// the 1200×1800 benchmark its SAD against the truth (10.2 k) is still below
    /// pymatting's (10.7 k) but above the defaults' (7.0 k). See Docs/Benchmarks.md.
    public static var fast: ClosedFormMatting {
        var solver = ClosedFormMatting()
        solver.finestMaxIterations = 60
        return solver
    }

    /// What a solve did, for logs and benchmarks.
    public struct Statistics: Sendable {
        /// Per level, finest first: size, unknown pixels, iterations, final relative residual.
        public var levels: [(width: Int, height: Int, unknown: Int, iterations: Int, residual: Double)] = []
        /// The multigrid solver's Galerkin operator against `Pᵀ(A(P x))` (smoothed aggregation:
        /// every coarse operator against PᵀAP entry by entry), when asked to check it (tests).
        package var galerkinError: Double?
        /// With ``ClosedFormMatting/informationFlow``: whether the known-to-unknown term was used.
        public var usedKnownToUnknown: Bool?
    }

    /// The alpha matte of `image` given `trimap`.
    ///
    /// - Parameters:
    ///   - image: RGB or RGBA (alpha ignored) or gray (used as R = G = B), values 0…1.
    ///   - trimap: same size; 0 background, 255 foreground, else unknown.
    ///   - initialAlpha: optional starting guess for the unknown pixels (single-channel, same
    ///     size, e.g. the upsampled coarse alpha); default 0.5 at the coarsest level.
    ///   - pool: the threads to solve on (the result does not depend on their number); a
    ///     cancelled job of the pool stops the solve between two iterations.
    /// - Returns: a single-channel matte, 0…1, known pixels exactly 0 or 1. With no pixel
    ///   known as foreground, the minimiser and so the matte is 0 everywhere.
    /// - Throws: `ImageError.invalidArgument` for size mismatches, bad parameters, or a trimap
    ///   with unknown pixels and no known one (its matte is undetermined);
    ///   `CancellationError` when the pool's job is cancelled.
    public func alpha(
        for image: FloatImage, trimap: Trimap, initialAlpha: FloatImage? = nil, pool: ThreadPool = .serial
    ) throws -> FloatImage {
        try solve(image, trimap: trimap, initialAlpha: initialAlpha, pool: pool).alpha
    }

    /// ``alpha(for:trimap:initialAlpha:pool:)`` with the solver's statistics.
    public func solve(
        _ image: FloatImage, trimap: Trimap, initialAlpha: FloatImage? = nil, pool: ThreadPool = .serial
    ) throws -> (alpha: FloatImage, statistics: Statistics) {
        try solve(
            image, trimap: trimap, initialAlpha: initialAlpha, pool: pool,
            multigrid: preconditioner == .multigrid)
    }

    /// ``solve(_:trimap:initialAlpha:pool:)``, with `multigrid` choosing the
    /// multigrid-preconditioned solver whatever ``preconditioner`` says: smoothed aggregation
    /// with `aggregationBlock`-pixel blocks (``solveSmoothedAggregation(_:statistics:pool:block:checksGalerkin:)``),
    /// or, with `aggregationBlock` 0 or windows wider than radius 1, the V-cycle over the
    /// halved pyramid (``solveMultigrid(_:statistics:pool:galerkin:checksGalerkin:chebyshevDegree:)``;
    /// Docs/Quality.md). `galerkin` concerns that V-cycle only; `checksGalerkin` (tests) checks
    /// the coarse operators of either (`statistics.galerkinError`).
    package func solve(
        _ image: FloatImage, trimap: Trimap, initialAlpha: FloatImage?, pool: ThreadPool, multigrid: Bool,
        galerkin: Bool = true, checksGalerkin: Bool = false, aggregationBlock: Int = ClosedFormMatting.aggregationBlock
    ) throws -> (alpha: FloatImage, statistics: Statistics) {
        try requireSameSize(image, trimap.image, "image and trimap")
        if let initialAlpha {
            try requireMatte(initialAlpha, "initial alpha")
            try requireSameSize(image, initialAlpha, "image and initial alpha")
        }
        // No pixel known: every constant alpha is a minimiser, so there is no answer to give.
        guard trimap.unknownCount == 0 || trimap.foregroundCount + trimap.backgroundCount > 0 else {
            throw ImageError.invalidArgument(
                "the trimap marks no pixel as known (0 for background, 255 for foreground): the matte is undetermined")
        }
        guard epsilon > 0, radius >= 1, tolerance >= 0, maxIterations >= 0 else {
            throw ImageError.invalidArgument("closed-form matting needs epsilon > 0, radius ≥ 1, tolerance ≥ 0, maxIterations ≥ 0")
        }
        let rgb = image.layout.isColor ? image.rgbImage : image.converted(to: .rgb)
        let w = image.width, h = image.height
        var level = Level(
            width: w, height: h, planes: [], image: rgb,
            state: Self.states(of: trimap),
            guess: initialAlpha.map { Plane($0).data })
        var statistics = Statistics()
        // The information-flow terms with `multigrid`: flexible CG preconditioned by smoothed
        // aggregation built on `L` alone (`L + E` for a diagonal `E`), on the finest level only (Docs/Quality.md, branch
        // `ifm-sa`: started from the coarser levels' answer it took no fewer iterations), unless
        // the windows are wider than radius 1 or its hierarchy does not fit in memory; the
        // Jacobi loop over the pyramid otherwise.
        if informationFlow != nil {
            let block = aggregationBlock > 0 ? aggregationBlock : Self.aggregationBlock
            let alpha = try (multigrid && radius == 1
                ? solveSmoothedAggregationOnce(level, statistics: &statistics, pool: pool, block: block) : nil)
                ?? solve(&level, statistics: &statistics, pool: pool, progress: 0...1)
            return (Plane(width: w, height: h, data: alpha).grayImage, statistics)
        }
        let alpha = multigrid && aggregationBlock > 0
            ? try solveSmoothedAggregation(
                level, statistics: &statistics, pool: pool, block: aggregationBlock, checksGalerkin: checksGalerkin)
            : multigrid
            ? try solveMultigrid(level, statistics: &statistics, pool: pool, galerkin: galerkin, checksGalerkin: checksGalerkin)
            : try solve(&level, statistics: &statistics, pool: pool, progress: 0...1)
        return (Plane(width: w, height: h, data: alpha).grayImage, statistics)
    }

    /// The trimap as ``Level`` states.
    static func states(of trimap: Trimap) -> [UInt8] {
        let w = trimap.width, h = trimap.height
        return [UInt8](unsafeUninitializedCapacity: w * h) { out, count in
            trimap.image.withUnsafeBufferPointer { p, stride in
                for y in 0..<h {
                    let row = p + y * stride, o = y * w
                    for x in 0..<w {
                        let v = row[x]
                        out[o + x] = v == 0 ? Level.background : (v == 255 ? Level.foreground : Level.unknown)
                    }
                }
            }
            count = w * h
        }
    }

    /// One level of the pyramid.
    struct Level {
        static let background: UInt8 = 0, foreground: UInt8 = 1, unknown: UInt8 = 2

        var width: Int
        var height: Int
        /// The colour of coarse levels: 3 consecutive planes (empty when ``image`` is set).
        var planes: [Float]
        /// The colour of the finest level: the caller's RGB picture, read in place.
        var image: FloatImage?
        /// Per pixel: ``background`` (known 0), ``foreground`` (known 1) or ``unknown``.
        var state: [UInt8]
        var guess: [Float]?

        var unknownCount: Int {
            state.withUnsafeBufferPointer { s in
                var count = 0
                for v in s where v == Self.unknown { count += 1 }
                return count
            }
        }

        /// Calls `body` with where this level's colour is read from.
        func withColour<R>(_ body: (ColourSource) throws -> R) rethrows -> R {
            if let image {
                return try image.withUnsafeBufferPointer { p, stride in try body(ColourSource(rgb: p, rowStride: stride)) }
            }
            return try planes.withUnsafeBufferPointer { try body(ColourSource(planes: $0.baseAddress!, width: width, height: height)) }
        }

        /// The level at half resolution (ceil), by 2×2 means; a coarse pixel is known only
        /// if all its fine pixels are known and agree. Rows are split over `threads`.
        func halved(pool: ThreadPool) -> Level {
            let w = width, h = height, w2 = (width + 1) / 2, h2 = (height + 1) / 2, n2 = w2 * h2
            let hasGuess = guess != nil
            let fine = (state, guess ?? [])
            var out = [Float](repeating: 0, count: 3 * n2), g2 = hasGuess ? [Float](repeating: 0, count: n2) : []
            var state2 = [UInt8](repeating: Self.unknown, count: n2)
            withColour { src in
            fine.0.withUnsafeBufferPointer { st in fine.1.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { out in
            state2.withUnsafeMutableBufferPointer { st2 in g2.withUnsafeMutableBufferPointer { g2 in
                let o0 = out.baseAddress!, o1 = o0 + n2, o2 = o1 + n2
                // Rows on the solver's threads (each output row is its own).
                parallelChunks(h2, pool: pool) { rows in
                for y in rows {
                    let v0 = 2 * y, v1 = min(2 * y + 1, h - 1)
                    for x in 0..<w2 {
                        let u0 = 2 * x, u1 = min(2 * x + 1, w - 1)
                        // The distinct pixels of the (clipped) 2×2 cell, in row order.
                        var s0: Float = 0, s1: Float = 0, s2: Float = 0, gs: Float = 0, n: Float = 0
                        let first = v0 * w + u0
                        var agree = st[first]
                        for v in v0...v1 {
                            for u in u0...u1 {
                                let i = v * w + u
                                s0 += src[channel: 0, x: u, y: v]; s1 += src[channel: 1, x: u, y: v]; s2 += src[channel: 2, x: u, y: v]
                                if hasGuess { gs += g[i] }
                                n += 1
                                if st[i] != agree { agree = Self.unknown }
                            }
                        }
                        let j = y * w2 + x
                        o0[j] = s0 / n; o1[j] = s1 / n; o2[j] = s2 / n
                        if hasGuess { g2[j] = gs / n }
                        st2[j] = agree
                    }
                }
                }
            } }
            } } }
            }
            return Level(width: w2, height: h2, planes: out, image: nil, state: state2, guess: hasGuess ? g2 : nil)
        }
    }

    /// Solves `level` (coarse to fine) and returns the clamped alpha.
    ///
    /// Memory per level: the full-size direction vector (Double) and the alpha (Float);
    /// every other vector holds only the unknown pixels, and the coarser answer is
    /// interpolated straight into the unknowns' starting guess.
    ///
    /// `progress` is the share of the whole solve this level and the coarser ones make up:
    /// the coarser levels get its first quarter (they have a quarter of the pixels, and about
    /// as many iterations), this level the rest, as its residual falls (log scale).
    func solve(
        _ level: inout Level, statistics: inout Statistics, pool: ThreadPool, progress: ClosedRange<Double>,
        isFinest: Bool = true
    ) throws -> [Float] {
        let unknown = level.unknownCount
        var coarse: (alpha: [Float], width: Int, height: Int)?
        if coarsestUnknownCount > 0, unknown > coarsestUnknownCount, min(level.width, level.height) >= 16 {
            var half = level.halved(pool: pool)
            let split = progress.lowerBound + (progress.upperBound - progress.lowerBound) / 4
            coarse = (try solve(&half, statistics: &statistics, pool: pool, progress: progress.lowerBound...split, isFinest: false),
                      half.width, half.height)
        }
        try pool.checkCancellation()
        let share = coarse == nil ? progress : (progress.lowerBound + (progress.upperBound - progress.lowerBound) / 4)...progress.upperBound
        let w = level.width, h = level.height, n = w * h
        let laplacian = try level.state.withUnsafeBufferPointer { state in
            try level.withColour { colour in
                try MattingLaplacian(
                    colour: colour, width: w, height: h, state: state, unknownState: Level.unknown,
                    radius: radius, epsilon: epsilon, pool: pool)
            }
        }
        let m = laplacian.unknownCount, U = laplacian.unknown
        let x = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        let picture = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { x.deallocate(); picture.deallocate() }
        // The unknowns' starting guess: the coarser level's answer, bilinearly interpolated
        // (``BilinearTaps``, as every upsampling here), else the caller's.
        if let coarse {
            let cw = coarse.width
            let xs = BilinearTaps(input: cw, output: w), ys = BilinearTaps(input: coarse.height, output: h)
            coarse.alpha.withUnsafeBufferPointer { p in
                let p = p.baseAddress!
                parallelChunks(m, pool: pool) { range in
                for k in range {
                    let i = Int(U[k]), px = i % w, py = i / w
                    let top = xs.value(p + ys.x0[py] * cw, at: px), bottom = xs.value(p + ys.x1[py] * cw, at: px)
                    x[k] = Double(top + ys.t[py] * (bottom - top))
                }
                }
            }
        } else if let guess = level.guess {
            guess.withUnsafeBufferPointer { g in for k in 0..<m { x[k] = Double(g[Int(U[k])]) } }
        } else {
            x.initialize(repeating: 0.5)
        }
        level.state.withUnsafeBufferPointer { state in
            // On both threads: the fresh pages of the full-size vector fault in on both.
            parallelChunks(n, pool: pool) { range in
                for i in range { picture[i] = state[i] == Level.foreground ? 1 : 0 }
            }
        }
        let iterations: Int, residual: Double
        // With the information-flow terms the finest level's operator gains `E` (built here,
        // before the solve) and a right-hand side; the loop is the same.
        var extra: ExtraOperator?
        if isFinest, let flow = informationFlow {
            let terms = try informationFlowOperator(flow, level: level, laplacian: laplacian, pool: pool)
            extra = terms.extraOperator(pool: pool)
            statistics.usedKnownToUnknown = terms.usedKnownToUnknown
            try pool.checkCancellation()
        }
        (iterations, residual) = try ConjugateGradient.solve(
            laplacian, picture: picture, x: x, tolerance: tolerance,
            maxIterations: isFinest ? (finestMaxIterations ?? maxIterations) : maxIterations, pool: pool, extra: extra,
            progress: { pool.reportProgress(share.lowerBound + $0 * (share.upperBound - share.lowerBound)) })
        pool.reportProgress(share.upperBound)
        statistics.levels.insert((w, h, unknown, iterations, residual), at: 0)
        return [Float](unsafeUninitializedCapacity: n) { alpha, count in
            level.state.withUnsafeBufferPointer { state in
                for i in 0..<n { alpha[i] = state[i] == Level.foreground ? 1 : 0 }
            }
            for k in 0..<m { alpha[Int(U[k])] = Float(min(max(x[k], 0), 1)) }
            count = n
        }
    }
}
