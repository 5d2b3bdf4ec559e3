import MattingThreads
import Foundation
import Dispatch
import MattingImage
import Synchronization
import MattingTestSupport
import Testing
@testable import MattingRefine

/// The matrix-free Laplacian and the PCG solver against the explicit Levin et al. matrix.
///
/// Tolerances: L·x to 1e-4 of max |L·x| (the brief's bound; Double sums give ~1e-9 here);
/// the solve to 2e-3 max abs (both solve to a relative residual of 1e-10/1e-9, the
/// difference is conditioning at ε = 1e-7).
@Suite struct SolverTests {
    /// A picture with flat patches (where Δ⁻¹ ≈ |w|/ε) and noisy patches.
    static func testImage(_ w: Int, _ h: Int, seed: UInt64) -> FloatImage {
        var rng = SeededGenerator(seed: seed)
        return FloatImage(width: w, height: h, layout: .rgb) { x, y, c in
            if (x / 6 + y / 5) % 3 == 0 { return [0.2, 0.5, 0.7][c] }
            return Float.random(in: 0...1, using: &rng)
        }
    }

    static func randomTrimap(_ w: Int, _ h: Int, seed: UInt64) -> Trimap {
        var rng = SeededGenerator(seed: seed)
        let values = (0..<w * h).map { _ -> UInt8 in [0, 255, 128, 128][Int.random(in: 0..<4, using: &rng)] }
        return Trimap(try! Image(width: w, height: h, layout: .gray, components: values))
    }

    /// Every kernel path this CPU runs (portable C, AVX2+FMA) against the explicit matrix, on
    /// shapes below, at and across the 32-pixel tile (odd sizes, image borders inside tiles).
    @Test(arguments: [(7, 6, 1, 1e-7), (13, 11, 1, 1e-7), (40, 37, 1, 1e-7), (33, 31, 1, 1e-7), (70, 35, 2, 1e-5), (33, 65, 3, 1e-3)],
          RefineISA.supported)
    func fastLaplacianProductEqualsExplicit(_ c: (Int, Int, Int, Double), isa: RefineISA) throws {
        let (w, h, r, eps) = c
        let image = Self.testImage(w, h, seed: UInt64(w * h))
        let trimap = Self.randomTrimap(w, h, seed: 5)
        let isUnknown = trimap.knownValues.map { $0 == nil }
        let planes = (0..<3).map { Plane(image, channel: $0).data }
        let L = try MattingLaplacian.make(image: planes, width: w, height: h, isUnknown: isUnknown, radius: r, epsilon: eps, pool: ThreadPool(threadCount: 2), isa: isa)
        var rng = SeededGenerator(seed: 77)
        let p = (0..<w * h).map { _ in Double.random(in: 0...1, using: &rng) }
        var fast = [Double](repeating: 0, count: w * h)
        let scratch = MattingLaplacian.Scratch(radius: r)
        for t in 0..<L.tileCount {
            let unknown = L.unknownIndices(ofTile: t)
            var out = [Double](repeating: 0, count: unknown.count)
            _ = out.withUnsafeMutableBufferPointer { L.apply(tile: t, p, into: $0.baseAddress!, scratch: scratch) }
            for (j, index) in unknown.enumerated() { fast[Int(index)] = out[j] }
        }
        let explicit = ReferenceRefine.multiply(
            ReferenceRefine.mattingLaplacian(image: (0..<3).map { doubles(image, channel: $0) }, width: w, height: h, radius: r, epsilon: eps), p)
        var worst = 0.0, scale = 0.0
        for i in 0..<w * h where isUnknown[i] {
            worst = max(worst, abs(fast[i] - explicit[i]))
            scale = max(scale, abs(explicit[i]))
        }
        #expect(worst <= 1e-4 * scale, "case \(c), \(isa): max error \(worst) of \(scale)")
        // The diagonal matches too.
        let Lx = ReferenceRefine.mattingLaplacian(image: (0..<3).map { doubles(image, channel: $0) }, width: w, height: h, radius: r, epsilon: eps)
        for k in 0..<L.unknownCount {
            let index = Int(L.unknown[k])
            let e = Lx[index][index] ?? 0
            #expect(abs(L.diagonal[k] - e) <= 1e-4 * max(1, abs(e)), "diagonal at \(index)")
        }
    }

    /// A soft disk over a textured background, with its trimap.
    static func softDisk(_ w: Int, _ h: Int) -> (FloatImage, Trimap, [Double]) {
        let cx = Float(w) / 2, cy = Float(h) / 2, radius = Float(min(w, h)) / 3
        var alpha = [Double](), trimap = [UInt8]()
        for y in 0..<h { for x in 0..<w {
            let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
            let a = min(max((radius - d) / 3 + 0.5, 0), 1)
            alpha.append(Double(a))
            trimap.append(d < radius - 4 ? 255 : (d > radius + 4 ? 0 : 128))
        } }
        let image = FloatImage(width: w, height: h, layout: .rgb) { x, y, c in
            let a = Float(alpha[y * w + x])
            let f: Float = [0.9, 0.6, 0.2][c] + 0.05 * Float((x * 3 + y) % 5) / 5
            let b: Float = [0.1, 0.3, 0.8][c] + 0.1 * Float((x + 2 * y) % 7) / 7
            return a * f + (1 - a) * b
        }
        return (image, Trimap(try! Image(width: w, height: h, layout: .gray, components: trimap)), alpha)
    }

    @Test(arguments: [0, 60])
    func fastSolverEqualsNaiveSolve(_ coarsest: Int) throws {
        let (w, h) = (30, 26)
        let (image, trimap, _) = Self.softDisk(w, h)
        var solver = ClosedFormMatting()
        solver.tolerance = 1e-9
        solver.maxIterations = 20_000
        solver.coarsestUnknownCount = coarsest
        let (fast, stats) = try solver.solve(image, trimap: trimap)
        let known = trimap.knownValues
        let L = ReferenceRefine.mattingLaplacian(image: (0..<3).map { doubles(image, channel: $0) }, width: w, height: h, radius: 1, epsilon: 1e-7)
        let naive = ReferenceRefine.solveMatting(L, known: known.map { $0 != nil }, alpha: known.map { Double($0 ?? 0) })
        let clamped = naive.map { min(max($0, 0), 1) }
        let worst = maxAbsDifference(doubles(fast), clamped)
        #expect(worst <= 2e-3, "coarsest \(coarsest): max difference \(worst), levels \(stats.levels)")
        if coarsest > 0 { #expect(stats.levels.count > 1) }
    }

    /// A cancelled job stops the Laplacian's build itself with `CancellationError` (a large
    /// picture's build is a solve's longest step without an iteration check), rather than
    /// handing back an operator whose skipped tiles hold no statistics.
    @Test func aCancelledJobStopsTheLaplacianBuild() async throws {
        let (w, h) = (200, 160)
        let planes = (0..<3).map { Plane(Self.testImage(w, h, seed: 3), channel: $0).data }
        let isUnknown = Self.randomTrimap(w, h, seed: 9).knownValues.map { $0 == nil }
        let pool = ThreadPool(threadCount: 2)
        let started = Mutex(false), outcome = Mutex<String?>(nil)
        let task = Task {
            try await pool.run {
                started.withLock { $0 = true }
                while !pool.isCancelled { usleep(200) }
                do {
                    _ = try MattingLaplacian.make(
                        image: planes, width: w, height: h, isUnknown: isUnknown, radius: 1, epsilon: 1e-7, pool: pool)
                    outcome.withLock { $0 = "built" }
                } catch is CancellationError {
                    outcome.withLock { $0 = "cancelled" }
                }
            }
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(outcome.withLock { $0 } == "cancelled")
        // Not cancelled, the same build succeeds.
        let L = try MattingLaplacian.make(
            image: planes, width: w, height: h, isUnknown: isUnknown, radius: 1, epsilon: 1e-7, pool: pool)
        #expect(L.unknownCount == isUnknown.filter { $0 }.count)
    }

    @Test func solverKeepsKnownPixelsAndRange() throws {
        let (image, trimap, _) = Self.softDisk(64, 48)
        let alpha = try ClosedFormMatting().alpha(for: image, trimap: trimap)
        let known = trimap.knownValues
        for (i, v) in alpha.packedComponents.enumerated() {
            #expect(v >= 0 && v <= 1)
            if let k = known[i] { #expect(v == k) }
        }
        #expect(throws: ImageError.self) {
            try ClosedFormMatting().alpha(for: FloatImage(width: 10, height: 10, layout: .rgb), trimap: trimap)
        }
    }

    @Test func solverResultDoesNotDependOnThreadCount() throws {
        let (image, trimap, _) = Self.softDisk(100, 90)
        let solver = ClosedFormMatting()
        #expect(try solver.alpha(for: image, trimap: trimap, pool: ThreadPool(threadCount: 1))
            == solver.alpha(for: image, trimap: trimap, pool: ThreadPool(threadCount: 2)))
    }

    /// The finest level reads the caller's RGB picture in place, rows `rowStride` apart: a
    /// cropped view and an RGBA picture give exactly the packed RGB copy's answer.
    @Test func croppedAndRGBAInputsMatchPackedRGB() throws {
        let (image, trimap, _) = Self.softDisk(90, 80)
        let rect = ImageRect(x: 6, y: 4, width: 70, height: 64)
        let cropped = image.cropped(to: rect)
        let packed = try FloatImage(width: rect.width, height: rect.height, layout: .rgb, components: cropped.packedComponents)
        let croppedTrimap = Trimap(trimap.image.cropped(to: rect))
        var solver = ClosedFormMatting()
        solver.coarsestUnknownCount = 100
        let reference = try solver.solve(packed, trimap: croppedTrimap)
        #expect(reference.statistics.levels.count > 1)
        #expect(try solver.alpha(for: cropped, trimap: croppedTrimap) == reference.alpha)
        #expect(try solver.alpha(for: packed.converted(to: .rgba), trimap: croppedTrimap) == reference.alpha)
    }

    /// Solves running at once on one pool (regions queue on it): each gets exactly the answer
    /// it gets alone, with 2 and 3 threads per solve.
    @Test func concurrentSolvesOnTheSharedPoolMatchSerialOnes() throws {
        let (image, trimap, _) = Self.softDisk(120, 100)
        var initial = FloatImage(width: 120, height: 100, layout: .gray, repeating: 0.5)
        initial[3, 4, 0] = 0.9
        for threads in [2, 3] {
            var solver = ClosedFormMatting()
            solver.coarsestUnknownCount = 200
            let pool = ThreadPool(threadCount: threads)
            let alone = try solver.solve(image, trimap: trimap, initialAlpha: initial, pool: pool)
            #expect(alone.statistics.levels.count > 1)
            let results = Mutex<[FloatImage?]>([FloatImage?](repeating: nil, count: 6))
            let (shared, start) = (solver, initial)
            DispatchQueue.concurrentPerform(iterations: 6) { i in
                let alpha = try? shared.alpha(for: image, trimap: trimap, initialAlpha: start, pool: pool)
                results.withLock { $0[i] = alpha }
            }
            for (i, alpha) in results.withLock({ $0 }).enumerated() {
                #expect(alpha == alone.alpha, "solve \(i) with \(threads) threads")
            }
        }
    }
}

@Suite struct EdgeCaseTests {
    @Test func emptyAndTinyInputs() throws {
        let empty = FloatImage(width: 0, height: 0, layout: .rgb)
        let emptyTrimap = Trimap(Image(width: 0, height: 0, layout: .gray))
        #expect(try ClosedFormMatting().alpha(for: empty, trimap: emptyTrimap).pixelCount == 0)
        #expect(try ForegroundEstimator().estimate(empty, alpha: FloatImage(width: 0, height: 0, layout: .gray)).foreground.pixelCount == 0)
        #expect(try Trimap(coarseAlpha: FloatImage(width: 0, height: 0, layout: .gray)).unknownCount == 0)
        #expect(try MatteOperations.portrait.applied(to: FloatImage(width: 0, height: 0, layout: .gray)).pixelCount == 0)
        // 1×1 and 2×2 pictures have no window inside them: unknown pixels keep their start.
        let tiny = FloatImage(width: 2, height: 2, layout: .rgb, repeating: 0.5)
        let trimap = Trimap(try Image(width: 2, height: 2, layout: .gray, components: [0, 128, 128, 255]))
        let alpha = try ClosedFormMatting().alpha(for: tiny, trimap: trimap)
        #expect(alpha.packedComponents.allSatisfy { $0 >= 0 && $0 <= 1 })
        let gray = FloatImage(width: 5, height: 4, layout: .gray, repeating: 0.2)
        #expect(try ForegroundEstimator().estimate(randomImage(5, 4, layout: .rgb, seed: 1), alpha: gray).foreground.layout == .rgb)
    }
}
