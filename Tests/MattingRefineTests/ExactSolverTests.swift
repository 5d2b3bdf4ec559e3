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
