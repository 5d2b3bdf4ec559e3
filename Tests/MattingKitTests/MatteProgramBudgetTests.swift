import Foundation
import MattingKit
import MattingTestSupport
import Testing

/// The thread budget and memory of whole runs, measured by the `matte` program on itself
/// (`--timings` prints the process's CPU time and resident memory), in a process of its own so
/// that the other tests running meanwhile do not count.
@Suite("matte program: thread budget and memory")
struct MatteProgramBudgetTests {
    /// One `--timings` line's figures.
    struct Line {
        let wallMilliseconds: Double
        let cpuMilliseconds: Double
        let residentMiB: Double

        init?(_ text: Substring) {
            func number(after key: String) -> Double? {
                guard let range = text.range(of: key) else { return nil }
                let rest = text[range.upperBound...].drop { $0 == " " }
                return Double(rest.prefix { $0.isNumber || $0 == "." })
            }
            guard let wall = number(after: "wall "), let cpu = number(after: "process cpu "), let rss = number(after: ", rss ")
            else { return nil }
            wallMilliseconds = wall
            cpuMilliseconds = cpu
            residentMiB = rss
        }
    }

    /// A 1200×900 photo and trimap in a new folder.
    static func photo() throws -> (folder: URL, photo: URL, trimap: URL) {
        let dir = try ProgramRunner.folder()
        let (photo, trimap) = MatterConcurrencyTests.largeScene(width: 1200, height: 900)
        let photoURL = dir.appendingPathComponent("photo.png"), trimapURL = dir.appendingPathComponent("trimap.png")
        try photo.write(to: photoURL)
        try trimap.write(to: trimapURL)
        return (dir, photoURL, trimapURL)
    }

    /// `threads: 1` uses one core: the process's CPU time stays within a generous margin of
    /// its wall time over the whole run (start-up, decode, model, solve, encode). With two
    /// threads the same run may use more CPU than wall time (not asserted: a loaded machine
    /// can hide it).
    @Test func oneThreadUsesOneCore() throws {
        let (dir, photo, _) = try Self.photo()
        let run = try ProgramRunner.run("matte", [photo.path, "-o", dir.appendingPathComponent("out.png").path,
                                                   "--save-mask", dir.appendingPathComponent("mask.png").path,
                                                   "--threads", "1", "--timings", "--repeat", "3"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = run.errorLines.compactMap(Line.init)
        #expect(lines.count == 3, "stderr: \(run.stderr)")
        let wall = lines.reduce(0) { $0 + $1.wallMilliseconds }
        let cpu = try #require(lines.last).cpuMilliseconds
        // CPU counts from process start, wall only the three jobs: start-up (model load,
        // library set-up) is on the CPU side alone, hence the slack on top of the ratio.
        #expect(cpu <= wall * 1.25 + 250, "process CPU \(cpu) ms over \(wall) ms of jobs on one thread")
    }

    /// Repeated mattes in one process reuse their memory: after 100 runs on the default model
    /// the resident size is within 10 % of its size after the 10th.
    @Test func repeatedMattesKeepMemoryFlat() throws {
        let dir = try ProgramRunner.folder()
        // Small, so that 100 runs of the debug build stay quick: the network's cost and its
        // sessions are the same at any photo size (it always sees 256×256).
        let scene = SyntheticComposite(width: 64, height: 48, seed: 5)
        let photo = dir.appendingPathComponent("photo.png")
        try scene.image.write(to: photo)
        let run = try ProgramRunner.run("matte", [photo.path, "-o", dir.appendingPathComponent("out.png").path,
                                                   "--threads", "2", "--timings", "--repeat", "100"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = run.errorLines.compactMap(Line.init)
        try #require(lines.count == 100, "stderr: \(run.stderr.prefix(500))")
        let tenth = lines[9].residentMiB, last = lines[99].residentMiB
        let peakAfterTenth = lines[9...].map(\.residentMiB).max() ?? 0
        #expect(last <= tenth * 1.1 && peakAfterTenth <= tenth * 1.1, "RSS after 10 runs \(tenth) MiB, after 100 \(last) MiB, peak \(peakAfterTenth) MiB")
    }
}
