import CMattingKernels
import Foundation
import MattingImage
import MattingThreads
import Testing
@testable import MattingRefine

/// The exact solve's preconditioner since 7 Dec 2026: smoothed aggregation on the image grid
/// (cf-sa.c). Its accuracy against pymatting, its thread-count independence and its progress
/// and cancellation are checked with the other preconditioners (`MultigridSolverTests`,
/// `ExactSolverTests`); here, what is its own.
@Suite struct SmoothedAggregationTests {
    /// Blocks of 3, 4 and 5 pixels and the V-cycle over the pyramid, all to 1e-6 on the real
    /// crop, reach the same minimiser: any two alphas within 2e-4 at every pixel (they differ
    /// by where each loop stopped), and each needs fewer finest iterations than the V-cycle.
    @Test func blocksReachTheVCyclesMinimiserInFewerIterations() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = ClosedFormMatting()
        solver.tolerance = 1e-6
        let vcycle = try solver.solve(image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true, aggregationBlock: 0)
        let reference = vcycle.alpha.packedComponents
        for block in [3, 4, 5] {
            let (alpha, stats) = try solver.solve(
                image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true, aggregationBlock: block)
            #expect(stats.levels.count == 1 && stats.levels[0].residual <= 1e-6, "block \(block): \(stats.levels)")
            #expect(stats.levels[0].iterations < vcycle.statistics.levels[0].iterations,
                    "block \(block): \(stats.levels[0].iterations) iterations, V-cycle \(vcycle.statistics.levels[0].iterations)")
            let worst = zip(alpha.packedComponents, reference).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 2e-4, "block \(block): max difference \(worst)")
        }
    }

    /// Every coarse operator, assembled cell by cell from the (A P) rows (upper blocks summed,
    /// the rest mirrored), equals PᵀAP summed the plain way in Double — each fine unknown's
    /// (A P) row as a dense vector, times each of its P entries, placed by the cells' distance
    /// (cf-sa.c, `sa_galerkin_error`) — to Float rounding, on the real crop with blocks of 3, 4
    /// and 5 pixels (so every level below too), serially and on 3 threads. Measured: 5.6e-8
    /// (Float's rounding); with the mirrored blocks left untransposed 0.66–0.79, with level 0's
    /// neighbour aggregates' dx and dy swapped 3.6–3.8 (temporary builds). The same hook also
    /// compares every smoothed prolongation with its rows computed the plain way
    /// (`sa_smooth_error`: per fine unknown, per neighbour and its unknowns, the aggregate from
    /// the padded indices' row step): measured exactly 0 (the same sums in the same order);
    /// with the smoothing's neighbour aggregates' dx and dy swapped 1.96, with the block
    /// levels' 4 × 4 blocks read transposed 5.87 (temporary builds).
    @Test func coarseOperatorsArePtAP() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = ClosedFormMatting()
        solver.tolerance = 1e-6
        let pool = ThreadPool(threadCount: 3)
        for block in [3, 4, 5] {
            for p in [ThreadPool.serial, pool] {
                let stats = try solver.solve(
                    image, trimap: trimap, initialAlpha: nil, pool: p, multigrid: true, checksGalerkin: true,
                    aggregationBlock: block).statistics
                let error = try #require(stats.galerkinError, "block \(block)")
                #expect(error <= 1e-6, "block \(block), \(p.threadCount) threads: relative difference \(error)")
                #expect(stats.levels[0].residual <= 1e-6, "\(stats.levels)")
            }
        }
    }

    /// The caller's initial alpha starts the loop (fewer iterations from the answer itself),
    /// and on a picture small enough for the dense coarsest solve alone (31×27, a few hundred
    /// unknowns) the solve still reaches 1e-9.
    @Test func startsFromTheInitialAlphaAndSolvesSmallPictures() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = ClosedFormMatting()
        solver.tolerance = 1e-6
        let cold = try solver.solve(image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true)
        let warm = try solver.solve(image, trimap: trimap, initialAlpha: cold.alpha, pool: .serial, multigrid: true)
        #expect(warm.statistics.levels[0].iterations < cold.statistics.levels[0].iterations,
                "from the answer \(warm.statistics.levels[0].iterations), from 0.5 \(cold.statistics.levels[0].iterations)")

        let (small, smallTrimap, _) = SolverTests.softDisk(31, 27)
        solver.tolerance = 1e-9
        let (alpha, stats) = try solver.solve(small, trimap: smallTrimap, initialAlpha: nil, pool: .serial, multigrid: true)
        let vcycle = try solver.solve(small, trimap: smallTrimap, initialAlpha: nil, pool: .serial, multigrid: true, aggregationBlock: 0)
        #expect(stats.levels[0].residual <= 1e-9, "\(stats.levels)")
        let worst = zip(alpha.packedComponents, vcycle.alpha.packedComponents).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5, "max difference \(worst)")
    }

    /// Level 0's rows, as the setup computes them from the window statistics
    /// (`mk_cf_mg_stencil_rows`), equal the rows probed with 25 products of the tile kernel
    /// (`mk_cf_mg_probe_rows`, what the setup used before): on the real crop with its trimap
    /// changed so that unknown pixels run along every border and into the corners (next to
    /// known ones) and known pixels make holes inside the band. Every entry within 1e-5 of its
    /// row's diagonal, both 0 exactly at known pixels and outside the picture; on each kernel
    /// path, the direct rows bit for bit the same on 1 and 3 threads.
    @Test(arguments: RefineISA.supported)
    func directStencilEqualsProbedRows(isa: RefineISA) throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        let w = image.width, h = image.height
        var isUnknown = trimap.knownValues.map { $0 == nil }
        for y in 0..<h {
            for x in 0..<w {
                let border = x < 3 || y < 3 || x >= w - 3 || y >= h - 3
                if border { isUnknown[y * w + x] = (x + y) / 9 % 2 == 0 }
                if !border && isUnknown[y * w + x] && (7 * x + 13 * y) % 29 == 0 { isUnknown[y * w + x] = false }
            }
        }
        try Self.expectDirectRowsEqualProbed(image, isUnknown, isa: isa, context: "\(isa)")
    }

    /// The same comparison on seeded random pictures and trimaps (every pixel known or unknown
    /// at random, so borders, corners and holes everywhere) below, at and across the 32-pixel
    /// tile, down to 3 × 3 (a single window).
    @Test(arguments: [(3, 3), (7, 6), (13, 11), (33, 31), (40, 37), (70, 35)], RefineISA.supported)
    func directStencilEqualsProbedRowsAroundTheTileSize(_ shape: (Int, Int), isa: RefineISA) throws {
        let (w, h) = shape
        let image = SolverTests.testImage(w, h, seed: UInt64(w * h))
        let isUnknown = SolverTests.randomTrimap(w, h, seed: 11).knownValues.map { $0 == nil }
        try Self.expectDirectRowsEqualProbed(image, isUnknown, isa: isa, context: "\(w)×\(h), \(isa)")
    }

    /// Direct rows against probed ones on `isUnknown` (see directStencilEqualsProbedRows):
    /// within 1e-5 of the row's diagonal (Float rows of the same Double sums, which agree to
    /// about 1e-12 of it), 0 at known and outside pixels, the same bits on 1 and 3 threads.
    static func expectDirectRowsEqualProbed(_ image: FloatImage, _ isUnknown: [Bool], isa: RefineISA, context: String) throws {
        let w = image.width, h = image.height
        let planes = (0..<3).map { Plane(image, channel: $0).data }
        let serial = try Self.levelZeroRows(planes, w, h, isUnknown, isa: isa, pool: .serial, probe: false)
        let probed = try Self.levelZeroRows(planes, w, h, isUnknown, isa: isa, pool: .serial, probe: true)
        let threaded = try Self.levelZeroRows(planes, w, h, isUnknown, isa: isa, pool: ThreadPool(threadCount: 3), probe: false)
        #expect(serial.rows == threaded.rows, "\(context): the direct rows depend on the thread count")
        #expect(!serial.unknown.isEmpty && serial.unknown == probed.unknown)
        var worst: Float = 0, zeros = 0, misplaced = 0
        for (k, i) in serial.unknown.enumerated() {
            let x = i % w, y = i / w, diagonal = probed.rows[25 * k + 12]
            #expect(diagonal > 0, "\(context): diagonal \(diagonal) at (\(x), \(y))")
            for o in 0..<25 {
                let px = x + o % 5 - 2, py = y + o / 5 - 2
                let coupled = px >= 0 && px < w && py >= 0 && py < h && isUnknown[py * w + px]
                let direct = serial.rows[25 * k + o], reference = probed.rows[25 * k + o]
                if !coupled {
                    zeros += 1
                    if direct != 0 || reference != 0 { misplaced += 1 }
                }
                worst = max(worst, abs(direct - reference) / diagonal)
            }
        }
        #expect(zeros > 0 && misplaced == 0, "\(context): \(misplaced) of \(zeros) entries at known or outside pixels not 0")
        #expect(worst <= 1e-5, "\(context): largest difference \(worst) of the diagonal")
    }

    /// The cycle's pre-smoothing pass, split (each cell's update from the neighbours the
    /// forward sweep has already updated, then the residual from the others:
    /// `mk_cf_sa_presmooth_check`), gives the iterate and residual of the plain way (x = 0, a
    /// full forward sweep, r = b − A x) on every level but the last, to Float rounding, and
    /// never reads the iterate it starts from (NaNs there): on the real crop and on a seeded
    /// random trimap, serially and on 3 threads.
    @Test(arguments: [1, 3])
    func splitPreSmoothingEqualsSweepThenResidual(threads: Int) throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        let pool = threads == 1 ? ThreadPool.serial : ThreadPool(threadCount: threads)
        let random = SolverTests.testImage(150, 120, seed: 7), randomTrimap = SolverTests.randomTrimap(150, 120, seed: 5)
        for (picture, map, name) in [(image, trimap, "real crop"), (random, randomTrimap, "random 150×120")] {
            let isUnknown = map.knownValues.map { $0 == nil }
            let planes = (0..<3).map { Plane(picture, channel: $0).data }
            let (levels, worst) = try Self.presmoothCheck(planes, picture.width, picture.height, isUnknown, pool: pool)
            #expect(levels >= 2, "\(name): \(levels) levels compared")
            #expect(worst <= 1e-4, "\(name), \(threads) threads: largest difference \(worst)")
        }
    }

    /// `mk_cf_sa_presmooth_check` on the Laplacian of `isUnknown` (blocks of 4 pixels).
    static func presmoothCheck(
        _ planes: [[Float]], _ w: Int, _ h: Int, _ isUnknown: [Bool], pool: ThreadPool
    ) throws -> (levels: Int32, worst: Double) {
        var worst = 0.0
        let levels = try withLevelZero(planes, w, h, isUnknown, isa: .current, pool: pool) { level, L in
            let colour = (0..<L.unknownCount).flatMap { k in (0..<3).map { planes[$0][Int(L.unknown[k])] } }
            return mk_cf_sa_presmooth_check(&level, colour, 4, &worst)
        }
        return (levels, worst)
    }

    /// Level 0's 25-point rows (`rows[25k + o]`) of the Laplacian on `isUnknown`, computed
    /// directly or probed, and the unknowns' pixel indices in that order.
    static func levelZeroRows(
        _ planes: [[Float]], _ w: Int, _ h: Int, _ isUnknown: [Bool], isa: RefineISA, pool: ThreadPool, probe: Bool
    ) throws -> (rows: [Float], unknown: [Int]) {
        var rows: [Float] = [], unknown: [Int] = []
        let done = try withLevelZero(planes, w, h, isUnknown, isa: isa, pool: pool) { level, L in
            rows = [Float](repeating: .nan, count: 25 * L.unknownCount)
            unknown = (0..<L.unknownCount).map { Int(L.unknown[$0]) }
            return probe ? mk_cf_mg_probe_rows(&level, &rows) : mk_cf_mg_stencil_rows(&level, &rows)
        }
        #expect(done == 1)
        return (rows, unknown)
    }

    /// `body` with the level-0 descriptor of the Laplacian on `isUnknown` (radius 1, ε 1e-7):
    /// the fields mk_cf_mg_stencil_rows and mk_f64_cf_sacg's setup read, valid inside `body`.
    static func withLevelZero(
        _ planes: [[Float]], _ w: Int, _ h: Int, _ isUnknown: [Bool], isa: RefineISA, pool: ThreadPool,
        _ body: (inout mk_cf_mg_level, MattingLaplacian) -> Int32
    ) throws -> Int32 {
        let L = try MattingLaplacian.make(image: planes, width: w, height: h, isUnknown: isUnknown, radius: 1, epsilon: 1e-7, pool: pool, isa: isa)
        let workers = pool.cPool == nil ? 1 : pool.threadCount
        let stride = mk_cf_laplacian_scratch_count(Int32(MattingLaplacian.tileSize), 1)
        var scratch = [Double](repeating: 0, count: workers * stride), picture = [Double](repeating: 0, count: w * h)
        let offsets = L.offsets
        return scratch.withUnsafeMutableBufferPointer { scratch in
            picture.withUnsafeMutableBufferPointer { picture in
                offsets.withUnsafeBufferPointer { offsets in
                    var level = mk_cf_mg_level()
                    level.system = mk_cf_system(
                        tiles: L.tiles, tile_count: L.tileCount, offsets: offsets.baseAddress, unknown: UnsafePointer(L.unknown),
                        kernel: L.kernel, scratch: scratch.baseAddress, scratch_stride: stride, pool: pool.cPool, threads: workers,
                        on_iteration: nil, on_iteration_context: nil, extra_product: nil, extra_context: nil, extra_diagonal: nil,
                        extra_is_diagonal: 0, rhs: nil)
                    level.p = picture.baseAddress
                    level.n = w * h
                    level.m = L.unknownCount
                    level.padded_width = w + 4
                    return body(&level, L)
                }
            }
        }
    }

    /// Stopped at the default tolerance (1e-3), the smoothed-aggregation loop ends far nearer the
    /// closed-form minimiser (pymatting's alpha) than the default Jacobi solve does from the same
    /// trimap, in a single level: what Docs/Quality.md measured on the model path (11th session:
    /// it reproduced the exact solve's matte where Jacobi at 1e-3 kept a ghost of the background)
    /// and what the DocC article's advice to set `preconditioner = .multigrid` rests on.
    @Test func earlyStopLandsNearTheMinimiser() throws {
        let (image, trimap, reference) = try MultigridSolverTests.inputs()
        let jacobi = try ClosedFormMatting().solve(image, trimap: trimap)
        var solver = ClosedFormMatting()
        solver.preconditioner = .multigrid
        let (alpha, stats) = try solver.solve(image, trimap: trimap)
        #expect(stats.levels.count == 1 && stats.levels[0].residual <= 1e-3, "\(stats.levels)")
        #expect(jacobi.statistics.levels[0].residual <= 1e-3, "\(jacobi.statistics.levels)")
        let near = MultigridSolverTests.difference(alpha, reference, trimap)
        let far = MultigridSolverTests.difference(jacobi.alpha, reference, trimap)
        // Measured: mean 0.0012 against 0.0073 (7 iterations), largest 0.053 against 0.089.
        #expect(near.mean * 4 < far.mean, "mean difference to the minimiser: SA \(near.mean), Jacobi \(far.mean)")
        #expect(near.max < far.max, "largest difference: SA \(near.max), Jacobi \(far.max)")
    }
}
