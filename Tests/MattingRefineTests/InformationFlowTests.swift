import Foundation
import MattingImage
import MattingTestSupport
import MattingThreads
import Synchronization
import Testing
@testable import MattingRefine

/// The information-flow terms (``InformationFlow``): their parts against naive references,
/// the whole against the Python prototype (Scripts/ifm-prototype.py, fixture from
/// Scripts/make-ifm-fixtures.py, Fixtures/ifm-real-versions.txt), synthetic scenes with a known
/// alpha, and thread-count independence.
@Suite struct InformationFlowTests {
    /// The k-d tree's k nearest equal a brute-force sort by (distance, index), with many
    /// exact ties (features on a coarse grid), with and without the query itself.
    @Test(arguments: [false, true])
    func nearestNeighboursMatchBruteForce(excludingSelf: Bool) {
        var rng = SeededGenerator(seed: 7)
        let n = 900, k = 7
        let features = rng.floats(5 * n, in: 0...1).map { (Double($0) * 4).rounded() / 4 }
        let points = (0..<Int32(n)).filter { $0 % 3 != 1 }
        let queries = (0..<Int32(n)).filter { $0 % 5 != 0 }
        var out = [Int32](repeating: -1, count: queries.count * k)
        KDTree(features: features, points: points).nearest(k, of: queries, excludingSelf: excludingSelf, into: &out, pool: .serial)
        for (qi, q) in queries.enumerated() {
            func d(_ p: Int32) -> Double {
                (0..<5).reduce(0) { let t = features[5 * Int(q) + $1] - features[5 * Int(p) + $1]; return $0 + t * t }
            }
            let expected = points.filter { !excludingSelf || $0 != q }
                .sorted { (d($0), $0) < (d($1), $1) }.prefix(k)
            #expect(Array(out[(qi * k)..<((qi + 1) * k)]) == Array(expected), "query \(q)")
        }
    }

    /// The embedding weights satisfy the constrained least-squares optimality conditions of
    /// `min ‖c_q − Σ w_j c_j‖² + ε‖w‖², Σ w = 1` (a k×k system), though they are computed in
    /// the 3×3 colour space: Σ w = 1 and `(N Nᵀ + εI) w − N c_q` is the same in every entry.
    @Test(arguments: [14, 20])
    func embeddingWeightsAreTheConstrainedMinimiser(k: Int) {
        var rng = SeededGenerator(seed: UInt64(k))
        let n = 400
        let colour = rng.floats(3 * n, in: 0...1).map(Double.init)
        let queries: [Int32] = Array(0..<30)
        var neighbours = [Int32](repeating: 0, count: queries.count * k)
        for i in neighbours.indices { neighbours[i] = Int32(30 + (i * 37) % (n - 30)) }
        var weights = [Double](repeating: 0, count: neighbours.count)
        InformationFlowOperator.embed(colour: colour, n: n, queries: queries, neighbours: neighbours, k: k, into: &weights, pool: .serial)
        let eps = InformationFlow.embeddingRegularisation
        for qi in queries.indices {
            let w = Array(weights[(qi * k)..<((qi + 1) * k)]), nb = neighbours[(qi * k)..<((qi + 1) * k)].map(Int.init)
            #expect(abs(w.reduce(0, +) - 1) < 1e-9)
            func c(_ i: Int) -> [Double] { [colour[i], colour[n + i], colour[2 * n + i]] }
            func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            let v = (0..<k).map { i in
                (0..<k).reduce(eps * w[i]) { $0 + dot(c(nb[i]), c(nb[$1])) * w[$1] } - dot(c(nb[i]), c(Int(queries[qi])))
            }
            let mean = v.reduce(0, +) / Double(k)
            #expect(v.allSatisfy { abs($0 - mean) < 1e-7 }, "query \(qi): \(v)")
        }
    }

    static func informationFlowSolver(tolerance: Double = 1e-9) -> ClosedFormMatting {
        var solver = ClosedFormMatting()
        solver.epsilon = 1e-6
        solver.tolerance = tolerance
        solver.maxIterations = 20_000
        solver.informationFlow = InformationFlow()
        return solver
    }

    /// On the real crop the Swift terms land on the prototype's answer (its KNN breaks ties
    /// in another order, so not bit for bit), far closer than the closed form alone.
    @Test func matchesThePrototypeOnARealCrop() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        let reference = try PymattingFixtureTests.load("ifm-real-prototype-alpha").floats
        let (alpha, stats) = try Self.informationFlowSolver().solve(image, trimap: trimap)
        let (mean, worst) = MultigridSolverTests.difference(alpha, reference, trimap)
        #expect(stats.usedKnownToUnknown == true)  // as the prototype's histogram test decided
        #expect(stats.levels[0].residual <= 1e-9, "levels \(stats.levels)")
        #expect(mean <= 2e-3 && worst <= 0.05, "mean \(mean), max \(worst)")

        var plain = Self.informationFlowSolver()
        plain.informationFlow = nil
        let (plainMean, _) = MultigridSolverTests.difference(try plain.alpha(for: image, trimap: trimap), reference, trimap)
        #expect(plainMean > 5 * mean, "closed form alone: \(plainMean), with the terms: \(mean)")
    }

    /// The terms' solve preconditioned by smoothed aggregation on `L` (``ClosedFormMatting/Preconditioner/multigrid``) reaches the
    /// Jacobi loop's answer (same system, same tolerance, both started from the coarser levels'
    /// closed form) in far fewer finest-level iterations.
    @Test func smoothedAggregationReachesTheJacobiAnswer() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        let solver = Self.informationFlowSolver(tolerance: 1e-6)
        var multigrid = solver
        multigrid.preconditioner = .multigrid
        let sa = try multigrid.solve(image, trimap: trimap)
        let jacobi = try solver.solve(image, trimap: trimap)
        #expect(sa.statistics.levels[0].residual <= 1e-6)
        #expect(sa.statistics.usedKnownToUnknown == jacobi.statistics.usedKnownToUnknown)
        let worst = zip(sa.alpha.packedComponents, jacobi.alpha.packedComponents).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4, "largest difference \(worst)")
        let (saIterations, jacobiIterations) = (sa.statistics.levels[0].iterations, jacobi.statistics.levels[0].iterations)
        #expect(2 * saIterations < jacobiIterations, "\(saIterations) against \(jacobiIterations)")
    }

    /// The known-to-unknown term alone adds only a diagonal, which smoothed aggregation builds
    /// into its hierarchy (`ExtraOperator.isDiagonal`): the solve then takes about the closed
    /// form's own iterations, not a multiple of them (on a hierarchy of `L` alone it took 3×
    /// at 1200×1800), and still reaches the Jacobi loop's answer.
    @Test func knownToUnknownAloneIsSeenByTheHierarchy() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = Self.informationFlowSolver(tolerance: 1e-6)
        solver.informationFlow?.colourMixture = 0
        solver.informationFlow?.intraUnknown = 0
        solver.informationFlow?.usesKnownToUnknown = true
        var multigrid = solver
        multigrid.preconditioner = .multigrid
        let sa = try multigrid.solve(image, trimap: trimap)
        let jacobi = try solver.solve(image, trimap: trimap)
        var plain = multigrid
        plain.informationFlow = nil
        let closedForm = try plain.solve(image, trimap: trimap)
        #expect(sa.statistics.usedKnownToUnknown == true && sa.statistics.levels[0].residual <= 1e-6)
        let worst = zip(sa.alpha.packedComponents, jacobi.alpha.packedComponents).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4, "largest difference \(worst)")
        let (withTerm, alone) = (sa.statistics.levels[0].iterations, closedForm.statistics.levels[0].iterations)
        #expect(withTerm <= alone + alone / 4, "\(withTerm) iterations with the term, \(alone) without")
    }

    /// One, two and three threads give the same bits (the terms' product per row; Jacobi: the
    /// loop's sums per tile, then over tiles in order; smoothed aggregation: serial sums).
    @Test(arguments: ClosedFormMatting.Preconditioner.allCases)
    func threadCountDoesNotChangeTheResult(_ preconditioner: ClosedFormMatting.Preconditioner) throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = Self.informationFlowSolver(tolerance: 1e-6)
        solver.preconditioner = preconditioner
        let one = try solver.alpha(for: image, trimap: trimap, pool: .serial)
        for threads in [2, 3] {
            let many = try solver.alpha(for: image, trimap: trimap, pool: ThreadPool(threadCount: threads))
            #expect(one.packedComponents == many.packedComponents, "\(threads) threads")
        }
    }

    /// The solve with the terms reports progress as its residual falls and stops within a few
    /// iterations when its job is cancelled: a tolerance it cannot reach would otherwise hold
    /// it for 20 000 iterations. One level, so every report is the terms' solve. The cancel
    /// comes from the fifth report itself, so it always lands mid-solve however loaded the
    /// machine is (a cancel from a polling test thread could arrive after a starved solve had
    /// stopped on its own).
    @Test(arguments: ClosedFormMatting.Preconditioner.allCases)
    func reportsProgressAndStopsWhenCancelled(_ preconditioner: ClosedFormMatting.Preconditioner) async throws {
        let (image, trimap, _) = Self.scene("strands")
        let solver = {
            var s = Self.informationFlowSolver(tolerance: 1e-30)
            s.coarsestUnknownCount = 0
            s.preconditioner = preconditioner
            return s
        }()
        let pool = ThreadPool(threadCount: 2)
        let fractions = Mutex<[Double]>([])
        let handle = Mutex<Task<FloatImage, any Error>?>(nil)
        let task = Task {
            while handle.withLock({ $0 == nil }) { await Task.yield() }
            return try await pool.run(progress: { f in
                let reported = fractions.withLock { all in
                    all.append(f)
                    return all.filter { $0 > 0 }.count
                }
                if reported == 5 { handle.withLock { $0?.cancel() } }
            }) {
                try solver.alpha(for: image, trimap: trimap, pool: pool)
            }
        }
        handle.withLock { $0 = task }
        await #expect(throws: CancellationError.self) { try await task.value }
        let after = fractions.withLock { $0 }
        let fifth = try #require(after.indices.filter { after[$0] > 0 }.dropFirst(4).first, "the solve never reported progress")
        #expect(after.count - (fifth + 1) <= 3, "\(after.count - fifth - 1) reports after the cancel")
        #expect(after.allSatisfy { (0..<1).contains($0) })
    }

    /// A scene with a known alpha: textured foreground and background colours, and
    /// `shape` — thin strands (1 px, opaque, and 2 px at 0.6), holes (background disks
    /// inside the foreground), or a semi-transparent veil (0.35) with a soft rim. The trimap's
    /// unknown region covers every partial or thin structure, 3 px around it.
    static func scene(_ shape: String, _ w: Int = 96, _ h: Int = 80) -> (FloatImage, Trimap, [Double]) {
        var alpha = [Double](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            var a = x < w / 3 ? 1.0 : 0.0
            switch shape {
            case "strands":
                if x >= w / 3, (x - w / 3) % 9 == 4, y > 8, y < h - 8 { a = 1 }
                if x >= w / 3, (x - w / 3) % 9 == 7 || (x - w / 3) % 9 == 8, y > 20, y < h - 20 { a = 0.6 }
            case "holes":
                a = x < 2 * w / 3 ? 1 : 0
                for (cx, cy) in [(w / 4, h / 3), (w / 2, 2 * h / 3)] {
                    let d = ((Double(x - cx) * Double(x - cx) + Double(y - cy) * Double(y - cy))).squareRoot()
                    if d < 5 { a = 0 } else if d < 6 { a = d - 5 }
                }
            default:  // veil
                let d = ((Double(x - w / 2) * Double(x - w / 2) + Double(y - h / 2) * Double(y - h / 2))).squareRoot()
                if d < 16 { a = 0.35 } else if d < 19 { a = max(a, 0.35 * (19 - d) / 3) }
            }
            alpha[y * w + x] = a
        } }
        // Unknown: within 3 px of a pixel whose alpha differs from a 4-neighbour's, or is partial.
        var edge = [Bool](repeating: false, count: w * h)
        for y in 0..<h { for x in 0..<w {
            let a = alpha[y * w + x]
            if a > 0 && a < 1 { edge[y * w + x] = true }
            if x + 1 < w, alpha[y * w + x + 1] != a { edge[y * w + x] = true; edge[y * w + x + 1] = true }
            if y + 1 < h, alpha[(y + 1) * w + x] != a { edge[y * w + x] = true; edge[(y + 1) * w + x] = true }
        } }
        var trimap = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            var near = false
            for v in max(0, y - 3)...min(h - 1, y + 3) { for u in max(0, x - 3)...min(w - 1, x + 3) where edge[v * w + u] { near = true } }
            trimap[y * w + x] = near ? 128 : (alpha[y * w + x] >= 0.5 ? 255 : 0)
        } }
        let image = FloatImage(width: w, height: h, layout: .rgb) { x, y, c in
            let a = Float(alpha[y * w + x])
            let f: Float = [0.85, 0.55, 0.25][c] + 0.1 * Float((x * 7 + y * 3) % 11) / 11
            let b: Float = [0.15, 0.35, 0.7][c] + 0.15 * Float((x * 2 + y * 5) % 13) / 13
            return a * f + (1 - a) * b
        }
        return (image, Trimap(try! Image(width: w, height: h, layout: .gray, components: trimap)), alpha)
    }

    /// Mean |α − α*| over the unknown pixels.
    static func error(_ alpha: FloatImage, _ truth: [Double], _ trimap: Trimap) -> Double {
        let ours = alpha.packedComponents, known = trimap.knownValues
        var total = 0.0, count = 0
        for i in ours.indices where known[i] == nil { total += abs(Double(ours[i]) - truth[i]); count += 1 }
        return total / Double(max(count, 1))
    }

    /// Strands, holes and a veil: the result stays in 0…1 with the known pixels exact, and
    /// its error against the true alpha is small (bounds 4–10× what was measured); on the
    /// strands, which the closed form alone loses, at least 10× smaller than the closed form's.
    @Test(arguments: ["strands", "holes", "veil"])
    func syntheticScenesWithKnownAlpha(_ shape: String) throws {
        let (image, trimap, truth) = Self.scene(shape)
        let alpha = try Self.informationFlowSolver(tolerance: 1e-7).alpha(for: image, trimap: trimap)
        let values = alpha.packedComponents, known = trimap.knownValues
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(values.indices.allSatisfy { known[$0] == nil || known[$0] == values[$0] })
        let err = Self.error(alpha, truth, trimap)
        var plain = Self.informationFlowSolver(tolerance: 1e-7)
        plain.informationFlow = nil
        let plainErr = Self.error(try plain.alpha(for: image, trimap: trimap), truth, trimap)
        // Measured (6 Dec 2026): strands 0.0002 (closed form 0.158: it loses the strands
        // beyond the band's reach of known foreground), holes 0.00016 (closed form 0.000005),
        // veil 0.0012 (closed form 0.0005).
        let bound = ["strands": 2e-3, "holes": 2e-3, "veil": 5e-3][shape]!
        #expect(err <= bound, "\(shape): information flow \(err), closed form \(plainErr)")
        if shape == "strands" { #expect(10 * err < plainErr, "information flow \(err), closed form \(plainErr)") }
    }
}
