import Foundation
import Synchronization
import Testing
@testable import MattingKit
import MattingTestSupport

/// `Matter.matte(fileAt:writing:)`: the photo decoded, matted and written in strips of rows.
///
/// Tolerance: none. Every full-size value is computed by the same arithmetic as the
/// whole-picture path (the same resampling taps and sums, exact integer guide averages, the
/// same per-row upsampling, banded post-processing and foreground correction, and the PNG
/// encoder's own bands), so the files must be byte-identical to encoding the whole-picture
/// result.
@Suite("Matter: strip processing", .serialized)
struct StreamingMatteTests {
    /// A head-and-shoulders silhouette (textured, warm colours) on a plain light backdrop with
    /// a little noise, `width × height`: made at a quarter of the size and upscaled (cheap at
    /// tens of megapixels). The studio path finds it from the backdrop, the network as a person.
    static func scene(width: Int, height: Int, layout: PixelLayout = .rgb) -> Image {
        let w = max(8, width / 4), h = max(8, height / 4)
        let small = Image(width: w, height: h, layout: .rgb) { x, y, c in
            let u = (Double(x) + 0.5) / Double(w), v = (Double(y) + 0.5) / Double(h)
            let head = pow((u - 0.5) / 0.16, 2) + pow((v - 0.32) / 0.14, 2) < 1
            let body = v > 0.5 && pow((u - 0.5) / 0.38, 2) + pow((v - 1.05) / 0.55, 2) < 1
            let noise = Double((x &* 7919 &+ y &* 104_729 &+ c &* 31) % 7) - 3
            if head || body {
                let base = head ? [205.0, 150.0, 120.0][c] : [40.0, 60.0, 140.0][c]
                return UInt8(min(max(base + Double((x / 3 + y / 5) % 4) * 6 + noise, 0), 255))
            }
            return UInt8(min(max([228.0, 230.0, 226.0][c] + noise, 0), 255))
        }
        return small.resized(width: width, height: height, filter: .bilinear).converted(to: layout)
    }

    /// A small working size (at most 640 px a side): photos of about a megapixel are then
    /// reduced (streamed resize, guided upsampling, foreground correction at full size) as
    /// photos of tens of megapixels are by default, at a fraction of the test's time.
    static let reducing = InputPolicy(maximumSide: 640, workingShortSide: 480)

    struct Case: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, format: ImageFormat, layout: PixelLayout, studio: Bool, foreground: Bool
        /// Reduced to ``StreamingMatteTests/reducing``'s working size instead of the default's.
        var reduced = false
        var testDescription: String {
            "\(width)×\(height) \(layout) \(format)\(studio ? " studio" : "")\(foreground ? "" : " no foreground")"
                + (reduced ? " to 640 px" : "")
        }
    }

    /// The two sizes issue 15 names with the default working size (1200×1800 is not reduced,
    /// 4000×3000 is), then smaller photos reduced to a small working size.
    static let cases: [Case] = [
        // Not reduced (short side ≤ 1600): the working copy is the photo.
        Case(width: 1200, height: 1800, format: .png, layout: .rgb, studio: false, foreground: true),
        Case(width: 800, height: 1100, format: .jpeg, layout: .rgb, studio: true, foreground: true),
        // Reduced: streamed resize, guided upsampling, foreground correction.
        Case(width: 4000, height: 3000, format: .jpeg, layout: .rgb, studio: false, foreground: true),
        Case(width: 1100, height: 800, format: .png, layout: .rgb, studio: true, foreground: false, reduced: true),
        // Other layouts are converted to RGB strip by strip; a height that is no multiple of a strip.
        Case(width: 1200, height: 867, format: .png, layout: .gray, studio: false, foreground: true, reduced: true),
        Case(width: 889, height: 1201, format: .png, layout: .rgba, studio: false, foreground: true, reduced: true),
    ]

    @Test(arguments: cases)
    func stripsAreByteIdenticalToTheWholePicture(_ c: Case) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent(c.format == .png ? "photo.png" : "photo.jpg")
            try Self.scene(width: c.width, height: c.height, layout: c.layout).write(to: input)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.estimatesForeground = c.foreground
            if c.reduced { options.inputPolicy = Self.reducing }
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let streamed = try await matter.matte(
                fileAt: input, writing: outputs, options: options, studio: c.studio ? StudioTrimap() : nil, stripsAbove: 0)
            #expect(streamed.isStreamed)
            #expect(streamed.width == c.width && streamed.height == c.height)

            let photo = try Image(contentsOf: input)
            let whole = c.studio ? try await matter.studioMatte(photo, options: options) : try await matter.matte(photo, options: options)
            let cutout = try [UInt8](Data(contentsOf: outputs.cutout))
            let mask = try [UInt8](Data(contentsOf: try #require(outputs.mask)))
            #expect(mask == (try whole.matte.encoded(as: .png)), "mask differs")
            #expect(cutout == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
            // Not vacuous: the subject is there and the background is gone.
            // Not vacuous. The studio cases find the subject from the plain backdrop: a real
            // matte through the full-size path. The selfie network sees no person in the drawn
            // silhouette and gives a faint matte, but not an empty one: the working copy it was
            // given, and every full-size step after, are still checked byte for byte.
            let alpha = try Image(contentsOf: try #require(outputs.mask))
            if c.studio {
                #expect(alpha[c.width / 2, c.height * 3 / 4, 0] > 200 && alpha[2, 2, 0] < 30,
                        "subject \(alpha[c.width / 2, c.height * 3 / 4, 0]), backdrop \(alpha[2, 2, 0])")
            } else {
                var values = Set<UInt8>()
                alpha.withUnsafeBufferPointer { p, stride in
                    for y in 0..<c.height { for x in 0..<c.width { values.insert(p[y * stride + x]) } }
                }
                #expect(values.count > 10, "the matte holds only \(values.sorted())")
            }
            #expect(ProgramRunner.files(in: dir).sorted() == ["cutout.png", "mask.png", input.lastPathComponent].sorted())
        }
    }

    /// A JPEG cut-out is composited and encoded strip by strip: the same bytes as the
    /// whole-picture result composited over the background and encoded, at the photo's size
    /// and reduced (to ``reducing``'s working size: guided upsampling and foreground correction).
    @Test(arguments: [false, true])
    func jpegCutoutIsStreamedWithTheWholePicturesBytes(_ reduced: Bool) async throws {
        let size = reduced ? (1200, 900) : (900, 700)
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.png")
            try Self.scene(width: size.0, height: size.1).write(to: input)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            options.background = RGBColor(red: 10, green: 200, blue: 30)
            if reduced { options.inputPolicy = Self.reducing }
            let outputs = StreamedOutputs(
                cutout: dir.appendingPathComponent("cutout.jpg"), format: .jpeg, mask: dir.appendingPathComponent("mask.png"))
            // The studio matte finds the drawn subject, so the checks below mean something.
            let streamed = try await matter.matte(
                fileAt: input, writing: outputs, options: options, studio: StudioTrimap(), stripsAbove: 0)
            #expect(streamed.isStreamed)
            let whole = try await matter.studioMatte(try Image(contentsOf: input), options: options)
            let expected = try whole.composited(over: options.background).encoded(as: .jpeg)
            #expect(try [UInt8](Data(contentsOf: outputs.cutout)) == expected, "\(size.0)×\(size.1): cut-out differs")
            #expect(try [UInt8](Data(contentsOf: try #require(outputs.mask))) == (try whole.matte.encoded(as: .png)))
            // Not vacuous: a JPEG of the photo's size, the background colour in the corner, the
            // subject's blue body below the middle.
            let decoded = try Image(contentsOf: outputs.cutout)
            #expect(decoded.width == size.0 && decoded.height == size.1)
            #expect(decoded[2, 2, 1] > 150 && decoded[2, 2, 0] < 60, "corner \(decoded[2, 2, 0]), \(decoded[2, 2, 1])")
            let body = (decoded[size.0 / 2, size.1 * 3 / 4, 0], decoded[size.0 / 2, size.1 * 3 / 4, 2])
            #expect(body.1 > 100 && body.0 < 90, "body \(body)")
        }
    }

    struct OrientedCase: Sendable, CustomTestStringConvertible {
        let orientation: Int, format: ImageFormat, width: Int, height: Int, studio: Bool
        /// Reduced to ``StreamingMatteTests/reducing``'s working size.
        var reduced = false
        var testDescription: String {
            "EXIF orientation \(orientation), \(format), upright \(width)×\(height)\(studio ? " studio" : "")\(reduced ? " to 640 px" : "")"
        }
    }

    /// Every orientation in a JPEG (APP1 EXIF) and a PNG (eXIf); sizes that are no multiple of
    /// a strip or a spill tile; and a photo large enough to be reduced (guided upsampling and
    /// foreground correction from the spilled rows).
    static let orientedCases: [OrientedCase] = (1...8).flatMap { o in
        [OrientedCase(orientation: o, format: .jpeg, width: 700, height: 530, studio: true),
         OrientedCase(orientation: o, format: .png, width: 530, height: 700, studio: true)]
    } + [OrientedCase(orientation: 6, format: .jpeg, width: 1000, height: 850, studio: false, reduced: true),
         OrientedCase(orientation: 3, format: .png, width: 850, height: 1000, studio: true, reduced: true)]

    /// The photo as the files of unlinked spills this process holds open in the temporary
    /// directory (Linux: /proc/self/fd; `O_TMPFILE` files show as `#inode (deleted)`).
    static func openSpillFiles() -> [String] {
        let directory = FileManager.default.temporaryDirectory.standardizedFileURL.path
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }.filter {
            let url = URL(fileURLWithPath: $0)
            let name = url.lastPathComponent
            return url.deletingLastPathComponent().standardizedFileURL.path == directory
                && (name.hasPrefix("#") || name.hasPrefix(".mattingkit-spill-"))
        }
    }

    /// The spill files open now that were not open `before`, once spills of tests running
    /// meanwhile in other suites (this process runs them side by side) have had up to 30 s to
    /// close: a spill the caller's own run left open stays, so a non-empty answer is a leak.
    static func spillFilesLeftOpen(besides before: [String]) async -> [String] {
        let clock = ContinuousClock(), deadline = clock.now + .seconds(30)
        while true {
            let left = openSpillFiles().filter { !before.contains($0) }
            if left.isEmpty || clock.now >= deadline { return left }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A photo with an EXIF orientation goes through in strips (orientation 2 mirrored row by
    /// row, 3–8 through the temporary spill file), with the bytes of the whole-picture path
    /// (which decodes and turns the photo upright first); the spill file is open while the
    /// strips are written, and gone afterwards.
    @Test(arguments: orientedCases)
    func orientedPhotosStreamWithTheWholePicturesBytes(_ c: OrientedCase) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent(c.format == .png ? "photo.png" : "photo.jpg")
            let upright = Self.scene(width: c.width, height: c.height)
            try Data(try OrientedFiles.file(upright, orientation: c.orientation, format: c.format)).write(to: input)
            let matter = try Matter(threads: 2)
            var options = MattingOptions()
            if c.reduced { options.inputPolicy = Self.reducing }
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let seen = Mutex<[String]?>(nil)
            let before = Self.openSpillFiles()
            let streamed = try await matter.matte(
                fileAt: input, writing: outputs, options: options, studio: c.studio ? StudioTrimap() : nil, stripsAbove: 0,
                progress: { progress in
                    if progress.stage == .upsample { seen.withLock { if $0 == nil { $0 = Self.openSpillFiles() } } }
                })
            #expect(streamed.isStreamed)
            #expect(streamed.width == c.width && streamed.height == c.height)
            let during = try #require(seen.withLock { $0 })
            #expect(during.count - before.count == (c.orientation >= 3 ? 1 : 0), "open spill files: \(during)")
            let left = await Self.spillFilesLeftOpen(besides: before)
            #expect(left.isEmpty, "left open: \(left)")

            let photo = try Image(contentsOf: input)
            #expect(photo.width == c.width && photo.height == c.height)
            let whole = c.studio ? try await matter.studioMatte(photo, options: options) : try await matter.matte(photo, options: options)
            #expect(try [UInt8](Data(contentsOf: try #require(outputs.mask))) == (try whole.matte.encoded(as: .png)), "mask differs")
            #expect(try [UInt8](Data(contentsOf: outputs.cutout)) == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
            // Not vacuous: the studio matte finds the subject where the upright picture has it
            // (the body, below the middle) and not in the backdrop's corner.
            if c.studio {
                let alpha = try Image(contentsOf: try #require(outputs.mask))
                #expect(alpha[c.width / 2, c.height * 3 / 4, 0] > 200 && alpha[2, 2, 0] < 30,
                        "subject \(alpha[c.width / 2, c.height * 3 / 4, 0]), backdrop \(alpha[2, 2, 0])")
            }
            #expect(ProgramRunner.files(in: dir).sorted() == ["cutout.png", "mask.png", input.lastPathComponent].sorted())
        }
    }

    struct EnhanceCase: Sendable, CustomTestStringConvertible {
        let orientation: Int, format: ImageFormat, width: Int, height: Int, layout: PixelLayout, studio: Bool
        /// Reduced to ``StreamingMatteTests/reducing``'s working size.
        var reduced = false
        var testDescription: String {
            "EXIF orientation \(orientation), \(layout) \(format), upright \(width)×\(height)\(studio ? " studio" : "")"
                + (reduced ? " to 640 px" : "")
        }
    }

    /// Pre-enhance (`MattingOptions.enhance`) goes through in strips, with the bytes of the
    /// whole-picture path (which enhances the whole RGB photo): reduced and not, a gray photo
    /// (enhanced as RGB), a photo mirrored row by row (2) and one through the spill file (6).
    @Test(arguments: [
        EnhanceCase(orientation: 1, format: .png, width: 1200, height: 867, layout: .gray, studio: false, reduced: true),
        EnhanceCase(orientation: 1, format: .jpeg, width: 1100, height: 900, layout: .rgb, studio: true),
        EnhanceCase(orientation: 2, format: .png, width: 700, height: 530, layout: .rgb, studio: true),
        EnhanceCase(orientation: 6, format: .jpeg, width: 1000, height: 850, layout: .rgb, studio: true, reduced: true),
    ])
    func enhancedPhotosStreamWithTheWholePicturesBytes(_ c: EnhanceCase) async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent(c.format == .png ? "photo.png" : "photo.jpg")
            let upright = Self.scene(width: c.width, height: c.height, layout: c.layout)
            if c.orientation == 1 {
                try upright.write(to: input)
            } else {
                try Data(try OrientedFiles.file(upright, orientation: c.orientation, format: c.format)).write(to: input)
            }
            let matter = try Matter(threads: 2)
            var options = MattingOptions(enhance: true)
            if c.reduced { options.inputPolicy = Self.reducing }
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let fractions = Mutex<[Double]>([])
            let streamed = try await matter.matte(
                fileAt: input, writing: outputs, options: options, studio: c.studio ? StudioTrimap() : nil, stripsAbove: 0,
                progress: { progress in fractions.withLock { $0.append(progress.fraction) } })
            #expect(streamed.isStreamed)
            #expect(streamed.width == c.width && streamed.height == c.height)
            let seen = fractions.withLock { $0 }
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 } && seen.last == 1, "progress \(seen)")

            let photo = try Image(contentsOf: input)
            let whole = c.studio ? try await matter.studioMatte(photo, options: options) : try await matter.matte(photo, options: options)
            #expect(try [UInt8](Data(contentsOf: try #require(outputs.mask))) == (try whole.matte.encoded(as: .png)), "mask differs")
            #expect(try [UInt8](Data(contentsOf: outputs.cutout)) == (try whole.cutoutPNG(threads: 2)), "cut-out differs")
            // Not vacuous: the enhancement changes this photo.
            #expect(try Enhancement().applied(to: photo.converted(to: .rgb)) != photo.converted(to: .rgb))
            #expect(ProgramRunner.files(in: dir).sorted() == ["cutout.png", "mask.png", input.lastPathComponent].sorted())
        }
    }

    /// Pre-enhance for an upload (`matte(encoded:)`), mirrored (2) and upright: in strips
    /// from memory with the whole-picture path's bytes for every output.
    @Test(arguments: [1, 2])
    func enhancedUploadsStreamWithTheWholePicturesBytes(_ orientation: Int) async throws {
        try await LargeMemoryTests.exclusively {
            let upright = Self.scene(width: 1200, height: 900)
            let bytes = try OrientedFiles.file(upright, orientation: orientation, format: .jpeg)
            let matter = try Matter(threads: 2)
            var options = MattingOptions(enhance: true)
            options.background = RGBColor(red: 10, green: 200, blue: 30)
            options.inputPolicy = Self.reducing
            let outputs = EncodedOutputs(cutout: .jpeg, mask: .png, colours: true)
            let streamed = try await matter.matte(
                encoded: bytes, writing: outputs, options: options, studio: StudioTrimap(), stripsAbove: 0)
            #expect(streamed.isStreamed)
            let whole = try await matter.studioMatte(try Image(decoding: bytes), options: options)
            #expect(streamed.cutout == (try whole.composited(over: options.background).encoded(as: .jpeg)), "cut-out differs")
            #expect(streamed.mask == (try whole.matte.encoded(as: .png)), "mask differs")
            #expect(streamed.colours == (try whole.foreground.encoded(as: .jpeg)), "colours differ")
        }
    }

    /// Bad input: a typed error naming the file, and nothing written.
    @Test func truncatedInputNamesTheFileAndWritesNothing() async throws {
        let dir = try ProgramRunner.folder()
        let good = dir.appendingPathComponent("good.jpg")
        try Self.scene(width: 1200, height: 900).write(to: good)
        let bytes = try Data(contentsOf: good)
        for (name, data) in [("cut.jpg", bytes.prefix(bytes.count / 2)), ("junk.png", Data("not a picture".utf8))] {
            let input = dir.appendingPathComponent(name)
            try data.write(to: input)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("out.png"), mask: dir.appendingPathComponent("mask.png"))
            do {
                _ = try await Matter(threads: 2).matte(fileAt: input, writing: outputs, stripsAbove: 0)
                Issue.record("\(name): no error")
            } catch let error as ImageError {
                #expect("\(error)".contains(name), "\(error)")
            }
            #expect(!ProgramRunner.files(in: dir).contains { $0.hasPrefix("out") || $0.hasPrefix("mask") || $0.hasPrefix(".") },
                    "\(ProgramRunner.files(in: dir))")
        }
    }

    /// A write that fails in the full-size pass (the mask's path is a folder) leaves
    /// neither output nor a temporary file; an earlier cut-out at the path is untouched.
    @Test func failedWriteLeavesNoPartialOutput() async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.jpg")
        try Self.scene(width: 1200, height: 900).write(to: input)
        let cutout = dir.appendingPathComponent("cutout.png")
        try Data("old".utf8).write(to: cutout)
        let mask = dir.appendingPathComponent("mask.png")
        try FileManager.default.createDirectory(at: mask, withIntermediateDirectories: false)
        await #expect(throws: ImageError.self) {
            _ = try await Matter(threads: 2).matte(fileAt: input, writing: StreamedOutputs(cutout: cutout, mask: mask), stripsAbove: 0)
        }
        #expect(try Data(contentsOf: cutout) == Data("old".utf8))
        #expect(ProgramRunner.files(in: dir).sorted() == ["cutout.png", "mask.png", "photo.jpg"], "\(ProgramRunner.files(in: dir))")
    }

    /// Cancelled while the full-size strips are being written: `CancellationError`, promptly,
    /// and no output or temporary file left.
    @Test func cancellationDuringTheStripsLeavesNothing() async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.jpg")
            try Self.scene(width: 1500, height: 2000).write(to: input)
            let matter = try Matter(threads: 2)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let started = Mutex(false)
            let task = Task {
                try await matter.matte(
                    fileAt: input, writing: outputs, options: MattingOptions(inputPolicy: Self.reducing), stripsAbove: 0,
                    progress: { progress in
                    if progress.stage == .upsample { started.withLock { $0 = true } }
                })
            }
            while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(ProgramRunner.files(in: dir) == ["photo.jpg"], "\(ProgramRunner.files(in: dir))")
        }
    }

    /// Cancelled as soon as the spill of a turned photo reports progress (the cancellation
    /// lands in the spill, or at the latest in pass 1 after it): `CancellationError`, no
    /// output, and the spill file closed.
    @Test func cancellationDuringTheSpillLeavesNothing() async throws {
        try await LargeMemoryTests.exclusively {
            let dir = try ProgramRunner.folder()
            let input = dir.appendingPathComponent("photo.jpg")
            try Data(try OrientedFiles.file(Self.scene(width: 1500, height: 2000), orientation: 6, format: .jpeg)).write(to: input)
            let matter = try Matter(threads: 2)
            let outputs = StreamedOutputs(cutout: dir.appendingPathComponent("cutout.png"), mask: dir.appendingPathComponent("mask.png"))
            let before = Self.openSpillFiles()
            let spilling = Mutex(false)
            let task = Task {
                try await matter.matte(
                    fileAt: input, writing: outputs, options: MattingOptions(inputPolicy: Self.reducing), stripsAbove: 0,
                    progress: { progress in
                    // The spill is the first half of `prepare`.
                    if progress.stage == .prepare && progress.fraction > 0 { spilling.withLock { $0 = true } }
                })
            }
            while !spilling.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            let left = await Self.spillFilesLeftOpen(besides: before)
            #expect(left.isEmpty, "left open: \(left)")
            #expect(ProgramRunner.files(in: dir) == ["photo.jpg"], "\(ProgramRunner.files(in: dir))")
        }
    }

    /// By default a photo of at most ``Matter/defaultStripThreshold`` pixels goes whole (one
    /// decode, the threaded encoder): same files as in strips.
    @Test func smallPhotosGoWholeByDefault() async throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("photo.png")
        try Self.scene(width: 300, height: 400).write(to: input)
        let matter = try Matter(threads: 2)
        let whole = StreamedOutputs(cutout: dir.appendingPathComponent("whole.png"), mask: dir.appendingPathComponent("whole-mask.png"))
        let strips = StreamedOutputs(cutout: dir.appendingPathComponent("strips.png"), mask: dir.appendingPathComponent("strips-mask.png"))
        let byDefault = try await matter.matte(fileAt: input, writing: whole, studio: StudioTrimap())
        let forced = try await matter.matte(fileAt: input, writing: strips, studio: StudioTrimap(), stripsAbove: 0)
        #expect(!byDefault.isStreamed && forced.isStreamed)
        #expect(try Data(contentsOf: whole.cutout) == Data(contentsOf: strips.cutout))
        #expect(try Data(contentsOf: dir.appendingPathComponent("whole-mask.png")) == Data(contentsOf: dir.appendingPathComponent("strips-mask.png")))
    }

    /// `matte --timings` says which path a photo took: below the threshold it is held whole.
    @Test func timingsNameThePathTaken() throws {
        let dir = try ProgramRunner.folder()
        let input = dir.appendingPathComponent("small.jpg")
        try Self.scene(width: 300, height: 200).write(to: input)
        for (extra, words) in [([String](), "whole, from and to files"), (["--strips-above", "0"], "streamed in strips")] {
            let run = try ProgramRunner.run("matte", [input.path, "-o", dir.appendingPathComponent("out.png").path, "--timings"] + extra)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stderr.contains(words), "\(extra): \(run.stderr)")
        }
    }

    /// Memory does not grow with the photo: the `matte` program's peak resident size, in a
    /// process of its own, for two photos of the same shape (the same working size), one with
    /// four times the pixels. Holding the larger photo whole would add at least its RGB copy,
    /// float matte, 8-bit matte and foreground, 11 bytes a pixel: 45 MiB more for these
    /// 4.3 million extra pixels (the whole-picture path measured 127 → 263 MiB from 4 to 16 MP).
    @Test func peakMemoryDoesNotGrowWithThePhoto() throws {
        let dir = try ProgramRunner.folder()
        var peaks: [Double] = []
        for (w, h) in [(600, 2400), (1200, 4800)] {
            let input = dir.appendingPathComponent("photo-\(w).jpg")
            try Self.scene(width: w, height: h).write(to: input)
            let run = try ProgramRunner.run("matte", [input.path, "-o", dir.appendingPathComponent("out-\(w).png").path,
                                                       "--save-mask", dir.appendingPathComponent("mask-\(w).png").path,
                                                       "--threads", "2", "--timings", "--strips-above", "0"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let line = try #require(run.errorLines.first { $0.contains("peak rss ") }, "stderr: \(run.stderr)")
            #expect(line.contains("streamed in strips"), "\(line)")
            let rest = try #require(line.range(of: "peak rss ")).upperBound
            peaks.append(try #require(Double(line[rest...].prefix { $0.isNumber || $0 == "." })))
        }
        #expect(peaks[1] - peaks[0] < 16, "peak resident MiB: \(peaks)")
    }
}

/// One at a time: tests that allocate hundreds of MB in the test process, and the test that
/// measures the test process's resident size (`MatterConcurrencyTests`), which the others
/// would disturb if they ran meanwhile.
actor LargeMemoryTests {
    static let lock = LargeMemoryTests()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    static func exclusively<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await lock.acquire()
        do {
            let value = try await body()
            await lock.release()
            return value
        } catch {
            await lock.release()
            throw error
        }
    }

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
