import CMattingKernels
import MattingThreads

extension ClosedFormMatting {
    /// The multigrid hierarchy's coarsest level: at most this many unknowns. Its Jacobi-PCG
    /// solve runs once per V-cycle, so it must be small: 300 instead of the Jacobi path's
    /// 1 000 took a third off the CPU time at 1e-6 on the coffee photo and the benchmark
    /// (Docs/Quality.md).
    static let multigridCoarsestUnknownCount = 300

    /// The side of the pixel blocks that the multigrid preconditioner aggregates on its first
    /// coarse level (``solveSmoothedAggregation(_:statistics:pool:block:checksGalerkin:)``), 0 for the
    /// V-cycle over the halved pyramid (``solveMultigrid(_:statistics:pool:galerkin:checksGalerkin:chebyshevDegree:)``),
    /// which windows wider than radius 1 always use. 1200×1800 benchmark at 1e-6: 16 finest
    /// iterations with blocks of 4, 26 with blocks of 5 for the same CPU time, 47 with the
    /// V-cycle (Docs/Quality.md, 7 Dec 2026, branch `sa`).
    package static let aggregationBlock = 4

    /// The share of a multigrid solve's progress that level `l` (> 0) of `count` ends: the
    /// coarser levels split the first quarter, each twice its next coarser one's share.
    static func coarseShare(level l: Int, of count: Int) -> ClosedRange<Double> {
        let below = count - 1  // levels under the finest
        let end = 0.25 / Double(1 << (below - 1)) * Double(1 << (below - l))
        return end / 2...end
    }

    /// Coarse to fine like ``solve(_:statistics:pool:progress:isFinest:)``, but every level is
    /// solved by multigrid-preconditioned flexible CG over itself and all coarser levels
    /// (`mk_f64_cf_mgcg`: damped-Jacobi smoothing on the level solved, Chebyshev below
    /// (``MultigridHierarchy/chebyshevDegree``), the coarse levels' own Laplacians,
    /// guided-filter prolongation, an energy-minimising coarse step; three products of `L` per
    /// iteration, and far fewer iterations than Jacobi at a relative residual of 1e-6), each
    /// starting from the coarser level's answer through the same guided prolongation; levels
    /// below the finest stop at max(tolerance, 1e-3). The hierarchy goes down to at most
    /// ``multigridCoarsestUnknownCount`` unknowns (or ``coarsestUnknownCount``, if fewer).
    /// Progress is reported as each level's residual falls (the coarser levels share the first
    /// quarter), and a cancelled job of the pool stops the solve within an iteration.
    ///
    /// With `galerkin` (the default), level 1 serves the finest level's V-cycles with the
    /// Galerkin operator `PᵀAP` of the finest Laplacian `A` and the guided prolongation `P`
    /// (an 11×11 stencil per coarse unknown, built once from 25 probing products of `A`)
    /// instead of its own rediscretised Laplacian: about half the finest iterations at 1e-6 on the
    /// development set's real photos, a fifth fewer on the 1200×1800 benchmark
    /// (Docs/Quality.md). `checksGalerkin` (tests) records in `statistics.galerkinError` how
    /// far that operator is from `Pᵀ(A(P x))` computed through the cycle's own operators.
    /// `chebyshevDegree` 0 (tests) smooths the levels below with damped Jacobi, as before.
    func solveMultigrid(
        _ finest: Level, statistics: inout Statistics, pool: ThreadPool, galerkin: Bool = true, checksGalerkin: Bool = false,
        chebyshevDegree: Int32 = MultigridHierarchy.chebyshevDegree
    ) throws -> [Float] {
        var levels = [finest]
        let coarsest = min(coarsestUnknownCount, Self.multigridCoarsestUnknownCount)
        while coarsest > 0, let last = levels.last, last.unknownCount > coarsest,
              min(last.width, last.height) >= 16 {
            levels.append(last.halved(pool: pool))
        }
        // The Galerkin operator's assembly probes `A` with 25 pixel classes (x mod 5, y mod 5),
        // which separates its rows only while windows have radius 1 (`L` couples pixels at
        // most 2 apart). With wider windows the level keeps its own Laplacian: a probed `G`
        // would be wrong (the solve still converges, in about twice the iterations).
        let hierarchy = try MultigridHierarchy(
            levels: levels, solver: self, pool: pool, galerkin: galerkin && radius == 1, checksGalerkin: checksGalerkin,
            chebyshevDegree: chebyshevDegree)
        defer { hierarchy.deallocate() }
        var previous: UnsafeMutableBufferPointer<Double>?
        for l in stride(from: levels.count - 1, through: 0, by: -1) {
            if pool.isCancelled {
                previous?.deallocate()
                throw CancellationError()
            }
            let m = hierarchy.laplacians[l].unknownCount
            let x = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
            let U = hierarchy.laplacians[l].unknown
            if let previous {
                // The coarser answer (with its known values) through the guided prolongation.
                hierarchy.prolong(level: l, coarse: previous, state: levels[l + 1].state, into: x)
                previous.deallocate()
            } else if let guess = levels[l].guess {
                for k in 0..<m { x[k] = Double(guess[Int(U[k])]) }
            } else {
                x.initialize(repeating: 0.5)
            }
            hierarchy.setPicture(level: l, state: levels[l].state)
            // Coarser levels only seed the next one, whose own V-cycles remove what they leave:
            // solving them past 1e-3 costs iterations and buys nothing at the finest level.
            let levelTolerance = l == 0 ? tolerance : max(tolerance, 1e-3)
            // Progress: the coarser levels share the first quarter, the finest level the rest as
            // its residual falls; a cancelled job stops the loop after the iteration it is in.
            let share = l == 0 ? 0.25...1.0 : Self.coarseShare(level: l, of: levels.count)
            let monitor = IterationMonitor(pool: pool, tolerance: levelTolerance) {
                pool.reportProgress(share.lowerBound + $0 * (share.upperBound - share.lowerBound))
            }
            var residual = 0.0
            let iterations = withExtendedLifetime(monitor) {
                hierarchy.descriptors[l].system.on_iteration = IterationMonitor.callback
                hierarchy.descriptors[l].system.on_iteration_context = monitor.context
                defer {
                    hierarchy.descriptors[l].system.on_iteration = nil
                    hierarchy.descriptors[l].system.on_iteration_context = nil
                }
                return mk_f64_cf_mgcg(
                    hierarchy.descriptors + l, levels.count - l, x.baseAddress, levelTolerance,
                    Int32(clamping: l == 0 ? (finestMaxIterations ?? maxIterations) : maxIterations), &residual)
            }
            pool.reportProgress(share.upperBound)
            if pool.isCancelled {
                x.deallocate()  // (the coarser answer was freed once prolonged)
                throw CancellationError()
            }
            statistics.levels.insert((levels[l].width, levels[l].height, levels[l].unknownCount, Int(iterations), residual), at: 0)
            if l == 0, levels.count > 1, hierarchy.descriptors[1].galerkin_error >= 0 {
                statistics.galerkinError = hierarchy.descriptors[1].galerkin_error
            }
            previous = x
        }
        let x = previous!
        defer { x.deallocate() }
        return Self.alpha(of: finest, unknown: hierarchy.laplacians[0].unknown, values: x)
    }

    /// The finest level's alpha: its known values, and `values[k]` (clamped to 0…1) at unknown `unknown[k]`.
    static func alpha(of finest: Level, unknown U: UnsafePointer<Int32>, values x: some Collection<Double>) -> [Float] {
        let n = finest.width * finest.height
        return [Float](unsafeUninitializedCapacity: n) { alpha, count in
            finest.state.withUnsafeBufferPointer { state in
                for i in 0..<n { alpha[i] = state[i] == Level.foreground ? 1 : 0 }
            }
            for (k, v) in x.enumerated() { alpha[Int(U[k])] = Float(min(max(v, 0), 1)) }
            count = n
        }
    }
}

/// The levels' Laplacians, prolongations and the C descriptors `mk_f64_cf_mgcg` walks, with
/// every buffer they point into (freed by ``deallocate()``).
struct MultigridHierarchy {
    let laplacians: [MattingLaplacian]
    /// Per level but the last: guided prolongation (stencil base and 25 weights per unknown).
    let prolongation: [(UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Float>)?]
    /// Per level: its picture padded by 2 on every side (scratch, kept all zero) and each
    /// unknown's position there.
    let padded: [(picture: UnsafeMutablePointer<Double>, index: UnsafeMutablePointer<Int32>, width: Int, count: Int)]
    /// The V-cycle's settings. One damped-Jacobi sweep either side of the coarse correction
    /// (V(1,1)): two sweeps cut the iterations by a fifth on the development set's coffee
    /// photo at 1e-6 and not at all on the 1200×1800 benchmark, for 5 products of L an
    /// iteration instead of 3 (Docs/Quality.md). ω = 0.85 gave 4 % fewer iterations on
    /// coffee but made the cycle indefinite on the astronaut photo (flexible CG breaks down;
    /// the C loop then goes on with the diagonal), as ω = 1 does; 0.7 did not on any item. The guided prolongation's ε: 1e-4…1e-6 gave
    /// the same iterations; without it (piecewise constant) they doubled.
    static let sweeps: Int32 = 1, omega = 0.7, guidedEpsilon = 1e-5
    /// The levels below the finest smooth with a Chebyshev polynomial of this degree in
    /// D⁻¹A, fitted to each level's estimated largest eigenvalue (the C loop estimates it),
    /// rather than damped Jacobi, whose damping had to be tuned per level (0.3 on the Galerkin
    /// level, whose diagonal is weak against its 120 neighbours). Coffee photo, 1e-6: 35
    /// finest iterations instead of 74 and 16 % fewer instructions for the whole solve;
    /// degree 3 gave 48 iterations, 6 gave 34 for more work, and Chebyshev on the finest level
    /// too halved the iterations but doubled their cost (Docs/Quality.md).
    static let chebyshevDegree: Int32 = 4
    /// With `chebyshevDegree` 0 (tests): the damping of the Jacobi sweeps on the Galerkin
    /// level, which smoothed it before. That operator's diagonal is weak against its 120
    /// neighbours, so ω = 0.7 there made the cycle worse than no Galerkin operator at all
    /// (coffee, 1e-6: 244 finest iterations against 116); 0.5 gave 144, 0.4 90, 0.3 74, 0.2
    /// 85, 0.12 92 (Docs/Quality.md).
    static let galerkinOmega = 0.3
    let descriptors: UnsafeMutablePointer<mk_cf_mg_level>
    private var buffers: [UnsafeMutableRawPointer] = []

    /// - galerkin: level 1 serves level 0's cycles with the Galerkin operator PᵀAP (built
    ///   by the C loop) instead of its own Laplacian.
    /// - checksGalerkin: the C loop also checks that operator (``galerkinError``; tests).
    /// - Throws: `CancellationError` if the pool's job is cancelled while the levels'
    ///   Laplacians are built.
    /// - chebyshevDegree: the Chebyshev smoothing's degree below the level solved (0: damped
    ///   Jacobi there too).
    init(
        levels: [ClosedFormMatting.Level], solver: ClosedFormMatting, pool: ThreadPool, galerkin: Bool, checksGalerkin: Bool,
        chebyshevDegree: Int32
    ) throws {
        laplacians = try levels.map { level in
            try level.state.withUnsafeBufferPointer { state in
                try level.withColour { colour in
                    try MattingLaplacian(
                        colour: colour, width: level.width, height: level.height, state: state,
                        unknownState: ClosedFormMatting.Level.unknown, radius: solver.radius,
                        epsilon: solver.epsilon, pool: pool)
                }
            }
        }
        var prolongation: [(UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Float>)?] = []
        padded = zip(levels, laplacians).enumerated().map { l, pair in
            let (level, L) = pair
            // Only a coarse level's padded picture is read (by the finer level's prolongation
            // and restriction): the finest level's is left empty (17 MB at 1200×1800).
            let pw = level.width + 4, count = l == 0 ? 1 : pw * (level.height + 4), m = L.unknownCount
            let picture = UnsafeMutablePointer<Double>.allocate(capacity: count)
            picture.initialize(repeating: 0, count: count)
            let index = UnsafeMutablePointer<Int32>.allocate(capacity: max(m, 1))
            for k in 0..<m {
                let i = Int(L.unknown[k])
                index[k] = Int32((i / level.width + 2) * pw + i % level.width + 2)
            }
            return (picture, index, pw, count)
        }
        for l in levels.indices {
            guard l + 1 < levels.count else { prolongation.append(nil); break }
            let fine = laplacians[l], w2 = levels[l + 1].width
            let w = levels[l].width, m = fine.unknownCount
            // The fine colour of each unknown, then the guided weights from the coarse colour.
            let colour = levels[l].colours(of: fine.unknown, count: m)
            let pBase = UnsafeMutablePointer<Int32>.allocate(capacity: max(m, 1))
            let pWeight = UnsafeMutablePointer<Float>.allocate(capacity: 25 * max(m, 1))
            mk_cf_mg_guided_prolongation(
                fine.unknown, m, Int32(w), colour, levels[l + 1].planes, Int32(w2), Int32(levels[l + 1].height),
                Self.guidedEpsilon, pBase, pWeight, pool.cPool)
            prolongation.append((pBase, pWeight))
        }
        self.prolongation = prolongation
        descriptors = .allocate(capacity: levels.count)
        for (l, L) in laplacians.enumerated() {
            let m = L.unknownCount, n = L.width * L.height
            let workers = pool.cPool == nil ? 1 : pool.threadCount
            let scratchStride = mk_cf_laplacian_scratch_count(Int32(MattingLaplacian.tileSize), Int32(L.radius))
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: workers * scratchStride)
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: L.offsets.count)
            offsets.initialize(from: L.offsets, count: L.offsets.count)
            let picture = UnsafeMutablePointer<Double>.allocate(capacity: n)
            picture.initialize(repeating: 0, count: n)
            let vectors = UnsafeMutablePointer<Double>.allocate(capacity: 10 * max(m, 1))
            buffers += [UnsafeMutableRawPointer(scratch), UnsafeMutableRawPointer(offsets),
                        UnsafeMutableRawPointer(picture), UnsafeMutableRawPointer(vectors)]
            let system = mk_cf_system(
                tiles: L.tiles, tile_count: L.tileCount, offsets: offsets, unknown: UnsafePointer(L.unknown),
                kernel: L.kernel, scratch: scratch, scratch_stride: scratchStride, pool: pool.cPool, threads: workers,
                on_iteration: nil, on_iteration_context: nil,
                extra_product: nil, extra_context: nil, extra_diagonal: nil, extra_is_diagonal: 0, rhs: nil)
            // The second level's Galerkin operator (PᵀAP of the finest level), built by the C loop.
            var galerkinStorage: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>, Int)?
            if l == 1, galerkin, m > 0 {
                let gw = levels[l].width + 11, count = gw * (levels[l].height + 10)
                let g = UnsafeMutablePointer<Float>.allocate(capacity: 132 * m)
                let picture = UnsafeMutablePointer<Float>.allocate(capacity: count)
                picture.initialize(repeating: 0, count: count)
                let index = UnsafeMutablePointer<Int32>.allocate(capacity: m)
                for k in 0..<m {
                    let i = Int(L.unknown[k])
                    index[k] = Int32((i / levels[l].width + 5) * gw + i % levels[l].width + 5)
                }
                buffers += [UnsafeMutableRawPointer(g), UnsafeMutableRawPointer(picture), UnsafeMutableRawPointer(index)]
                galerkinStorage = (g, picture, index, gw)
            }
            (descriptors + l).initialize(to: mk_cf_mg_level(
                system: system, p: picture, n: n, m: m, diagonal: UnsafePointer(L.diagonal),
                inverse_diagonal: vectors + 9 * m, prolongation_base: prolongation[l].map { UnsafePointer($0.0) },
                prolongation_weight: prolongation[l].map { UnsafePointer($0.1) }, padded: padded[l].picture,
                padded_index: UnsafePointer(padded[l].index), padded_width: padded[l].width, padded_count: padded[l].count,
                work: vectors,
                galerkin: galerkinStorage?.0, galerkin_padded: galerkinStorage?.1,
                galerkin_index: galerkinStorage.map { UnsafePointer($0.2) }, galerkin_width: galerkinStorage?.3 ?? 0,
                checks_galerkin: checksGalerkin ? 1 : 0, galerkin_error: -1,
                sweeps: Self.sweeps, post_sweeps: Self.sweeps,
                omega: galerkinStorage != nil && chebyshevDegree == 0 ? Self.galerkinOmega : Self.omega,
                chebyshev: chebyshevDegree, lambda_max: 0))
        }
    }

    /// Level `l`'s picture: 1 at known foreground pixels, 0 elsewhere (its right-hand side).
    func setPicture(level l: Int, state: [UInt8]) {
        let p = descriptors[l].p!
        for i in 0..<descriptors[l].n { p[i] = state[i] == ClosedFormMatting.Level.foreground ? 1 : 0 }
    }

    /// `into[k]` for level `l`'s unknowns: the prolongation of level `l + 1`'s answer
    /// (`coarse`, in its unknown order) together with its known values (`state`).
    func prolong(level l: Int, coarse: UnsafeMutableBufferPointer<Double>, state: [UInt8], into x: UnsafeMutableBufferPointer<Double>) {
        let c = padded[l + 1], w = descriptors[l + 1].padded_width - 4
        for (i, s) in state.enumerated() where s == ClosedFormMatting.Level.foreground {
            c.picture[(i / w + 2) * c.width + i % w + 2] = 1
        }
        for k in 0..<coarse.count { c.picture[Int(c.index[k])] = coarse[k] }
        mk_cf_mg_prolong(descriptors + l, c.picture, x.baseAddress)
        c.picture.update(repeating: 0, count: c.count)
    }

    func deallocate() {
        for buffer in buffers { buffer.deallocate() }
        for p in padded { p.picture.deallocate(); p.index.deallocate() }
        for p in prolongation { p?.0.deallocate(); p?.1.deallocate() }
        descriptors.deallocate()
    }
}

extension ClosedFormMatting {
    /// Solves the finest level alone by flexible CG preconditioned with one V-cycle of smoothed
    /// aggregation (`mk_f64_cf_sacg`, cf-sa.c): `block` × `block` pixel blocks of unknowns as
    /// aggregates, each with the candidates 1, r, g, b orthonormalised per block, the
    /// prolongation smoothed by one damped-Jacobi step, Galerkin operators `PᵀAP` on every
    /// level below, symmetric 9-colour Gauss–Seidel smoothing, a dense Cholesky solve on the
    /// last level. Starts from the initial alpha if there is one, else from 0.5. Progress and
    /// cancellation as ``solveMultigrid(_:statistics:pool:galerkin:checksGalerkin:chebyshevDegree:)``.
    /// Needs windows of radius 1 (level 0's rows are the 25-point stencil of 3×3 windows): with wider
    /// ones, or if its hierarchy does not fit in memory, it runs
    /// ``solveMultigrid(_:statistics:pool:galerkin:checksGalerkin:chebyshevDegree:)``.
    /// `checksGalerkin` (tests) records in `statistics.galerkinError` how far every coarse
    /// operator is from PᵀAP summed entry by entry (the largest difference in a coarse cell's
    /// blocks relative to its largest entry).
    func solveSmoothedAggregation(
        _ finest: Level, statistics: inout Statistics, pool: ThreadPool, block: Int, checksGalerkin: Bool = false
    ) throws -> [Float] {
        guard radius == 1 else { return try solveMultigrid(finest, statistics: &statistics, pool: pool) }
        // nil: the hierarchy did not fit in memory. The V-cycle over the pyramid needs less, and
        // it is built only after this attempt's Laplacian and work vectors are released.
        if let alpha = try solveSmoothedAggregationOnce(
            finest, statistics: &statistics, pool: pool, block: block, checksGalerkin: checksGalerkin) {
            return alpha
        }
        return try solveMultigrid(finest, statistics: &statistics, pool: pool)
    }

    /// ``solveSmoothedAggregation(_:statistics:pool:block:checksGalerkin:)``'s attempt; nil when its
    /// hierarchy does not fit in memory (everything it allocated released on return). With
    /// ``informationFlow`` set it solves the terms' system `(L + E)_UU x = c − (L + E)_UK x_K`,
    /// the hierarchy built on `L` alone preconditioning it (Docs/Quality.md, branch `ifm-sa`),
    /// or on `L + E` when `E` is only a diagonal (`ExtraOperator.isDiagonal`: the
    /// known-to-unknown term alone).
    func solveSmoothedAggregationOnce(
        _ finest: Level, statistics: inout Statistics, pool: ThreadPool, block: Int, checksGalerkin: Bool = false
    ) throws -> [Float]? {
        let hierarchy = try MultigridHierarchy(
            levels: [finest], solver: self, pool: pool, galerkin: false, checksGalerkin: false, chebyshevDegree: 0)
        defer { hierarchy.deallocate() }
        hierarchy.descriptors[0].checks_galerkin = checksGalerkin ? 1 : 0
        if pool.isCancelled { throw CancellationError() }
        let L = hierarchy.laplacians[0], m = L.unknownCount, U = L.unknown
        // With the information-flow terms the loop's operator gains `E` and a right-hand side;
        // the hierarchy stays `L`'s (it preconditions L + E).
        var extra: ExtraOperator?
        if let flow = informationFlow {
            let terms = try informationFlowOperator(flow, level: finest, laplacian: L, pool: pool)
            extra = terms.extraOperator(pool: pool)
            statistics.usedKnownToUnknown = terms.usedKnownToUnknown
            try pool.checkCancellation()
        }
        let colour = finest.colours(of: U, count: m)
        var x = [Double](repeating: 0.5, count: m)
        if let guess = finest.guess {
            for k in 0..<m { x[k] = Double(guess[Int(U[k])]) }
        }
        hierarchy.setPicture(level: 0, state: finest.state)
        let monitor = IterationMonitor(pool: pool, tolerance: tolerance) { pool.reportProgress(0.1 + $0 * 0.9) }
        var residual = 0.0
        let iterations = withExtendedLifetime(monitor) {
            hierarchy.descriptors[0].system.on_iteration = IterationMonitor.callback
            hierarchy.descriptors[0].system.on_iteration_context = monitor.context
            defer {
                hierarchy.descriptors[0].system.on_iteration = nil
                hierarchy.descriptors[0].system.on_iteration_context = nil
            }
            // (`system` is the level's first field: a pointer to it is one to the level.)
            let system = UnsafeMutableRawPointer(hierarchy.descriptors).assumingMemoryBound(to: mk_cf_system.self)
            return ExtraOperator.attaching(extra, to: system) {
                mk_f64_cf_sacg(
                    hierarchy.descriptors, colour, Int32(block), &x, tolerance, Int32(clamping: finestMaxIterations ?? maxIterations),
                    &residual)
            }
        }
        // (A cancelled job hears no more progress: the loop stopped short of the end.)
        if pool.isCancelled { throw CancellationError() }
        pool.reportProgress(1)
        guard iterations >= 0 else { return nil }
        statistics.levels.insert((finest.width, finest.height, m, Int(iterations), residual), at: 0)
        if checksGalerkin, hierarchy.descriptors[0].galerkin_error >= 0 {
            statistics.galerkinError = hierarchy.descriptors[0].galerkin_error
        }
        return Self.alpha(of: finest, unknown: U, values: x)
    }
}

extension ClosedFormMatting.Level {
    /// The colour (3 floats) of pixels `unknown[0..<count]`, one after another.
    func colours(of unknown: UnsafePointer<Int32>, count m: Int) -> [Float] {
        var colour = [Float](repeating: 0, count: 3 * m)
        withColour { src in
            for k in 0..<m {
                let i = Int(unknown[k])
                for c in 0..<3 { colour[3 * k + c] = src[channel: c, x: i % width, y: i / width] }
            }
        }
        return colour
    }
}
