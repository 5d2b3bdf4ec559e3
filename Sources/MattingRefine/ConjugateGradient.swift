import CMattingKernels
import Foundation
import MattingThreads

/// Jacobi-preconditioned conjugate gradients on the unknown pixels of a matting Laplacian.
enum ConjugateGradient {
    /// Solves `L_UU x_U = −L_UK x_K`, starting from `x` (the unknowns' guess, in the
    /// Laplacian's unknown order) and leaving the iterate there.
    ///
    /// `picture` is a full-size vector holding the known pixels' values (0 or 1) and 0 at
    /// every unknown pixel; the solver then uses it as the search direction, so it is
    /// clobbered (`L·d` reads neighbours, so the direction must be full-size; every other
    /// vector is compact, tile after tile). The loop is C (`mk_f64_cf_pcg`) on the pool's
    /// threads; every reduction is summed per tile, then over tiles in order, so the result
    /// does not depend on the thread count.
    ///
    /// After every iteration the loop calls back: the pool's running job hears how far the
    /// residual has come (`progress`, 0…1 of this level), and a cancelled job stops the loop.
    ///
    /// With `extra`, the system is `(L + E)_UU x_U = c − (L + E)_UK x_K` (``ExtraOperator``: the
    /// information-flow terms), solved by the same loop: `E`'s product is added after each
    /// Laplacian product and its diagonal to the preconditioner's.
    ///
    /// - Returns: iterations done and the final relative residual `‖r‖/‖b‖`.
    /// - Throws: `CancellationError` if the pool's job was cancelled.
    static func solve(
        _ L: MattingLaplacian, picture: UnsafeMutableBufferPointer<Double>, x: UnsafeMutableBufferPointer<Double>,
        tolerance: Double, maxIterations: Int, pool: ThreadPool, extra: ExtraOperator? = nil,
        progress: @escaping (Double) -> Void = { _ in }
    ) throws -> (Int, Double) {
        let m = L.unknownCount, tileCount = L.tileCount
        precondition(x.count == m && picture.count == L.width * L.height)
        if m == 0 { return (0, 0) }
        try pool.checkCancellation()
        let workers = pool.cPool == nil ? 1 : pool.threadCount
        let scratchStride = mk_cf_laplacian_scratch_count(Int32(MattingLaplacian.tileSize), Int32(L.radius))
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: workers * scratchStride)
        let workspace = UnsafeMutablePointer<Double>.allocate(capacity: 4 * m + 2 * tileCount)
        defer { scratch.deallocate(); workspace.deallocate() }
        var residual = 0.0
        let monitor = IterationMonitor(pool: pool, tolerance: tolerance, progress: progress)
        if let extra { precondition(extra.diagonal.count == m && extra.rhs.count == m) }
        let iterations = withExtendedLifetime(monitor) {
            L.offsets.withUnsafeBufferPointer { offsets in
                var system = mk_cf_system(
                    tiles: L.tiles, tile_count: tileCount, offsets: offsets.baseAddress, unknown: UnsafePointer(L.unknown),
                    kernel: L.kernel, scratch: scratch, scratch_stride: scratchStride, pool: pool.cPool, threads: workers,
                    on_iteration: IterationMonitor.callback,
                    on_iteration_context: monitor.context,
                    extra_product: nil, extra_context: nil, extra_diagonal: nil, extra_is_diagonal: 0, rhs: nil)
                return withUnsafeMutablePointer(to: &system) { system in
                    ExtraOperator.attaching(extra, to: system) {
                        mk_f64_cf_pcg(
                            system, picture.baseAddress, picture.count, x.baseAddress, UnsafePointer(L.diagonal),
                            tolerance, Int32(clamping: maxIterations), workspace, &residual)
                    }
                }
            }
        }
        try pool.checkCancellation()
        return (Int(iterations), residual)
    }
}

/// An operator `E` the conjugate-gradient loop adds to the Laplacian, with a right-hand side:
/// the loop solves `(L + E)_UU x_U = c − (L + E)_UK x_K`. `E` must be symmetric positive
/// semi-definite on the unknowns.
final class ExtraOperator {
    /// Adds `(E p)_{U[k]}` to `out[k]` for every unknown k (Laplacian order), `p` full-size.
    /// Called on the solve's thread between the loop's parallel regions; it may run its own
    /// on the pool, and its result must not depend on the thread count.
    let product: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// `E`'s diagonal on the unknowns (added to the Jacobi preconditioner's and to the
    /// smoothed-aggregation loop's fallback diagonal).
    let diagonal: [Double]
    /// `c` on the unknowns.
    let rhs: [Double]
    /// True when `E` is its diagonal alone: the smoothed-aggregation loop then builds its
    /// hierarchy on `L + E` (the known-to-unknown term alone: 15 iterations instead of 49 at
    /// 1200×1800), not on `L` alone. With off-diagonal terms it stays on `L`, which converged
    /// in fewer iterations there (Docs/Quality.md, "ku-fast").
    let isDiagonal: Bool

    init(diagonal: [Double], rhs: [Double], isDiagonal: Bool = false,
         product: @escaping (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        self.product = product
        self.diagonal = diagonal
        self.rhs = rhs
        self.isDiagonal = isDiagonal
    }

    /// Runs `body` with `system`'s extra operator, diagonal and right-hand side set to `extra`'s
    /// (none with `nil`), valid only while `body` runs; they are cleared again on return.
    static func attaching<R>(_ extra: ExtraOperator?, to system: UnsafeMutablePointer<mk_cf_system>, _ body: () -> R) -> R {
        guard let extra else { return body() }
        return withExtendedLifetime(extra) {
            extra.diagonal.withUnsafeBufferPointer { diagonal in
            extra.rhs.withUnsafeBufferPointer { rhs in
                system.pointee.extra_product = callback
                system.pointee.extra_context = Unmanaged.passUnretained(extra).toOpaque()
                system.pointee.extra_diagonal = diagonal.baseAddress
                system.pointee.extra_is_diagonal = extra.isDiagonal ? 1 : 0
                system.pointee.rhs = rhs.baseAddress
                defer {
                    system.pointee.extra_product = nil
                    system.pointee.extra_context = nil
                    system.pointee.extra_diagonal = nil
                    system.pointee.extra_is_diagonal = 0
                    system.pointee.rhs = nil
                }
                return body()
            } }
        }
    }

    /// The C loop's `extra_product`: the product of the operator passed as its context.
    private static let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?) -> Void = {
        context, p, out in
        Unmanaged<ExtraOperator>.fromOpaque(context!).takeUnretainedValue().product(p!, out!)
    }
}

/// What the C loop calls after each iteration: reports progress and answers whether to stop.
final class IterationMonitor {
    let pool: ThreadPool
    let tolerance: Double
    let progress: (Double) -> Void
    private var first: Double?

    init(pool: ThreadPool, tolerance: Double, progress: @escaping (Double) -> Void) {
        self.pool = pool
        self.tolerance = tolerance
        self.progress = progress
    }

    /// The C loop's `on_iteration`: calls ``iterated(_:residual:)`` of the monitor passed as
    /// its context (``context``), 1 to stop.
    static let callback: @convention(c) (UnsafeMutableRawPointer?, Int32, Double) -> Int32 = { context, iterations, residual in
        Unmanaged<IterationMonitor>.fromOpaque(context!).takeUnretainedValue().iterated(Int(iterations), residual: residual) ? 1 : 0
    }

    /// This monitor as the C loop's `on_iteration_context` (unretained: keep the monitor alive
    /// for the solve).
    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Whether the solve must stop (the pool's job was cancelled). Progress is the share of
    /// the way, in log scale, from the first iteration's residual to the tolerance.
    func iterated(_ iterations: Int, residual: Double) -> Bool {
        if pool.isCancelled { return true }
        let start = first ?? residual
        first = start
        if start > tolerance, residual > 0, tolerance > 0 {
            progress(min(1, max(0, log(start / residual) / log(start / tolerance))))
        }
        return false
    }
}
