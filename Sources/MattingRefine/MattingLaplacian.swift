import CMattingKernels
import MattingThreads

/// The closed-form matting Laplacian of one picture, applied to vectors without being built.
///
/// Levin, Lischinski & Weiss (2008) define, over every `(2r+1)²` window `w_k` lying inside
/// the picture (`|w|` pixels, colour mean `μ_k`, covariance `Σ_k`, `Δ_k = Σ_k + ε/|w|·U`):
///
///     L_ij = Σ_{k: i,j ∈ w_k} (δ_ij − (1 + (I_i − μ_k)ᵀ Δ_k⁻¹ (I_j − μ_k)) / |w|)
///
/// He, Sun & Tang (CVPR 2010) observe that `L·p` needs no matrix: per window,
/// `a_k = Δ_k⁻¹ (mean(I·p)_k − μ_k·mean(p)_k)` and `b_k = mean(p)_k − a_kᵀ μ_k` (the guided
/// filter's algebra), then `(L p)_i = n_i p_i − Σ_{k ∋ i} (a_kᵀ I_i + b_k)` where `n_i` is
/// the number of windows holding `i`. Both sums over windows are box sums, so one product
/// costs O(1) per pixel whatever `r`.
///
/// Work is restricted to fixed 32×32 tiles that contain unknown pixels (the bounding box of
/// the unknown band, cut into tiles, with empty tiles skipped), each shrunk to the bounding
/// box of its own unknown pixels. Each tile gathers
/// its inputs with a `2r` halo, so tiles are independent: they are processed in parallel,
/// each writing only its own pixels, and every per-tile reduction is combined in tile
/// order, so results do not depend on the thread count. Window statistics (`μ_k`, `Δ_k⁻¹`)
/// and the diagonal of `L` (for the Jacobi preconditioner) are computed once per tile.
/// Window sums are Double: `Δ_k⁻¹` reaches `|w|/ε ≈ 10⁸` in flat regions, so the
/// covariance in `a_k` must be accurate far beyond Float.
///
/// The product itself is a C kernel (`mk_f64_cf_laplacian_ukernel__<isa>` in CMattingKernels,
/// AVX2+FMA or portable, chosen by ``RefineISA``). All tiles' data live in a few flat
/// arenas owned by this object (no per-tile arrays, so no reference counting in the
/// solver's inner loop): colour planes as Float (the input is Float, so nothing is lost),
/// window statistics as Double.
final class MattingLaplacian: @unchecked Sendable {
    // Sendable: immutable after init; apply() writes only caller-owned buffers.
    static let tileSize = 32

    let width: Int
    let height: Int
    let radius: Int
    let epsilon: Double
    let pool: ThreadPool
    let isa: RefineISA
    /// Number of tiles holding unknown pixels.
    let tileCount: Int
    /// Tile `t`'s unknown pixels are entries `offsets[t]..<offsets[t + 1]` of ``unknown``
    /// and ``diagonal``.
    let offsets: [Int]
    /// Global indices of the unknown pixels, tile after tile (row-major within a tile).
    let unknown: UnsafeMutablePointer<Int32>
    /// `L_ii` of the unknown pixels, in ``unknown`` order.
    let diagonal: UnsafeMutablePointer<Double>
    /// The kernel's tile descriptors (pointers into the arenas below).
    private let descriptors: UnsafeMutablePointer<mk_cf_tile>
    /// The tile descriptors, `tileCount` of them, in tile order.
    var tiles: UnsafePointer<mk_cf_tile> { UnsafePointer(descriptors) }
    private let local: UnsafeMutablePointer<Int32>
    private let windowCount: UnsafeMutablePointer<Double>
    private let colour: UnsafeMutablePointer<Float>
    private let stats: UnsafeMutablePointer<Double>
    /// The tile product of ``isa``.
    let kernel: mk_f64_cf_laplacian_ukernel_fn

    /// - Parameters:
    ///   - colour: the picture's 3 colour channels, values nominally 0…1 (read during init only).
    ///   - state: per pixel (`width × height`), whether it is solved for: equal to `unknownState`.
    ///   - isa: the kernel path (tests compare them; results differ in the last bits).
    /// - Throws: `CancellationError` if the pool's job is cancelled: checked once per row of
    ///   tiles while the tiles are found, and between tiles while they are prepared, so a
    ///   large picture's build stops within a tile's work.
    init(
        colour source: ColourSource, width: Int, height: Int, state: UnsafeBufferPointer<UInt8>, unknownState: UInt8,
        radius: Int, epsilon: Double, pool: ThreadPool, isa: RefineISA = .current
    ) throws {
        self.width = width
        self.height = height
        self.radius = radius
        self.epsilon = epsilon
        self.pool = pool
        self.isa = isa
        self.kernel = isa.laplacianKernel
        let statsKernel = isa.laplacianStatsKernel, diagonalKernel = isa.laplacianDiagonalKernel
        let t = Self.tileSize, r = radius
        // Tiles: each 32×32 cell's output rectangle shrinks to the bounding box of its
        // unknown pixels (only they need (L p)_i, and a band crossing a cell is often much
        // narrower than the cell: a third less work on the benchmark).
        var rects: [(x0: Int, y0: Int, x1: Int, y1: Int)] = []
        var unknownList: [Int32] = []
        var offsets = [0]
        for ty in stride(from: 0, to: height, by: t) {
            try pool.checkCancellation()
            for tx in stride(from: 0, to: width, by: t) {
                var bx0 = Int.max, by0 = Int.max, bx1 = Int.min, by1 = Int.min
                let before = unknownList.count
                for y in ty..<min(ty + t, height) {
                    for x in tx..<min(tx + t, width) where state[y * width + x] == unknownState {
                        unknownList.append(Int32(y * width + x))
                        bx0 = min(bx0, x); by0 = min(by0, y); bx1 = max(bx1, x + 1); by1 = max(by1, y + 1)
                    }
                }
                if unknownList.count > before {
                    rects.append((bx0, by0, bx1, by1))
                    offsets.append(unknownList.count)
                }
            }
        }
        let tileCount = rects.count, m = unknownList.count
        var colourOffsets = [0], statsOffsets = [0]
        for rect in rects {
            let tw = rect.x1 - rect.x0, th = rect.y1 - rect.y0
            colourOffsets.append(colourOffsets[colourOffsets.count - 1] + 3 * (tw + 4 * r) * (th + 4 * r))
            statsOffsets.append(statsOffsets[statsOffsets.count - 1] + 6 * (tw + 2 * r) * (th + 2 * r))
        }
        self.tileCount = tileCount
        self.offsets = offsets
        unknown = .allocate(capacity: max(m, 1))
        diagonal = .allocate(capacity: max(m, 1))
        local = .allocate(capacity: max(m, 1))
        windowCount = .allocate(capacity: max(m, 1))
        colour = .allocate(capacity: max(colourOffsets[tileCount], 1))
        stats = .allocate(capacity: max(statsOffsets[tileCount], 1))
        descriptors = .allocate(capacity: max(tileCount, 1))
        for (k, index) in unknownList.enumerated() { unknown[k] = index }
        for (i, rect) in rects.enumerated() {
            descriptors[i] = mk_cf_tile(
                x0: Int32(rect.x0), y0: Int32(rect.y0), width: Int32(rect.x1 - rect.x0), height: Int32(rect.y1 - rect.y0),
                picture_width: Int32(width), picture_height: Int32(height),
                radius: Int32(r), unknown_count: Int32(offsets[i + 1] - offsets[i]),
                colour: UnsafePointer(colour + colourOffsets[i]), stats: UnsafePointer(stats + statsOffsets[i]),
                unknown: UnsafePointer(unknown + offsets[i]), local: UnsafePointer(local + offsets[i]),
                count: UnsafePointer(windowCount + offsets[i]))
        }
        let shared = UncheckedSendable((descriptors, colour, stats, local, windowCount, diagonal, source))
        parallelChunks(tileCount, pool: pool) { range in
            let (descriptors, colour, stats, local, windowCount, diagonal, source) = shared.value
            let rowBuffer = UnsafeMutablePointer<Double>.allocate(capacity: 9 * (t + 4 * r))
            let meanBuffer = UnsafeMutablePointer<Double>.allocate(capacity: 3 * (t + 2 * r) * (t + 2 * r))
            defer { rowBuffer.deallocate(); meanBuffer.deallocate() }
            for i in range {
                if pool.isCancelled { break }
                Self.prepare(
                    descriptors[i], source: source, epsilon: epsilon,
                    colour: colour + colourOffsets[i], stats: stats + statsOffsets[i],
                    local: local + offsets[i], windowCount: windowCount + offsets[i],
                    diagonal: diagonal + offsets[i], rowBuffer: rowBuffer, mean: meanBuffer, statsKernel: statsKernel,
                    diagonalKernel: diagonalKernel)
            }
        }
        // Tiles a cancelled build skipped hold garbage: it must not be used. (Throwing after
        // every stored property is set runs deinit, which frees the arenas.)
        try pool.checkCancellation()
    }

    /// A Laplacian from planes and a Boolean mask (tests).
    static func make(
        image: [[Float]], width: Int, height: Int, isUnknown: [Bool], radius: Int, epsilon: Double, pool: ThreadPool,
        isa: RefineISA = .current
    ) throws -> MattingLaplacian {
        let planes = image[0] + image[1] + image[2], state = isUnknown.map { UInt8($0 ? 1 : 0) }
        return try planes.withUnsafeBufferPointer { planes in
            try state.withUnsafeBufferPointer { state in
                try MattingLaplacian(
                    colour: ColourSource(planes: planes.baseAddress!, width: width, height: height), width: width, height: height,
                    state: state, unknownState: 1, radius: radius, epsilon: epsilon, pool: pool, isa: isa)
            }
        }
    }

    deinit {
        unknown.deallocate(); diagonal.deallocate(); local.deallocate(); windowCount.deallocate()
        colour.deallocate(); stats.deallocate(); descriptors.deallocate()
    }

    var unknownCount: Int { offsets[tileCount] }

    /// The global indices of tile `t`'s unknown pixels.
    func unknownIndices(ofTile t: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: unknown + offsets[t], count: offsets[t + 1] - offsets[t])
    }

    /// Per-thread scratch for ``apply(tile:_:into:scratch:)``, sized for the largest tile.
    final class Scratch {
        let buffer: UnsafeMutablePointer<Double>

        init(radius r: Int) {
            buffer = .allocate(capacity: mk_cf_laplacian_scratch_count(Int32(MattingLaplacian.tileSize), Int32(r)))
        }

        deinit { buffer.deallocate() }
    }

    /// `(L p)_i` for the unknown pixels of tile `t`, written to
    /// `out[0..<offsets[t + 1] − offsets[t]]` in the tile's unknown order. `p` is a full-size
    /// vector (row-major, `width × height`). Returns `Σ p_i (L p)_i` over those pixels (for
    /// the conjugate-gradient step size).
    @inline(__always)
    func apply(tile t: Int, _ p: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, scratch: Scratch) -> Double {
        kernel(descriptors + t, p, out, scratch.buffer)
    }

    /// Colour halo, window statistics (μ_k, Δ_k⁻¹), window counts and diagonal of one tile.
    ///
    /// The statistics come from the C kernel (`mk_f64_cf_tile_stats__<isa>`): window sums of
    /// I (3) and I·Iᵀ (6) per centre row, vertical sums over the window's rows into
    /// `rowBuffer` (9 × pixel-grid width), then horizontal sums, mean and adjugate inverse.
    /// Windows not inside the picture keep zero statistics (the product skips them). The
    /// diagonal and window counts come from `mk_f64_cf_tile_diagonal__<isa>`.
    private static func prepare(
        _ tile: mk_cf_tile, source: ColourSource,
        epsilon: Double, colour: UnsafeMutablePointer<Float>, stats: UnsafeMutablePointer<Double>,
        local: UnsafeMutablePointer<Int32>, windowCount: UnsafeMutablePointer<Double>, diagonal: UnsafeMutablePointer<Double>,
        rowBuffer V: UnsafeMutablePointer<Double>, mean m: UnsafeMutablePointer<Double>, statsKernel: mk_f64_cf_tile_stats_fn,
        diagonalKernel: mk_f64_cf_tile_diagonal_fn
    ) {
        let r = Int(tile.radius), W = Int(tile.picture_width), H = Int(tile.picture_height)
        let x0 = Int(tile.x0), y0 = Int(tile.y0), tw = Int(tile.width), th = Int(tile.height)
        let pw = tw + 4 * r, ph = th + 4 * r, pn = pw * ph
        // Colour with its 2r halo, 0 outside the picture: per row, the columns inside are copied.
        let first = x0 - 2 * r, lo = max(0, -first), hi = min(pw, W - first)
        for c in 0..<3 {
            let dst = colour + c * pn
            dst.initialize(repeating: 0, count: pn)
            guard hi > lo else { continue }
            for py in 0..<ph {
                let y = y0 - 2 * r + py
                guard y >= 0 && y < H else { continue }
                source.copyRow(channel: c, y: y, x: first + lo, count: hi - lo, into: dst + py * pw + lo)
            }
        }
        var descriptor = tile
        descriptor.colour = UnsafePointer(colour)
        statsKernel(&descriptor, epsilon, m, stats, V)
        diagonalKernel(&descriptor, m, stats, diagonal, windowCount, local, V)
    }
}

/// Where a picture's 3 colour channels are read from: channel `c` of pixel `(x, y)` is at
/// `base[y·rowStride + x·pixelStride + c·channelStride]` — planes (pixel stride 1) or an
/// interleaved RGB image (pixel stride 3), so the finest level needs no planar copy.
struct ColourSource: @unchecked Sendable {
    // @unchecked: read-only while the solver runs; the owner keeps the memory alive.
    let base: UnsafePointer<Float>
    let rowStride: Int
    let pixelStride: Int
    let channelStride: Int

    /// Three consecutive `width × height` planes.
    init(planes base: UnsafePointer<Float>, width: Int, height: Int) {
        self.base = base
        rowStride = width
        pixelStride = 1
        channelStride = width * height
    }

    /// Interleaved RGB rows of `rowStride` floats.
    init(rgb base: UnsafePointer<Float>, rowStride: Int) {
        self.base = base
        self.rowStride = rowStride
        pixelStride = 3
        channelStride = 1
    }

    @inline(__always)
    subscript(channel c: Int, x x: Int, y y: Int) -> Float {
        base[y * rowStride + x * pixelStride + c * channelStride]
    }

    /// Copies `count` values of channel `channel` from row `y`, starting at column `x`.
    @inline(__always)
    func copyRow(channel c: Int, y: Int, x: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let src = base + y * rowStride + x * pixelStride + c * channelStride
        if pixelStride == 1 {
            dst.update(from: src, count: count)
        } else {
            for i in 0..<count { dst[i] = src[i * pixelStride] }
        }
    }
}
