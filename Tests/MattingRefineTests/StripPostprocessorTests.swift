import MattingThreads
import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

/// `StripPostprocessor` fed as the strip path feeds it (strips of rows in order, each with
/// only its own rows and halo of the matte and the photo) against the whole-picture
/// `appliedQuantized(to:guide:)` with the photo converted to float as the guide. Byte for
/// byte, for guided filters (alone, chained with banded steps, twice, radius 0, radii above
/// and below the box filter's direct-sum limit of 8) and erosion/dilation wider than 8 px.
@Suite struct StripPostprocessorTests {
    static let chains: [(String, MatteOperations)] = [
        ("guided 8", [MatteOperation.guidedFilter(radius: 8, epsilon: 1e-4)]),
        ("portrait + guided 3", MatteOperations.portrait.appending(.guidedFilter(radius: 3, epsilon: 1e-3))),
        ("guided 2, erode 12, guided 11 (running-sum rows)", [
            MatteOperation.guidedFilter(radius: 2, epsilon: 1e-2), .erode(radius: 12), .guidedFilter(radius: 11, epsilon: 1e-4),
        ]),
        ("threshold, guided 0, feather", [MatteOperation.threshold(20), .guidedFilter(radius: 0, epsilon: 1), .feather]),
        ("erode 9", [MatteOperation.erode(radius: 9)]),
        ("dilate 20, feather, erode 13", [MatteOperation.dilate(radius: 20), .feather, .erode(radius: 13)]),
    ]

    /// A soft-edged disc with noise, and a photo whose colours follow it (so the guided
    /// filter has edges to follow), plus noise.
    static func scene(_ w: Int, _ h: Int, seed: UInt64) -> (matte: FloatImage, photo: Image) {
        var rng = SeededGenerator(seed: seed)
        let noise = rng.floats(w * h, in: 0...1)
        let matte = FloatImage(width: w, height: h, layout: .gray) { x, y, _ in
            let dx = Float(x) - Float(w) / 2, dy = Float(y) - Float(h) / 2
            let d = (dx * dx + dy * dy).squareRoot() / (Float(min(w, h)) * 0.35)
            let base: Float = d < 0.8 ? 1 : (d > 1.2 ? 0 : (1.2 - d) / 0.4)
            return min(1, max(0, base + (noise[y * w + x] - 0.5) * 0.3))
        }
        let photo = Image(width: w, height: h, layout: .rgb) { x, y, c in
            let a = matte[x, y, 0]
            let v = a * [200, 120, 60][c] + (1 - a) * [30, 90, 220][c] + noise[(y * w + x + c * 7) % (w * h)] * 40
            return UInt8(min(255, max(0, v)))
        }
        return (matte, photo)
    }

    /// The strip path's loop: strips of `strip` rows, each given the matte's and the photo's
    /// rows `[s0 − halo, s1 + halo)` ∩ picture, copied into buffers of their own (so a read
    /// outside them would be caught by a wrong value or the address sanitizer, not hidden).
    static func streamed(_ post: StripPostprocessor, matte: FloatImage, photo: Image, strip: Int, pool: ThreadPool) -> [UInt8] {
        let w = matte.width, h = matte.height, halo = post.halo
        var out = [UInt8](repeating: 0, count: w * h)
        let alpha = matte.packedComponents, rgb = photo.packedComponents
        for s0 in stride(from: 0, to: h, by: strip) {
            let s1 = min(h, s0 + strip), a0 = max(0, s0 - halo), a1 = min(h, s1 + halo)
            let rows = Array(alpha[(a0 * w)..<(a1 * w)]), guide = Array(rgb[(a0 * w * 3)..<(a1 * w * 3)])
            rows.withUnsafeBufferPointer { rows in
                guide.withUnsafeBufferPointer { guide in
                    out.withUnsafeMutableBufferPointer { out in
                        post.rows(s0..<s1, source: rows.baseAddress!, sourceFirstRow: a0, sourceStride: w, width: w, height: h,
                                  into: out.baseAddress! + s0 * w, firstRow: s0, stride: w, guide: guide.baseAddress!,
                                  guideFirstRow: a0, guideStride: w * 3, pool: pool)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: [(1, 1), (5, 3), (37, 70), (130, 129), (61, 300), (200, 517)])
    func stripsMatchTheWholePicture(_ size: (Int, Int)) throws {
        let (w, h) = size
        let (matte, photo) = Self.scene(w, h, seed: UInt64(w * 977 + h))
        let guide = photo.converted(to: FloatImage.self)
        for (name, operations) in Self.chains {
            let whole = try operations.appliedQuantized(to: matte, guide: guide).packedComponents
            // Not vacuous: the step changed the matte.
            if w * h > 1000 { #expect(whole != quantizedMatte(matte).packedComponents, "\(name) did nothing") }
            for (strip, threads) in [(64, 1), (128, 3), (256, 2)] {
                let post = try #require(try StripPostprocessor(operations), "\(name) has no strip form")
                let ours = Self.streamed(post, matte: matte, photo: photo, strip: strip, pool: ThreadPool(threadCount: threads))
                #expect(ours == whole, "\(name) \(w)×\(h) strips of \(strip), \(threads) threads")
            }
        }
    }

    /// Wide erosion and dilation take the banded chain now: the whole-plane path's bytes.
    @Test(arguments: [(9, 40, 33), (12, 300, 200), (31, 70, 129)])
    func wideMorphologyIsBanded(_ c: (Int, Int, Int)) throws {
        let (radius, w, h) = c
        let (matte, _) = Self.scene(w, h, seed: UInt64(radius))
        for operations in [MatteOperations([MatteOperation.erode(radius: radius)]),
                           MatteOperations([MatteOperation.feather, .dilate(radius: radius), .threshold(40)])] {
            #expect(try operations.bandedSteps() != nil)
            let slow = quantizedMatte(try operations.applied(to: matte)).packedComponents
            for (bandRows, threads) in [(1, 1), (16, 2), (64, 3)] {
                let fast = try operations.appliedQuantized(to: matte, bandRows: bandRows, pool: ThreadPool(threadCount: threads))
                #expect(fast.packedComponents == slow, "\(operations.steps) \(w)×\(h) bands \(bandRows) threads \(threads)")
            }
        }
    }

    /// A guided filter's parameter errors are thrown when the postprocessor is made, as
    /// `applied(to:)` throws them.
    @Test func guidedFilterParametersAreChecked() throws {
        for op in [MatteOperation.guidedFilter(radius: -1, epsilon: 1e-3), .guidedFilter(radius: 4, epsilon: 0),
                   .guidedFilter(radius: 0, epsilon: .nan)] {
            let (matte, photo) = Self.scene(8, 8, seed: 1)
            var wholeError = ""
            do { _ = try MatteOperations([op]).applied(to: matte, guide: photo.converted(to: FloatImage.self)) } catch { wholeError = "\(error)" }
            do {
                _ = try StripPostprocessor(MatteOperations([op]))
                Issue.record("\(op): no error")
            } catch {
                #expect("\(error)" == wholeError)
            }
        }
    }
}
