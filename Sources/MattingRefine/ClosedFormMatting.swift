import MattingImage

/// The alpha solver: closed-form matting (Levin, Lischinski & Weiss, PAMI 2008) on the
/// unknown pixels of a trimap, solved matrix-free by preconditioned conjugate gradients.
///
/// Minimises `αᵀ L α` (``MattingLaplacian``, colour model, `(2r+1)²` windows,
/// regularisation `ε`) with the trimap's known pixels held fixed at 0 or 1 (eliminated, not
/// penalised: the system is `L_UU α_U = −L_UK α_K`, as pymatting's `estimate_alpha_cf`).
/// What makes it fast:
/// - `L·p` is applied in O(1) per pixel with box sums, never built;
/// - only 32×32 tiles holding unknown pixels are touched;
/// - coarse to fine: the problem is halved (2×2 means, a coarse pixel is known only if all
///   its fine pixels agree) until it has at most ``coarsestUnknownCount`` unknowns; each
///   level's solution, bilinearly upsampled, starts the next level;
/// - the finest-but-one guess (or the caller's `initialAlpha`) starts close to the answer;
/// - Jacobi (diagonal) preconditioning; 2 threads over tiles.
///
/// Stopping rule, at every level: the relative residual `‖r‖₂ / ‖b‖₂ ≤ tolerance`, where
/// `b = −L_UK α_K` is the right-hand side (so a zero start has relative residual 1), or
/// `maxIterations`. The result is clamped to 0…1.
///
/// ```swift
/// let alpha = try ClosedFormMatting().alpha(for: photo, trimap: trimap)
/// ```
public struct ClosedFormMatting: Sendable {
    /// Regularisation ε of the window covariance (`Σ + ε/|w| U`). Default 1e-7 (pymatting's).
    public var epsilon: Double = 1e-7
    /// Window radius r (`(2r+1)²` windows). Default 1 (3×3).
    public var radius: Int = 1
    /// Relative residual at which a level stops. Default 1e-3: on the 1200×1800 benchmark
    /// (Docs/Benchmarks.md) it gives a lower SAD against the true alpha than solving to
    /// 1e-4 or than pymatting's 1e-7, in a third of the iterations; tighten it to get
    /// closer to the exact minimiser of the energy.
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
    /// Worker threads (the result does not depend on it). Default ``defaultRefineThreads``.
    public var threads: Int = defaultRefineThreads

    /// The defaults: ε 1e-7, radius 1, tolerance 1e-3, 400 iterations per level, 2 threads.
    public init() {}

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
    }

    /// The alpha matte of `image` given `trimap`.
    ///
    /// - Parameters:
    ///   - image: RGB or RGBA (alpha ignored) or gray (used as R = G = B), values 0…1.
    ///   - trimap: same size; 0 background, 255 foreground, else unknown.
    ///   - initialAlpha: optional starting guess for the unknown pixels (single-channel, same
    ///     size, e.g. the upsampled coarse alpha); default 0.5 at the coarsest level.
    /// - Returns: a single-channel matte, 0…1, known pixels exactly 0 or 1.
    /// - Throws: ``ImageError/invalidArgument(_:)`` for size mismatches or bad parameters.
    public func alpha(for image: FloatImage, trimap: Trimap, initialAlpha: FloatImage? = nil) throws -> FloatImage {
        try solve(image, trimap: trimap, initialAlpha: initialAlpha).alpha
    }

    /// ``alpha(for:trimap:initialAlpha:)`` with the solver's statistics.
    public func solve(_ image: FloatImage, trimap: Trimap, initialAlpha: FloatImage? = nil) throws -> (alpha: FloatImage, statistics: Statistics) {
        try requireSameSize(image, trimap.image, "image and trimap")
        if let initialAlpha {
            try requireMatte(initialAlpha, "initial alpha")
            try requireSameSize(image, initialAlpha, "image and initial alpha")
        }
        guard epsilon > 0, radius >= 1, tolerance >= 0, maxIterations >= 0 else {
            throw ImageError.invalidArgument("closed-form matting needs epsilon > 0, radius ≥ 1, tolerance ≥ 0, maxIterations ≥ 0")
        }
        let rgb = image.layout.isColor ? image.rgbImage : image.converted(to: .rgb)
        let w = image.width, h = image.height
        var level = Level(
            width: w, height: h, image: (0..<3).map { Plane(rgb, channel: $0).data },
            state: trimap.image.packedComponents.map { $0 == 0 ? Level.background : ($0 == 255 ? Level.foreground : Level.unknown) },
            guess: initialAlpha.map { Plane($0).data })
        var statistics = Statistics()
        let alpha = solve(&level, statistics: &statistics)
        return (Plane(width: w, height: h, data: alpha).grayImage, statistics)
    }

    /// One level of the pyramid.
    struct Level {
        static let background: UInt8 = 0, foreground: UInt8 = 1, unknown: UInt8 = 2

        var width: Int
        var height: Int
        var image: [[Float]]
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

        /// The level at half resolution (ceil), by 2×2 means; a coarse pixel is known only
        /// if all its fine pixels are known and agree.
        func halved() -> Level {
            let w = width, h = height, w2 = (width + 1) / 2, h2 = (height + 1) / 2, n2 = w2 * h2
            let hasGuess = guess != nil
            let fine = (image[0], image[1], image[2], state, guess ?? [])
            var o0 = [Float](repeating: 0, count: n2), o1 = o0, o2 = o0, g2 = hasGuess ? o0 : []
            var state2 = [UInt8](repeating: Self.unknown, count: n2)
            fine.0.withUnsafeBufferPointer { i0 in fine.1.withUnsafeBufferPointer { i1 in fine.2.withUnsafeBufferPointer { i2 in
            fine.3.withUnsafeBufferPointer { st in fine.4.withUnsafeBufferPointer { g in
            o0.withUnsafeMutableBufferPointer { o0 in o1.withUnsafeMutableBufferPointer { o1 in o2.withUnsafeMutableBufferPointer { o2 in
            state2.withUnsafeMutableBufferPointer { st2 in g2.withUnsafeMutableBufferPointer { g2 in
                for y in 0..<h2 {
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
                                s0 += i0[i]; s1 += i1[i]; s2 += i2[i]
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
            } } } } }
            } } } } }
            return Level(width: w2, height: h2, image: [o0, o1, o2], state: state2, guess: hasGuess ? g2 : nil)
        }
    }

    /// Solves `level` (coarse to fine) and returns the clamped alpha.
    func solve(_ level: inout Level, statistics: inout Statistics, isFinest: Bool = true) -> [Float] {
        let unknown = level.unknownCount
        if coarsestUnknownCount > 0, unknown > coarsestUnknownCount, min(level.width, level.height) >= 16 {
            var coarse = level.halved()
            let coarseAlpha = solve(&coarse, statistics: &statistics, isFinest: false)
            let up = Self.upsampled(coarseAlpha, width: coarse.width, height: coarse.height, to: level.width, level.height, where: level.state)
            level.guess = up
        }
        let n = level.width * level.height
        var x = [Double](repeating: 0, count: n)
        var isUnknown = [Bool](repeating: false, count: n)
        let hasGuess = level.guess != nil, guess = level.guess ?? []
        x.withUnsafeMutableBufferPointer { x in
            isUnknown.withUnsafeMutableBufferPointer { isUnknown in
                level.state.withUnsafeBufferPointer { state in
                    guess.withUnsafeBufferPointer { guess in
                        for i in 0..<n {
                            switch state[i] {
                            case Level.background: x[i] = 0
                            case Level.foreground: x[i] = 1
                            default:
                                isUnknown[i] = true
                                x[i] = hasGuess ? Double(guess[i]) : 0.5
                            }
                        }
                    }
                }
            }
        }
        let laplacian = MattingLaplacian(
            image: level.image, width: level.width, height: level.height, isUnknown: isUnknown,
            radius: radius, epsilon: epsilon, threads: threads)
        let (iterations, residual) = ConjugateGradient.solve(
            laplacian, &x, tolerance: tolerance, maxIterations: isFinest ? (finestMaxIterations ?? maxIterations) : maxIterations)
        statistics.levels.insert((level.width, level.height, unknown, iterations, residual), at: 0)
        var alpha = [Float](repeating: 0, count: n)
        alpha.withUnsafeMutableBufferPointer { a in
            x.withUnsafeBufferPointer { x in
                for i in 0..<n { a[i] = Float(min(max(x[i], 0), 1)) }
            }
        }
        return alpha
    }

    /// Bilinear upsampling with pixel centres aligned (`x_coarse = (x + 0.5)/scale − 0.5`).
    /// With `state` (``Level/state``), only unknown pixels (the only ones read) are
    /// computed; the rest are 0.
    static func upsampled(_ plane: [Float], width w: Int, height h: Int, to w2: Int, _ h2: Int, where state: [UInt8]? = nil) -> [Float] {
        var out = [Float](repeating: 0, count: w2 * h2)
        let sx = Float(w) / Float(w2), sy = Float(h) / Float(h2)
        for y in 0..<h2 {
            let fy = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(h - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, h - 1), ty = fy - Float(y0)
            for x in 0..<w2 {
                if let state, state[y * w2 + x] != Level.unknown { continue }
                let fx = min(max((Float(x) + 0.5) * sx - 0.5, 0), Float(w - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, w - 1), tx = fx - Float(x0)
                let top = plane[y0 * w + x0] + tx * (plane[y0 * w + x1] - plane[y0 * w + x0])
                let bottom = plane[y1 * w + x0] + tx * (plane[y1 * w + x1] - plane[y1 * w + x0])
                out[y * w2 + x] = top + ty * (bottom - top)
            }
        }
        return out
    }
}
