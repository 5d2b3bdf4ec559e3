import Foundation
import MattingTestSupport
import Synchronization
import Testing
@testable import MattingKit

/// The async surface: cancellation, progress, one thread budget, byte-identical results for
/// any thread count.
@Suite("Matter: cancellation, progress, threads", .serialized)
struct MatterConcurrencyTests {
    /// The process's thread count and resident memory, from /proc/self/status.
    static func processStatus() -> (threads: Int, residentMiB: Double) {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Double {
            let line = text.split(separator: "\n").first { $0.hasPrefix(key + ":") } ?? ""
            return Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (Int(value("Threads")), value("VmRSS") / 1024)
    }

    /// ``processStatus()`` once the resident size is below `limit` MiB, or after 3 s of trying:
    /// other tests in this process allocate and free meanwhile, so the size is read again
    /// until their transient buffers are gone. Memory a matte kept would stay, and still fail
    /// the comparison.
    static func settledStatus(below limit: Double) async -> (threads: Int, residentMiB: Double) {
        var status = processStatus()
        let deadline = ContinuousClock.now + .seconds(3)
        while status.residentMiB >= limit && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            status = processStatus()
        }
        return status
    }

    /// A large photo with a wide unknown band: a disc with a soft, noisy edge, and a trimap
    /// whose unknown ring is a tenth of the short side wide, so the solve takes many
    /// iterations at the 2048-px working size.
    static func largeScene(width: Int, height: Int) -> (photo: Image, trimap: Image) {
        let cx = Double(width) / 2, cy = Double(height) / 2, radius = Double(min(width, height)) / 3
        let band = Double(min(width, height)) / 20
        let photo = Image(width: width, height: height, layout: .rgb) { x, y, c in
            let dx = Double(x) - cx, dy = Double(y) - cy
            let d = (dx * dx + dy * dy).squareRoot()
            let a = min(max((radius - d) / 40 + 0.5, 0), 1)
            let texture = (x &* 7919 &+ y &* 104_729 &+ c &* 31) % 23
            let fg = [200.0, 90.0, 60.0][c], bg = 60.0 + Double((x / 37 + y / 29) % 5) * 30 + Double(texture)
            return UInt8(min(max(a * fg + (1 - a) * bg, 0), 255))
        }
        let trimap = Image(width: width, height: height, layout: .gray) { x, y, _ in
            let dx = Double(x) - cx, dy = Double(y) - cy
            let d = (dx * dx + dy * dy).squareRoot()
            return d < radius - band ? 255 : (d > radius + band ? 0 : 128)
        }
        return (photo, trimap)
    }

    /// Cancelling a 4000×3000 matte in the middle of the solve ends it with
    /// `CancellationError` within 100 ms (or three of its iterations, if the machine is so busy
    /// that they take longer), and the process's threads and memory return to
    /// where they were before the matte.
    @Test func cancellingMidSolveEndsPromptlyAndLeavesNothing() async throws {
        // Alone among the large tests; other suites still run in this process, so its resident
        // size moves with them as well as with the matte.
        try await LargeMemoryTests.exclusively {
            let (photo, trimap) = Self.largeScene(width: 4000, height: 3000)
            let matter = Matter(refiningOnlyWithThreads: 2)
            // Warm the pool's threads up first: they belong to the Matter, not to one matte.
            _ = try await matter.matte(SyntheticComposite(width: 64, height: 48).image, trimap: SyntheticComposite(width: 64, height: 48).trimap)
            let before = Self.processStatus()
            // Three cancelled mattes in a row: a leak of their buffers adds up, while the other
            // suites' allocations do not grow with the count.
            let rounds = 3
            var held = 0.0
            for round in 0..<rounds {
                let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)
                let solveFractions = Mutex<[Double]>([])
                let reportTimes = Mutex<[ContinuousClock.Instant]>([])
                let clock = ContinuousClock()
                let task = Task {
                    try await matter.matte(photo, trimap: trimap, options: MattingOptions()) { progress in
                        // The finest level's iterations: the coarser levels report up to a
                        // quarter of the solve. (Building a level's Laplacian between them is one
                        // step that is not interrupted; on a busy machine it can take seconds.)
                        guard progress.stage == .refine, progress.fraction > 0.25 else { return }
                        solveFractions.withLock { $0.append(progress.fraction) }
                        reportTimes.withLock { $0.append(clock.now) }
                    }
                }
                // Cancel once the solver has reported a few of the finest level's iterations.
                let deadline = clock.now + .seconds(120)
                while solveFractions.withLock({ $0.count }) < 4 && clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
                #expect(solveFractions.withLock { $0.count } >= 4, "round \(round): the solve never reported progress")
                held = max(held, Self.processStatus().residentMiB - before.residentMiB)
                cancelledAt.withLock { $0 = clock.now }
                task.cancel()
                let outcome = await task.result
                let latency = clock.now - (cancelledAt.withLock { $0 } ?? clock.now)
                #expect(throws: CancellationError.self) { try outcome.get() }
                // Within 100 ms, or within three of this solve's iterations on a machine so busy
                // that one iteration takes longer than a third of that (the loop stops at the
                // end of the iteration it is in; other suites share the two cores).
                let times = reportTimes.withLock { $0 }
                let gaps = zip(times.dropFirst(), times).map { $0 - $1 }.sorted()
                let iteration = gaps.isEmpty ? Duration.zero : gaps[gaps.count / 2]
                #expect(latency <= max(.milliseconds(100), iteration * 3),
                        "round \(round): cancellation took \(latency), an iteration \(iteration)")
            }
            // Memory is given back once the matte's buffers are gone (large blocks are unmapped
            // at free). Allowed: 40 MiB for heap fragments and the other suites, plus one
            // matte's mid-solve gain; three leaked mattes' buffers would be about three gains.
            let allowance = 40 + held
            let after = await Self.settledStatus(below: before.residentMiB + allowance)
            #expect(after.threads <= before.threads, "threads \(before.threads) → \(after.threads)")
            #expect(after.residentMiB < before.residentMiB + allowance,
                    "RSS \(before.residentMiB) → \(after.residentMiB) MiB after \(rounds) cancelled mattes (up to \(held) MiB more mid-solve)")
            // The Matter is still usable after a cancelled call.
            let small = SyntheticComposite(width: 64, height: 48)
            let again = try await matter.matte(small.image, trimap: small.trimap)
            #expect(again.matte.width == 64)
        }
    }

    /// A task cancelled before its matte starts never runs it.
    @Test func cancelledBeforeStartThrowsAtOnce() async {
        let scene = SyntheticComposite(width: 64, height: 48)
        let matter = Matter(refiningOnlyWithThreads: 1)
        let ran = Mutex(false)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await matter.matte(scene.image, trimap: scene.trimap) { _ in ran.withLock { $0 = true } }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!ran.withLock { $0 })
    }

    /// Progress never decreases, reports several steps of the solve, and ends at exactly 1.
    @Test func progressIsMonotoneAndEndsAtOne() async throws {
        let scene = SyntheticComposite(width: 640, height: 480, seed: 4)
        let reports = Mutex<[MattingProgress]>([])
        let matter = Matter(refiningOnlyWithThreads: 2)
        _ = try await matter.matte(scene.image, trimap: scene.trimap, options: MattingOptions()) { progress in
            reports.withLock { $0.append(progress) }
        }
        let seen = reports.withLock { $0 }
        #expect(seen.count >= 5, "\(seen.count) reports")
        for (a, b) in zip(seen, seen.dropFirst()) { #expect(a.fraction <= b.fraction, "\(a) then \(b)") }
        #expect(seen.last == MattingProgress(fraction: 1, stage: .finished))
        #expect(seen.first.map { $0.fraction >= 0 && $0.stage == .prepare } == true)
        #expect(seen.filter { $0.stage == .refine }.count >= 3, "the solve reported \(seen.filter { $0.stage == .refine })")
        #expect(Set(seen.map(\.stage)).isSuperset(of: [.prepare, .refine, .foreground, .postprocess, .finished]))
    }

    /// Threads 1, 2 and 3 give the same bytes for the matte and the cut-out on every path and
    /// several sizes, including ones the policy reduces (so upsampling and the foreground
    /// correction run at full size).
    @Test(arguments: [(97, 61), (300, 200), (640, 427)])
    func sameBytesForAnyThreadCount(_ size: (Int, Int)) async throws {
        let (w, h) = size
        let scene = SyntheticComposite(width: w, height: h, seed: UInt64(w))
        var options = MattingOptions()
        options.inputPolicy = InputPolicy(maximumSide: max(48, w * 2 / 3), workingShortSide: max(32, h / 2))
        let segmenter = try ModelSegmenter.defaultModel()
        var results: [[String: (matte: Image, cutout: Image)]] = []
        for threads in [1, 2, 3] {
            let matter = Matter(segmenter: segmenter, pool: ThreadPool(threadCount: threads))
            var byPath: [String: (Image, Image)] = [:]
            let model = try await matter.matte(scene.image, options: options)
            byPath["model"] = (model.matte, model.cutout)
            let trimap = try await matter.matte(scene.image, trimap: scene.trimap, options: options)
            byPath["trimap"] = (trimap.matte, trimap.cutout)
            let mask = try await matter.matte(scene.image, coarseMask: scene.hardMask, options: options)
            byPath["mask"] = (mask.matte, mask.cutout)
            let studio = try await matter.studioMatte(scene.image, options: options)
            byPath["studio"] = (studio.matte, studio.cutout)
            results.append(byPath)
        }
        for path in ["model", "trimap", "mask", "studio"] {
            let one = try #require(results[0][path])
            #expect(one.matte.width == w && one.cutout.height == h)
            for k in 1..<results.count {
                let other = try #require(results[k][path])
                #expect(other.matte == one.matte, "\(path) \(w)×\(h): matte differs at \(k + 1) threads")
                #expect(other.cutout == one.cutout, "\(path) \(w)×\(h): cut-out differs at \(k + 1) threads")
            }
        }
        // The comparison can fail: a different photo gives a different matte.
        #expect(results[0]["trimap"]?.matte != results[0]["mask"]?.matte)
    }

    /// Concurrent calls on one Matter run one after another on its pool and each gets the
    /// answer it gets alone.
    @Test func concurrentCallsTakeTurnsAndAgree() async throws {
        let scenes = (0..<4).map { SyntheticComposite(width: 120 + 8 * $0, height: 90, seed: UInt64($0)) }
        let matter = Matter(refiningOnlyWithThreads: 2)
        var alone: [Image] = []
        for scene in scenes { alone.append(try await matter.matte(scene.image, trimap: scene.trimap).matte) }
        let together = try await withThrowingTaskGroup(of: (Int, Image).self) { group in
            for (i, scene) in scenes.enumerated() {
                group.addTask { (i, try await matter.matte(scene.image, trimap: scene.trimap).matte) }
            }
            return try await group.reduce(into: [Int: Image]()) { $0[$1.0] = $1.1 }
        }
        for i in scenes.indices { #expect(together[i] == alone[i], "photo \(i)") }
    }
}
