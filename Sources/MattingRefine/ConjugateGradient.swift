import CMattingKernels
import Synchronization

/// Jacobi-preconditioned conjugate gradients on the unknown pixels of a matting Laplacian.
enum ConjugateGradient {
    /// Solves `L_UU x_U = −L_UK x_K`, starting from `x` (the unknowns' guess, in the
    /// Laplacian's unknown order) and leaving the iterate there.
    ///
    /// `picture` is a full-size vector holding the known pixels' values (0 or 1) and 0 at
    /// every unknown pixel; the solver then uses it as the search direction, so it is
    /// clobbered (`L·d` reads neighbours, so the direction must be full-size; every other
    /// vector is compact, tile after tile). The loop is C (`mk_f64_cf_pcg`) on a persistent
    /// thread pool; every reduction is summed per tile, then over tiles in order, so the
    /// result does not depend on the thread count.
    ///
    /// - Returns: iterations done and the final relative residual `‖r‖/‖b‖`.
    static func solve(
        _ L: MattingLaplacian, picture: UnsafeMutableBufferPointer<Double>, x: UnsafeMutableBufferPointer<Double>,
        tolerance: Double, maxIterations: Int
    ) -> (Int, Double) {
        let m = L.unknownCount, tileCount = L.tileCount
        precondition(x.count == m && picture.count == L.width * L.height)
        if m == 0 { return (0, 0) }
        let pool = RefinePool.pool(threads: L.threads)
        let workers = pool == nil ? 1 : L.threads
        let scratchStride = mk_cf_laplacian_scratch_count(Int32(MattingLaplacian.tileSize), Int32(L.radius))
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: workers * scratchStride)
        let workspace = UnsafeMutablePointer<Double>.allocate(capacity: 4 * m + 2 * tileCount)
        defer { scratch.deallocate(); workspace.deallocate() }
        var residual = 0.0
        let iterations = L.offsets.withUnsafeBufferPointer { offsets in
            var system = mk_cf_system(
                tiles: L.tiles, tile_count: tileCount, offsets: offsets.baseAddress, unknown: UnsafePointer(L.unknown),
                kernel: L.kernel, scratch: scratch, scratch_stride: scratchStride, pool: pool, threads: workers)
            return mk_f64_cf_pcg(
                &system, picture.baseAddress, picture.count, x.baseAddress, UnsafePointer(L.diagonal),
                tolerance, Int32(clamping: maxIterations), workspace, &residual)
        }
        return (Int(iterations), residual)
    }
}

/// The solver's persistent worker threads: one C pool (`mk_threadpool`, the same as
/// MattingEngine's) per thread count, created on first use and kept for the process, so a
/// conjugate-gradient step costs no thread wake-up. Regions from concurrent solves on one
/// pool run one after another.
enum RefinePool {
    private static let pools = Mutex<[Int: UncheckedSendable<OpaquePointer>]>([:])

    /// The pool for `threads` threads (nil for one thread: run on the caller).
    static func pool(threads: Int) -> OpaquePointer? {
        guard threads > 1 else { return nil }
        return pools.withLock { pools in
            if let pool = pools[threads] { return pool.value }
            guard let pool = mk_threadpool_create(threads) else { return nil }
            pools[threads] = UncheckedSendable(pool)
            return pool
        }
    }
}
