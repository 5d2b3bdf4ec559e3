import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

/// Pre-enhance row by row (`RowEnhancement`, `EnhancedRowSource`), for the strip path.
///
/// Tolerance: none. The row path counts the same tile histograms (integer counts, in another
/// order), builds the same mappings, and runs the same row kernels as
/// `Enhancement.applied(to:)`, so every byte must be the whole picture's.
@Suite("Pre-enhance row by row")
struct EnhancedRowsTests {
    /// The rows of a picture in memory, handed out in the batches the caller asks for.
    final class MemoryRows: ImageRowSource {
        let image: Image
        private var next = 0
        var path: String { "<test picture>" }
        var width: Int { image.width }
        var height: Int { image.height }
        var layout: PixelLayout { image.layout }

        init(_ image: Image) { self.image = image }

        func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
            precondition(count <= height - next && band.layout == layout && band.width == width && band.height >= count)
            let rowLength = width * layout.channelCount, first = next
            image.withUnsafeBufferPointer { src, srcStride in
                band.withUnsafeMutableBufferPointer { dst, dstStride in
                    for i in 0..<count { (dst + i * dstStride).update(from: src + (first + i) * srcStride, count: rowLength) }
                }
            }
            next += count
        }
    }

    /// Batch sizes for a picture `height` rows high: all at once, one row at a time, or
    /// random sizes from 1 to 40 (seeded).
    enum Batches: CaseIterable, Sendable {
        case whole, single, random
        func sizes(_ height: Int, seed: UInt64) -> [Int] {
            switch self {
            case .whole: return [height]
            case .single: return [Int](repeating: 1, count: height)
            case .random:
                var generator = SeededGenerator(seed: seed), sizes: [Int] = [], left = height
                while left > 0 {
                    let n = min(left, Int(generator.next() % 40) + 1)
                    sizes.append(n)
                    left -= n
                }
                return sizes
            }
        }
    }

    /// `picture` enhanced in `layout` by the two row passes, in the given batches.
    static func rowEnhanced(
        _ picture: Image, _ enhancement: Enhancement = Enhancement(), layout: PixelLayout? = nil,
        histogramBatches: [Int], readBatches: [Int], pool: ThreadPool = .serial
    ) throws -> Image {
        let layout = layout ?? picture.layout
        var rows = try RowEnhancement(enhancement, width: picture.width, height: picture.height, layout: layout)
        var y = 0
        for n in histogramBatches {
            // The band may hold more rows than are counted (as a prefetcher's buffer does).
            let band = picture.cropped(to: ImageRect(x: 0, y: y, width: picture.width, height: min(picture.height - y, n + 1)))
            rows.add(band, count: n, pool: pool)
            y += n
        }
        #expect(rows.isComplete)
        let source = rows.rows(from: MemoryRows(picture), pool: pool)
        #expect(source.layout == layout && source.width == picture.width && source.height == picture.height)
        var result = Image(width: picture.width, height: picture.height, layout: layout)
        var band = Image(width: picture.width, height: (readBatches.max() ?? 1) + 2, layout: layout)
        y = 0
        for n in readBatches {
            try source.readRows(n, into: &band)
            band.withUnsafeBufferPointer { src, srcStride in
                result.withUnsafeMutableBufferPointer { dst, dstStride in
                    for i in 0..<n {
                        (dst + (y + i) * dstStride).update(from: src + i * srcStride, count: picture.width * layout.channelCount)
                    }
                }
            }
            y += n
        }
        return result
    }

    /// Random pixels with some structure (so CLAHE has varied tiles): a gradient plus noise.
    static func randomPicture(width: Int, height: Int, layout: PixelLayout, seed: UInt64) -> Image {
        var generator = SeededGenerator(seed: seed)
        return Image(width: width, height: height, layout: layout) { x, y, c in
            let noise = Int(generator.next() % 90)
            return UInt8(clamping: (x * 5 + y * 3 + c * 40) % 160 + noise)
        }
    }

    @Test(arguments: ["big", "src", "gray_big", "lab8_sample_rgb"], Batches.allCases)
    func fixturesAreEnhancedWithTheWholePicturesBytes(name: String, batches: Batches) throws {
        let picture = try PreprocessFixture.image(name)
        let whole = try Enhancement().applied(to: picture)
        let rows = try Self.rowEnhanced(
            picture, histogramBatches: batches.sizes(picture.height, seed: 1), readBatches: batches.sizes(picture.height, seed: 2))
        #expect(rows == whole, "\(name): \(PreprocessFixture.difference(rows, whole))")
        // Split over three threads (more than the batches' rows at times): the same bytes.
        let threaded = try Self.rowEnhanced(
            picture, histogramBatches: batches.sizes(picture.height, seed: 3), readBatches: batches.sizes(picture.height, seed: 4),
            pool: ThreadPool(threadCount: 3))
        #expect(threaded == whole, "\(name) on 3 threads: \(PreprocessFixture.difference(threaded, whole))")
        // Not vacuous: the enhancement changed the picture.
        #expect(whole != picture)
    }

    /// Sizes with one row or column, smaller than the 8×8 grid, and no multiple of it; every
    /// layout; and the enhancement's variants (no CLAHE, no sharpen, another clip and grid,
    /// no clip).
    @Test(arguments: [(1, 1), (1, 9), (9, 1), (2, 2), (3, 5), (7, 13), (8, 8), (17, 3), (64, 1), (41, 67), (130, 97)],
          PixelLayout.allCases)
    func awkwardSizesAndLayoutsAreEnhancedWithTheWholePicturesBytes(size: (Int, Int), layout: PixelLayout) throws {
        let enhancements = [
            Enhancement(),
            Enhancement(clahe: nil, sharpen: true),
            Enhancement(clahe: CLAHE(), sharpen: false),
            Enhancement(clahe: CLAHE(clipLimit: 4, tilesX: 3, tilesY: 5), sharpen: true),
            Enhancement(clahe: CLAHE(clipLimit: 0, tilesX: 16, tilesY: 2), sharpen: true),
        ]
        for (index, enhancement) in enhancements.enumerated() {
            let seed = UInt64(size.0 * 1000 + size.1 * 10 + index)
            let picture = Self.randomPicture(width: size.0, height: size.1, layout: layout, seed: seed)
            let whole = try enhancement.applied(to: picture)
            for batches in Batches.allCases {
                let rows = try Self.rowEnhanced(
                    picture, enhancement, histogramBatches: batches.sizes(size.1, seed: seed),
                    readBatches: batches.sizes(size.1, seed: seed + 7))
                #expect(rows == whole, "\(size) \(layout) enhancement \(index) \(batches): \(PreprocessFixture.difference(rows, whole))")
            }
            let threaded = try Self.rowEnhanced(
                picture, enhancement, histogramBatches: Batches.random.sizes(size.1, seed: seed + 1),
                readBatches: Batches.random.sizes(size.1, seed: seed + 2), pool: Self.threads)
            #expect(threaded == whole, "\(size) \(layout) enhancement \(index) on 3 threads")
        }
    }

    static let threads = ThreadPool(threadCount: 3)

    /// The lightness-only kernel of the histogram pass against the full Lab conversion's L,
    /// on random pixels and every gray level (seeded).
    @Test(arguments: [3, 4])
    func lightnessIsTheLabConversionsL(channels: Int) {
        var generator = SeededGenerator(seed: UInt64(channels))
        let width = 4096 + 256
        // Every gray level, then random colours.
        var pixels = [UInt8](repeating: 0, count: width * channels)
        for x in 0..<width {
            for c in 0..<channels { pixels[x * channels + c] = x < 256 ? UInt8(x) : UInt8(truncatingIfNeeded: generator.next()) }
        }
        var l = [UInt8](repeating: 0, count: width), ab = [UInt8](repeating: 0, count: 2 * width)
        var lightness = [UInt8](repeating: 1, count: width)
        Enhancement.lab(pixels, channels: channels, width: width, lightness: &l, ab: &ab)
        Enhancement.lightness(pixels, channels: channels, width: width, into: &lightness)
        #expect(lightness == l)
        #expect(Set(l).count > 200)
    }

    /// The strip path enhances in RGB whatever the file's layout, as the pipeline converts the
    /// photo before enhancing it: gray, gray + alpha and RGBA rows come out as the whole
    /// picture converted to RGB, then enhanced.
    @Test(arguments: PixelLayout.allCases)
    func rowsAreConvertedToTheEnhancementsLayoutFirst(_ layout: PixelLayout) throws {
        let picture = Self.randomPicture(width: 45, height: 38, layout: layout, seed: 99)
        let whole = try Enhancement().applied(to: picture.converted(to: .rgb))
        let rows = try Self.rowEnhanced(
            picture, layout: .rgb, histogramBatches: Batches.random.sizes(38, seed: 3), readBatches: Batches.random.sizes(38, seed: 4))
        #expect(rows == whole)
    }

    /// From a JPEG file through the decoder's row reader (the strip path's source), in the
    /// strip path's batches of 256 rows: the bytes of enhancing the decoded picture.
    @Test func fileRowsAreEnhancedWithTheWholePicturesBytes() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("photo.jpg")
        let big = try PreprocessFixture.image("big")
        // 628×609: the fixture scaled up, so there are several strips and no size divides the grid.
        let picture = big.resized(width: big.width * 4, height: big.height * 3, filter: .bilinear)
        try picture.write(to: URL(fileURLWithPath: path))
        let decoded = try Image(contentsOfFile: path)
        let whole = try Enhancement().applied(to: decoded)

        var rows = try RowEnhancement(Enhancement(), width: decoded.width, height: decoded.height, layout: .rgb)
        let histogramReader = try ImageRowReader(path: path)
        var band = Image(width: decoded.width, height: 256, layout: histogramReader.layout)
        for y0 in stride(from: 0, to: decoded.height, by: 256) {
            let n = min(256, decoded.height - y0)
            try histogramReader.readRows(n, into: &band)
            rows.add(band, count: n)
        }
        let source = rows.rows(from: try ImageRowReader(path: path))
        #expect(source.path == path)
        var result = Image(width: decoded.width, height: decoded.height, layout: .rgb)
        var out = Image(width: decoded.width, height: 256, layout: .rgb)
        for y0 in stride(from: 0, to: decoded.height, by: 256) {
            let n = min(256, decoded.height - y0)
            try source.readRows(n, into: &out)
            for y in 0..<n { for x in 0..<decoded.width { for c in 0..<3 { result[x, y0 + y, c] = out[x, y, c] } } }
        }
        #expect(result == whole, "\(PreprocessFixture.difference(result, whole))")
    }

    /// The source's error reaches the caller as it is (naming the file).
    @Test func sourceErrorsPassThrough() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("photo.jpg")
        let picture = Self.randomPicture(width: 64, height: 300, layout: .rgb, seed: 5)
        let bytes = try picture.encoded(as: .jpeg)
        try Data(bytes[..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
        let rows = try RowEnhancement(Enhancement(clahe: nil), width: 64, height: 300, layout: .rgb)
        let source = rows.rows(from: try ImageRowReader(path: path))
        var band = Image(width: 64, height: 300, layout: .rgb)
        #expect {
            try source.readRows(300, into: &band)
        } throws: { error in
            "\(error)".contains(path)
        }
    }
}
