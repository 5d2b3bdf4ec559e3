/// Jacobi-preconditioned conjugate gradients on the unknown pixels of a matting Laplacian.
enum ConjugateGradient {
    /// Solves `L_UU x_U = −L_UK x_K` in place, starting from the unknown entries of `x`.
    ///
    /// Vectors over the unknowns are stored compactly, tile after tile; the iterate and the
    /// search direction live in full-size vectors because `L·d` reads neighbours (the
    /// direction is zero on known pixels). Every reduction is summed per tile, then over
    /// tiles in order, so the result does not depend on the thread count.
    ///
    /// - Returns: iterations done and the final relative residual `‖r‖/‖b‖`.
    static func solve(_ L: MattingLaplacian, _ x: inout [Double], tolerance: Double, maxIterations: Int) -> (Int, Double) {
        let tileCount = L.tileCount, threads = L.threads
        let offsets = L.offsets
        let m = L.unknownCount, n = x.count
        if m == 0 { return (0, 0) }
        let X = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let D = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let R = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let Q = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let invDiag = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: 2 * tileCount)
        defer { for p in [X, D, R, Q, invDiag, partial] { p.deallocate() } }
        x.withUnsafeBufferPointer { X.initialize(from: $0.baseAddress!, count: n) }
        // The unknowns' global indices, tile after tile; their iterate and direction, compact.
        let U = UnsafePointer(L.unknown)
        let XU = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let DU = UnsafeMutablePointer<Double>.allocate(capacity: m)
        defer { XU.deallocate(); DU.deallocate() }
        for k in 0..<m { XU[k] = X[Int(U[k])] }
        let shared = UncheckedSendable((X, D, R, Q, invDiag, partial))

        /// Runs `body(tile, offset, scratch)` for all tiles, dynamically scheduled.
        let scratches = (0..<max(1, threads)).map { _ in MattingLaplacian.Scratch(radius: L.radius) }
        func forTiles(_ body: (Int, Int, MattingLaplacian.Scratch) -> Void) {
            parallelDynamic(tileCount, threads: threads) { t, worker in body(t, offsets[t], scratches[worker]) }
        }
        /// The vector updates, in contiguous runs of tiles, one run per thread: they are
        /// memory-bound (about 12 doubles of traffic per unknown and iteration, as much time
        /// as L·d once that is vectorised), so both cores' bandwidth helps. Per-tile partial
        /// sums keep the results independent of the thread count.
        func forTileRuns(_ body: (Int, Int) -> Void) {
            parallelChunks(tileCount, threads: threads) { range in
                for t in range { body(t, offsets[t]) }
            }
        }
        func sum(_ slot: Int) -> Double {
            var s = 0.0
            for t in 0..<tileCount { s += partial[2 * t + slot] }
            return s
        }

        // b = −L_UK x_K: L applied to x with its unknowns zeroed.
        D.initialize(from: X, count: n)
        for k in 0..<m {
            D[Int(U[k])] = 0
            invDiag[k] = L.diagonal[k] > 0 ? 1 / L.diagonal[k] : 0
        }
        forTiles { t, o, s in
            let (_, D, _, Q, _, P) = shared.value
            _ = L.apply(tile: t, D, into: Q + o, scratch: s)
            var bb = 0.0
            for k in o..<offsets[t + 1] { bb += Q[k] * Q[k] }
            P[2 * t] = bb
        }
        let normB = sum(0).squareRoot()
        if normB == 0 { return (0, 0) }
        // r = −L x at the start; d = z = r / diag (zero on known pixels).
        D.update(repeating: 0, count: n)
        forTiles { t, o, s in
            let (X, D, R, _, I, P) = shared.value
            _ = L.apply(tile: t, X, into: R + o, scratch: s)
            var rz = 0.0, rr = 0.0
            for k in o..<offsets[t + 1] {
                let rj = -R[k]
                R[k] = rj
                let z = rj * I[k]
                D[Int(U[k])] = z
                DU[k] = z
                rz += rj * z
                rr += rj * rj
            }
            P[2 * t] = rz
            P[2 * t + 1] = rr
        }
        var rz = sum(0)
        var residual = sum(1).squareRoot() / normB
        var iterations = 0
        while iterations < maxIterations && residual > tolerance {
            iterations += 1
            forTiles { t, o, s in
                let (_, D, _, Q, _, P) = shared.value
                P[2 * t] = L.apply(tile: t, D, into: Q + o, scratch: s)
            }
            let dq = sum(0)
            if !(dq > 0) { break }
            let step = rz / dq
            // Compact loops (iterate XU and a compact copy DU of the direction): only the
            // write of D back to the full-size vector is scattered.
            forTileRuns { t, o in
                let (_, _, R, Q, I, P) = shared.value
                var a = 0.0, b = 0.0
                for k in o..<offsets[t + 1] {
                    XU[k] += step * DU[k]
                    let rk = R[k] - step * Q[k]
                    R[k] = rk
                    a += rk * rk * I[k]
                    b += rk * rk
                }
                P[2 * t] = a
                P[2 * t + 1] = b
            }
            let rzNew = sum(0)
            residual = sum(1).squareRoot() / normB
            let beta = rz != 0 ? rzNew / rz : 0
            rz = rzNew
            forTileRuns { t, o in
                let (_, D, R, _, I, _) = shared.value
                for k in o..<offsets[t + 1] {
                    let dk = R[k] * I[k] + beta * DU[k]
                    DU[k] = dk
                    D[Int(U[k])] = dk
                }
            }
        }
        for k in 0..<m { X[Int(U[k])] = XU[k] }
        x.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: X, count: n) }
        return (iterations, residual)
    }
}
