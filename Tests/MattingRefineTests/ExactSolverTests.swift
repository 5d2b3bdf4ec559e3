import Foundation
import MattingImage
import MattingThreads
import Synchronization
import Testing
@testable import MattingRefine

/// The public way to the exact minimiser: ``ClosedFormMatting/exact``, the
/// ``ClosedFormMatting/preconditioner`` setting, and what a long multigrid solve owes a caller
/// (progress, cancellation). The solver's own accuracy is `MultigridSolverTests`'.
@Suite struct ExactSolverTests {
    /// The preset is the multigrid solve to 1e-6 through the public entry point, bit for bit
    /// the package-level call, and on the real crop it lands on pymatting's minimiser.
    @Test func exactPresetIsTheMultigridSolveToOneInAMillion() throws {
        let (image, trimap, reference) = try MultigridSolverTests.inputs()
        let exact = ClosedFormMatting.exact
        #expect(exact.preconditioner == .multigrid && exact.tolerance == 1e-6)
        let (alpha, stats) = try exact.solve(image, trimap: trimap, pool: ThreadPool(threadCount: 2))
        var direct = ClosedFormMatting()
        direct.tolerance = 1e-6
        let expected = try direct.solve(image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true).alpha
        #expect(alpha.packedComponents == expected.packedComponents)
        #expect(stats.levels[0].residual <= 1e-6, "levels \(stats.levels)")
        let (mean, worst) = MultigridSolverTests.difference(alpha, reference, trimap)
        #expect(mean <= 1e-3 && worst <= 0.02, "mean \(mean), max \(worst)")
        // The default stays the Jacobi loop at 1e-3, measurably further from the minimiser.
        let fast = try ClosedFormMatting().alpha(for: image, trimap: trimap, pool: .serial)
        #expect(MultigridSolverTests.difference(fast, reference, trimap).mean > 2 * mean)
    }

    /// A trimap whose known pixels are all background (a border of 0, the rest unknown): the
    /// right-hand side is 0 and the minimiser is alpha 0 everywhere. Every solver must return
    /// that, not its starting guess (it used to return 0.5, the start, untouched).
    @Test func backgroundOnlyTrimapSolvesToZero() throws {
        let (image, _, _) = try MultigridSolverTests.inputs()
        let w = image.width, h = image.height
        let states = (0..<(w * h)).map { i -> UInt8 in
            let x = i % w, y = i / w
            return x < 2 || y < 2 || x >= w - 2 || y >= h - 2 ? 0 : 128
        }
        let trimap = Trimap(try Image(width: w, height: h, layout: .gray, components: states))
        var wide = ClosedFormMatting.exact
        wide.radius = 2
        for solver in [ClosedFormMatting(), ClosedFormMatting.exact, wide] {
            let (alpha, _) = try solver.solve(image, trimap: trimap, pool: ThreadPool(threadCount: 2))
            let largest = alpha.packedComponents.max() ?? 1
            #expect(largest == 0, "\(solver.preconditioner), radius \(solver.radius): largest alpha \(largest)")
        }
    }

    /// A trimap with unknown pixels and no known one has no answer (every constant alpha is a
    /// minimiser): a typed error saying so, not the solver's starting guess (it used to be
    /// alpha 0.5 everywhere). A trimap with no unknown pixel is still its own answer.
    @Test func trimapWithNoKnownPixelIsAnError() throws {
        let (image, _, _) = try MultigridSolverTests.inputs()
        let w = image.width, h = image.height
        let unknownOnly = Trimap(try Image(width: w, height: h, layout: .gray, components: [UInt8](repeating: 128, count: w * h)))
        for solver in [ClosedFormMatting(), ClosedFormMatting.exact] {
            #expect {
                try solver.alpha(for: image, trimap: unknownOnly, pool: .serial)
            } throws: { error in
                guard case let ImageError.invalidArgument(message) = error else { return false }
                return message.contains("no pixel as known")
            }
        }
        let knownOnly = Trimap(try Image(width: w, height: h, layout: .gray, components: (0..<(w * h)).map { $0 % 3 == 0 ? 255 : 0 }))
        let alpha = try ClosedFormMatting.exact.alpha(for: image, trimap: knownOnly, pool: .serial)
        #expect(alpha.packedComponents == (0..<(w * h)).map { $0 % 3 == 0 ? 1 : 0 })
    }

    /// From a coarse alpha that is nowhere surely foreground (a faint network matte), the
    /// refiner keeps that alpha as it is, with either solver: the solve would have no anchor and
    /// return 0 everywhere. With a confident patch added, the solve runs and changes it.
    @Test func faintCoarseAlphaIsKeptByTheRefiner() throws {
        let (image, _, _) = try MultigridSolverTests.inputs()
        let w = image.width, h = image.height
        var faint = (0..<(w * h)).map { i -> Float in
            let x = Float(i % w) / Float(w), y = Float(i / w) / Float(h)
            return max(0, 0.6 - 2 * ((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5)))
        }
        let pool = ThreadPool(threadCount: 2)
        for solver in [ClosedFormMatting(), ClosedFormMatting.exact] {
            var refiner = Refiner()
            refiner.solver = solver
            let coarse = Plane(width: w, height: h, data: faint).grayImage
            #expect(try refiner.matte(image, coarseAlpha: coarse, pool: pool).packedComponents == coarse.packedComponents)
        }
        for y in (h / 2 - 10)...(h / 2 + 10) { for x in (w / 2 - 10)...(w / 2 + 10) { faint[y * w + x] = 1 } }
        let anchored = Plane(width: w, height: h, data: faint).grayImage
        #expect(try Refiner().matte(image, coarseAlpha: anchored, pool: pool).packedComponents != anchored.packedComponents)
    }

    /// With windows of radius 2 smoothed aggregation and the Galerkin level (whose operators
    /// are probed assuming radius 1) are left out: the solve is bit for bit the V-cycle's
    /// without its Galerkin level, and it reaches the tolerance.
    @Test func widerWindowsSolveWithoutTheGalerkinLevel() throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        var solver = ClosedFormMatting.exact
        solver.radius = 2
        let (alpha, stats) = try solver.solve(image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true)
        let plain = try solver.solve(
            image, trimap: trimap, initialAlpha: nil, pool: .serial, multigrid: true, galerkin: false, aggregationBlock: 0)
        #expect(alpha.packedComponents == plain.alpha.packedComponents)
        #expect(stats.levels[0].residual <= 1e-6 && stats.levels[0].iterations == plain.statistics.levels[0].iterations)
        #expect(stats.levels.count > 1, "the pyramid's levels, not smoothed aggregation's single one: \(stats.levels)")
    }

    /// `solvedExactly` keeps the energy (ε, radius, terms) and only changes how far it is solved.
    @Test func solvedExactlyKeepsTheEnergy() {
        var solver = ClosedFormMatting.fast
        solver.epsilon = 1e-6
        solver.radius = 2
        solver.informationFlow = InformationFlow()
        let exact = solver.solvedExactly
        #expect(exact.epsilon == 1e-6 && exact.radius == 2 && exact.informationFlow == InformationFlow())
        #expect(exact.preconditioner == .multigrid && exact.tolerance == 1e-6 && exact.finestMaxIterations == nil)
        solver.tolerance = 1e-8
        #expect(solver.solvedExactly.tolerance == 1e-8)
    }

    /// JSON round-trips the setting, and a solver stored before it existed decodes to Jacobi.
    @Test func olderJSONDecodesToTheJacobiLoop() throws {
        let exact = ClosedFormMatting.exact
        #expect(try JSONDecoder().decode(ClosedFormMatting.self, from: JSONEncoder().encode(exact)) == exact)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(exact)) as? [String: Any])
        #expect(object.removeValue(forKey: "preconditioner") as? String == "multigrid")
        let old = try JSONDecoder().decode(ClosedFormMatting.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.preconditioner == .jacobi && old.tolerance == 1e-6)
    }

    /// The multigrid solve reports progress as the finest residual falls and stops within an
    /// iteration or two of its job being cancelled (here by the fifth report from the finest
    /// level, so the cancel always lands mid-solve).
    @Test func multigridReportsProgressAndStopsWhenCancelled() async throws {
        let (image, trimap, _) = try MultigridSolverTests.inputs()
        let pool = ThreadPool(threadCount: 2)
        let reports = Mutex<[Double]>([])
        let handle = Mutex<Task<FloatImage, any Error>?>(nil)
        let task = Task {
            while handle.withLock({ $0 == nil }) { await Task.yield() }
            return try await pool.run(progress: { fraction in
                let finest = reports.withLock { all in
                    all.append(fraction)
                    return all.filter { $0 > 0.25 }.count
                }
                if finest == 5 { handle.withLock { $0?.cancel() } }
            }) {
                try ClosedFormMatting.exact.alpha(for: image, trimap: trimap, pool: pool)
            }
        }
        handle.withLock { $0 = task }
        await #expect(throws: CancellationError.self) { try await task.value }
        let all = reports.withLock { $0 }
        #expect(all.allSatisfy { (0...1).contains($0) })
        // The coarser levels reported first, then the finest.
        #expect(all.first.map { $0 < 0.25 } == true, "\(all)")
        let fifth = try #require(all.indices.filter { all[$0] > 0.25 }.dropFirst(4).first)
        #expect(all.count - (fifth + 1) <= 2, "\(all.count - fifth - 1) reports after the cancel: \(all)")
    }
}
