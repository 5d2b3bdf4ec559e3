/// Contrast-limited adaptive histogram equalisation of an 8-bit single-channel picture,
/// defined exactly as OpenCV's `cv::createCLAHE(clipLimit, tileGridSize)->apply(...)`.
///
/// The picture is divided into `tilesX × tilesY` tiles (when its size is not a multiple of
/// the grid it is first extended at the bottom and right by `tiles − size % tiles` pixels,
/// mirrored without repeating the edge, as OpenCV does); each tile's 256-bin histogram is
/// clipped at `max(1, ⌊clipLimit · tileArea / 256⌋)`, the excess spread evenly with the
/// remainder going to every `⌊256 / remainder⌋`-th bin, and turned into a mapping by its
/// cumulative sum scaled by `255 / tileArea`; each pixel is mapped by bilinear interpolation
/// between the four nearest tiles' mappings, rounded half to even. `clipLimit ≤ 0` disables
/// clipping.
public struct CLAHE: Sendable, Hashable {
    /// Contrast limit relative to a uniform histogram (OpenCV's `clipLimit`; default 2.0).
    public var clipLimit: Double
    /// Number of tile columns (≥ 1; default 8).
    public var tilesX: Int
    /// Number of tile rows (≥ 1; default 8).
    public var tilesY: Int

    public init(clipLimit: Double = 2.0, tilesX: Int = 8, tilesY: Int = 8) {
        self.clipLimit = clipLimit
        self.tilesX = tilesX
        self.tilesY = tilesY
    }

    /// Equalises `image`, which must be single-channel (`.gray`).
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for another layout or a grid < 1.
    public func applied(to image: Image) throws -> Image {
        guard image.layout == .gray else {
            throw ImageError.invalidArgument("CLAHE works on one channel; got \(image.layout)")
        }
        try checkGrid()
        if image.isEmpty { return image }
        let width = image.width, height = image.height
        var histograms = Histograms(self, width: width, height: height)
        image.withUnsafeBufferPointer { src, stride in
            for y in 0..<height { histograms.add(src + y * stride, row: y) }
        }
        let mapping = histograms.mapping()
        var result = Image(width: width, height: height, layout: .gray)
        result.colorProfile = image.colorProfile  // contrast changes, the colour space does not
        image.withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height { mapping.map(src + y * srcStride, row: y, into: dst + y * dstStride) }
            }
        }
        return result
    }

    /// - Throws: ``ImageError/invalidArgument(_:)`` for a grid < 1.
    func checkGrid() throws(ImageError) {
        guard tilesX >= 1, tilesY >= 1 else {
            throw ImageError.invalidArgument("CLAHE tile grid \(tilesX)×\(tilesY) must be at least 1×1")
        }
    }

    /// Rounds half to even and clamps to 0…255, like OpenCV's `saturate_cast<uchar>(float)`.
    @inline(__always) static func saturatedRound(_ value: Float) -> UInt8 {
        let r = value.rounded(.toNearestOrEven)
        return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
    }

    /// The tile grid laid over a `width × height` picture: when the size is not a multiple of
    /// the grid, the picture is extended at the bottom and right (mirrored without repeating
    /// the edge) to `extendedWidth × extendedHeight`, and the tiles divide that.
    struct Grid: Sendable {
        let width: Int, height: Int
        let tilesX: Int, tilesY: Int
        let extendedWidth: Int, extendedHeight: Int
        let tileWidth: Int, tileHeight: Int
        /// The histogram clip, 0 for none.
        let limit: Int

        /// - Precondition: the grid is at least 1×1 and the picture not empty.
        init(_ clahe: CLAHE, width: Int, height: Int) {
            precondition(clahe.tilesX >= 1 && clahe.tilesY >= 1 && width > 0 && height > 0, "CLAHE.Grid: bad grid or size")
            self.width = width
            self.height = height
            tilesX = clahe.tilesX
            tilesY = clahe.tilesY
            let divisible = width % tilesX == 0 && height % tilesY == 0
            extendedWidth = divisible ? width : width + tilesX - width % tilesX
            extendedHeight = divisible ? height : height + tilesY - height % tilesY
            tileWidth = extendedWidth / tilesX
            tileHeight = extendedHeight / tilesY
            limit = clahe.clipLimit > 0 ? max(Int(clahe.clipLimit * Double(tileWidth * tileHeight) / 256), 1) : 0
        }

        /// Mirrors an index of the extended picture into `0..<n` without repeating the edge
        /// (BORDER_REFLECT_101).
        static func reflect(_ i: Int, _ n: Int) -> Int { i < n ? i : max(2 * n - 2 - i, 0) }
    }

    /// The tiles' 256-bin histograms of a picture, gathered row by row (in any order; each
    /// row once): every pixel counts in its tile, and again in each tile of the extended
    /// border that mirrors it. The counts are exactly those of scanning each tile of the
    /// extended picture.
    struct Histograms {
        let grid: Grid
        private var counts: [Int]
        /// Per column: the offset of its tile's histogram within a row of tiles.
        private let columnTiles: [Int]
        /// The extended columns: the column each mirrors, and its tile's offset.
        private let borderColumns: [(source: Int, tile: Int)]
        /// The extended rows: the row each mirrors, and its row of tiles.
        private let borderRows: [(source: Int, tileRow: Int)]

        init(_ clahe: CLAHE, width: Int, height: Int) {
            let grid = Grid(clahe, width: width, height: height)
            self.grid = grid
            counts = [Int](repeating: 0, count: grid.tilesX * grid.tilesY * 256)
            columnTiles = (0..<width).map { $0 / grid.tileWidth * 256 }
            borderColumns = (width..<grid.extendedWidth).map { (Grid.reflect($0, width), $0 / grid.tileWidth * 256) }
            borderRows = (height..<grid.extendedHeight).map { (Grid.reflect($0, height), $0 / grid.tileHeight) }
        }

        /// Counts row `y` of the picture, `width` values at `values`.
        mutating func add(_ values: UnsafePointer<UInt8>, row y: Int) {
            add(values, tileRow: y / grid.tileHeight)
            for border in borderRows where border.source == y { add(values, tileRow: border.tileRow) }
        }

        private mutating func add(_ values: UnsafePointer<UInt8>, tileRow: Int) {
            let width = grid.width, base = tileRow * grid.tilesX * 256
            columnTiles.withUnsafeBufferPointer { tiles in
                counts.withUnsafeMutableBufferPointer { counts in
                    let histograms = counts.baseAddress! + base
                    for x in 0..<width { histograms[tiles[x] + Int(values[x])] += 1 }
                    for border in borderColumns { histograms[border.tile + Int(values[border.source])] += 1 }
                }
            }
        }

        /// The tiles' mappings: each histogram clipped, the excess spread, summed and scaled.
        func mapping() -> Mapping {
            let tileArea = grid.tileWidth * grid.tileHeight
            let lutScale = Float(255) / Float(tileArea)
            let limit = grid.limit
            var luts = [UInt8](repeating: 0, count: grid.tilesX * grid.tilesY * 256)
            var histogram = [Int](repeating: 0, count: 256)
            for tile in 0..<(grid.tilesX * grid.tilesY) {
                for i in 0..<256 { histogram[i] = counts[tile * 256 + i] }
                if limit > 0 {
                    var clipped = 0
                    for i in 0..<256 where histogram[i] > limit {
                        clipped += histogram[i] - limit
                        histogram[i] = limit
                    }
                    let batch = clipped / 256
                    var residual = clipped - batch * 256
                    for i in 0..<256 { histogram[i] += batch }
                    if residual != 0 {
                        let step = max(256 / residual, 1)
                        var i = 0
                        while i < 256 && residual > 0 {
                            histogram[i] += 1
                            i += step
                            residual -= 1
                        }
                    }
                }
                var sum = 0
                for i in 0..<256 {
                    sum += histogram[i]
                    luts[tile * 256 + i] = CLAHE.saturatedRound(Float(sum) * lutScale)
                }
            }
            return Mapping(grid: grid, luts: luts)
        }
    }

    /// The equalisation itself: each value mapped by bilinear interpolation between the four
    /// nearest tiles' mappings, rounded half to even.
    struct Mapping: Sendable {
        let grid: Grid
        private let luts: [UInt8]
        private let left: [Int], right: [Int]
        private let weightLeft: [Float], weightRight: [Float]
        private let inverseTileHeight: Float

        init(grid: Grid, luts: [UInt8]) {
            self.grid = grid
            self.luts = luts
            let width = grid.width, inverseTileWidth = 1 / Float(grid.tileWidth)
            var left = [Int](repeating: 0, count: width), right = [Int](repeating: 0, count: width)
            var weightRight = [Float](repeating: 0, count: width), weightLeft = [Float](repeating: 0, count: width)
            for x in 0..<width {
                let position = Float(x) * inverseTileWidth - 0.5
                let t1 = Int(position.rounded(.down))
                weightRight[x] = position - Float(t1)
                weightLeft[x] = 1 - weightRight[x]
                left[x] = max(t1, 0) * 256
                right[x] = min(t1 + 1, grid.tilesX - 1) * 256
            }
            self.left = left
            self.right = right
            self.weightLeft = weightLeft
            self.weightRight = weightRight
            inverseTileHeight = 1 / Float(grid.tileHeight)
        }

        /// Maps row `y` of the picture, `width` values at `values`, into `output`.
        func map(_ values: UnsafePointer<UInt8>, row y: Int, into output: UnsafeMutablePointer<UInt8>) {
            let width = grid.width, tilesX = grid.tilesX
            let position = Float(y) * inverseTileHeight - 0.5
            let t1 = Int(position.rounded(.down))
            let wy = position - Float(t1), wy1 = 1 - wy
            luts.withUnsafeBufferPointer { lut in
                left.withUnsafeBufferPointer { left in
                    right.withUnsafeBufferPointer { right in
                        weightLeft.withUnsafeBufferPointer { weightLeft in
                            weightRight.withUnsafeBufferPointer { weightRight in
                                let top = lut.baseAddress! + max(t1, 0) * tilesX * 256
                                let bottom = lut.baseAddress! + min(t1 + 1, grid.tilesY - 1) * tilesX * 256
                                for x in 0..<width {
                                    let v = Int(values[x])
                                    let i1 = left[x] + v, i2 = right[x] + v
                                    // Same association as OpenCV so float rounding agrees exactly.
                                    let upper = Float(top[i1]) * weightLeft[x] + Float(top[i2]) * weightRight[x]
                                    let lower = Float(bottom[i1]) * weightLeft[x] + Float(bottom[i2]) * weightRight[x]
                                    output[x] = CLAHE.saturatedRound(upper * wy1 + lower * wy)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
