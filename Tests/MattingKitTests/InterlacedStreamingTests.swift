import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingTestSupport

/// Interlaced (Adam7) PNGs through the strip path, from files (`matte(fileAt:)`) and from
/// memory (`matte(encoded:)`): their passes are decoded once into a spill file
/// (`InterlacedPNGSpill`) that both passes read their rows from, and the outputs must be byte
/// for byte the whole-picture path's.
///
/// Tolerance: none, as in `StreamingMatteTests`. The inputs are written by `TestPNG`
/// (independent of libpng); their whole decode is checked against the picture they were made from.
@Suite("Matter: interlaced PNGs in strips", .serialized)
struct InterlacedStreamingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, layout: PixelLayout, orientation: Int?, fromMemory: Bool, studio: Bool
        /// Reduced to ``StreamingMatteTests/reducing``'s working size.
        var reduced = false
        var testDescription: String {
            "\(width)×\(height) \(layout)\(orientation.map { " EXIF \($0)" } ?? "") \(fromMemory ? "memory" : "file")\(studio ? " studio" : "")"
                + (reduced ? " to 640 px" : "")
        }
    }

    static let cases: [Case] = [
        Case(width: 700, height: 530, layout: .rgb, orientation: nil, fromMemory: false, studio: true),
        Case(width: 700, height: 530, layout: .rgb, orientation: nil, fromMemory: true, studio: true),
        Case(width: 531, height: 697, layout: .rgba, orientation: nil, fromMemory: false, studio: true),
        Case(width: 603, height: 451, layout: .gray, orientation: nil, fromMemory: true, studio: true),
        // Turned (spill file) from a file and from memory, mirrored from memory.
        Case(width: 530, height: 700, layout: .rgb, orientation: 6, fromMemory: false, studio: true),
        Case(width: 700, height: 530, layout: .rgb, orientation: 2, fromMemory: true, studio: true),
        Case(width: 700, height: 530, layout: .rgb, orientation: 3, fromMemory: true, studio: true),
        // Reduced for the network: streamed resize, guided upsampling, foreground correction.
        Case(width: 1000, height: 1100, layout: .rgb, orientation: nil, fromMemory: false, studio: false, reduced: true),
    ]

    @Test(arguments: cases)
    func interlacedPhotosStreamWithTheWholePicturesBytes(_ c: Case) async throws {
        try await LargeMemoryTests.exclusively {
            let upright = StreamingMatteTests.scene(width: c.width, height: c.height, layout: c.layout)
            let stored = c.orientation.map { OrientedFiles.stored(upright, orientation: $0) } ?? upright
            let bytes = TestPNG.interlaced(stored, exifOrientation: c.orientation)
            let photo = try Image(decoding: bytes)
            #expect(photo.converted(to: c.layout) == upright, "the fixture does not decode to its picture")
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            if c.reduced { options.inputPolicy = StreamingMatteTests.reducing }
            let studio = c.studio ? StudioTrimap() : nil
            let whole = c.studio ? try await matter.studioMatte(photo, options: options) : try await matter.matte(photo, options: options)
            let wholeCutout = try whole.cutoutPNG(threads: 2), wholeMask = try whole.matte.encoded(as: .png)

            let cutout: [UInt8], mask: [UInt8]
            if c.fromMemory {
                let streamed = try await matter.matte(
                    encoded: bytes, writing: EncodedOutputs(cutout: .png, mask: .png), options: options, studio: studio, stripsAbove: 0)
                // An upload turned or flipped (3–8) streams through the spill file, as a file does.
                #expect(streamed.isStreamed)
                #expect(streamed.width == c.width && streamed.height == c.height)
                cutout = try #require(streamed.cutout)
                mask = try #require(streamed.mask)
            } else {
                let dir = try ProgramRunner.folder()
                let input = dir.appendingPathComponent("photo.png")
                try Data(bytes).write(to: input)
                let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
                let streamed = try await matter.matte(fileAt: input, writing: outputs, options: options, studio: studio, stripsAbove: 0)
                #expect(streamed.isStreamed)
                #expect(streamed.width == c.width && streamed.height == c.height)
                cutout = try [UInt8](Data(contentsOf: outputs.cutout))
                mask = try [UInt8](Data(contentsOf: try #require(outputs.mask)))
                #expect(ProgramRunner.files(in: dir) == ["cutout.png", "mask.png", "photo.png"])
            }
            #expect(mask == wholeMask, "mask differs")
            #expect(cutout == wholeCutout, "cut-out differs")
            // Not vacuous: the studio matte finds the drawn subject, upright; the network's is not empty.
            let alpha = try Image(decoding: mask)
            if c.studio {
                #expect(alpha[c.width / 2, c.height * 3 / 4, 0] > 200 && alpha[2, 2, 0] < 30,
                        "subject \(alpha[c.width / 2, c.height * 3 / 4, 0]), backdrop \(alpha[2, 2, 0])")
            } else {
                var values = Set<UInt8>()
                for y in stride(from: 0, to: c.height, by: 7) { for x in stride(from: 0, to: c.width, by: 7) { values.insert(alpha[x, y, 0]) } }
                #expect(values.count > 10, "the matte holds only \(values.sorted())")
            }
        }
    }

    /// Cut short, or damaged in pass 5's data: the typed error naming the file (or `<memory>`),
    /// as on the whole path, and nothing written.
    @Test func damagedInterlacedInputFailsAndWritesNothing() async throws {
        let good = TestPNG.interlaced(StreamingMatteTests.scene(width: 600, height: 450))
        var flipped = good
        flipped[good.count * 3 / 16] ^= 0x10
        let dir = try ProgramRunner.folder()
        for (name, bytes) in [("cut.png", Array(good.prefix(good.count * 3 / 4))), ("flipped.png", flipped)] {
            let input = dir.appendingPathComponent(name)
            try Data(bytes).write(to: input)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("out.png"), mask: dir.appendingPathComponent("mask.png"))
            let wholeError = try #require(throws: ImageError.self) { _ = try Image(contentsOf: input) }
            do {
                _ = try await Matter(threads: 2).matte(fileAt: input, writing: outputs, studio: StudioTrimap(), stripsAbove: 0)
                Issue.record("\(name): no error")
            } catch let error as ImageError {
                #expect(error == wholeError)
                #expect("\(error)".contains(name), "\(error)")
            }
            #expect(!ProgramRunner.files(in: dir).contains { $0.hasPrefix("out") || $0.hasPrefix("mask") || $0.hasPrefix(".") },
                    "\(ProgramRunner.files(in: dir))")
            do {
                _ = try await Matter(threads: 2).matte(encoded: bytes, studio: StudioTrimap(), stripsAbove: 0)
                Issue.record("\(name) from memory: no error")
            } catch let error as ImageError {
                #expect(error == (try #require(throws: ImageError.self) { _ = try Image(decoding: bytes) }))
                #expect("\(error)".contains("<memory>"), "\(error)")
            }
        }
    }

    /// The descriptors this process holds open on `path` (Linux: /proc/self/fd).
    static func openDescriptors(to path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0 == path }.count
    }

    /// Cancelled while the passes are decoded into their spill (`prepare`) or while pass 2
    /// writes the strips (`upsample`): `CancellationError`, no output, and neither the input
    /// nor a spill file left open. The file is decoded once, in `prepare`, through one
    /// descriptor; pass 2 reads the spilled passes: while it runs, the input is not open and a
    /// spill file is.
    @Test(arguments: [MattingProgress.Stage.prepare, .upsample])
    func cancellationLeavesNothingOpenOrWritten(_ stage: MattingProgress.Stage) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.png")
            try Data(TestPNG.interlaced(StreamingMatteTests.scene(width: 1500, height: 2000))).write(to: input)
            let path = input.resolvingSymlinksInPath().path
            let matter = try Matter(threads: 2)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let spillsBefore = StreamingMatteTests.openSpillFiles()
            let started = Mutex(false)
            let task = Task {
                try await matter.matte(
                    fileAt: input, writing: outputs, options: MattingOptions(inputPolicy: StreamingMatteTests.reducing),
                    studio: StudioTrimap(), stripsAbove: 0, progress: { progress in
                    if progress.stage == stage { started.withLock { $0 = true } }
                })
            }
            // Cancelled once the stage has begun: `prepare` decodes the file (open once, or
            // closed already if it has been decoded) into the spill; pass 2 reads the spill
            // file, the input closed.
            let most = stage == .prepare ? 1 : 0
            let clock = ContinuousClock(), deadline = clock.now + .seconds(120)
            var open = -1, spills: [String] = []
            while clock.now < deadline {
                open = Self.openDescriptors(to: path)
                spills = StreamingMatteTests.openSpillFiles().filter { !spillsBefore.contains($0) }
                if started.withLock({ $0 }) && open <= most && !spills.isEmpty { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(open <= most, "open descriptors on the input: \(open)")
            #expect(!spills.isEmpty, "no spill file open")
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(Self.openDescriptors(to: path) == 0)
            let left = await StreamingMatteTests.spillFilesLeftOpen(besides: spillsBefore)
            #expect(left.isEmpty, "left open: \(left)")
            #expect(ProgramRunner.files(in: dir) == ["photo.png"], "\(ProgramRunner.files(in: dir))")
        }
    }
}
