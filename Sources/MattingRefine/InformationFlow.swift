import MattingThreads
import MattingImage

/// The non-local terms of information-flow matting (Aksoy, Aydın & Pollefeys, "Designing
/// Effective Inter-Pixel Information Flow for Natural Image Matting", CVPR 2017), added to the
/// closed-form energy on the finest level of a ``ClosedFormMatting`` solve.
///
/// The energy becomes `αᵀ(L + σ_CM L_CM + σ_UU L_UU)α + σ_KU Σ_U η_p (α_p − â_p)²`, known pixels
/// held fixed:
/// - colour mixture (`L_CM = (I − W)ᵀ(I − W)` over the unknown rows): each unknown pixel is
///   written as an affine mix of its 20 nearest pixels in (r, g, b, x/w, y/h), weights by locally
///   linear embedding on the colours;
/// - known-to-unknown: the same mix over its 7 nearest foreground and 7 nearest background
///   pixels in (r, g, b, 10x/w, 10y/h); `â_p` is the foreground weights' sum, the confidence `η_p`
///   the squared distance of the two mixed colours / 3. Left out for pictures the paper's
///   histogram test calls highly transparent (``usesKnownToUnknown`` `nil`);
/// - intra-unknown: the 5 nearest unknown pixels in (r, g, b, x/20w, y/20h) and the nearest one
///   with almost no spatial weight, affinity `max(1 − ‖f_p − f_q‖₁/5, 0)`, symmetrised.
///
/// The weights default to the paper's. The paper's trimap trimming is not done. Off by default
/// (``ClosedFormMatting/informationFlow`` `nil`); Docs/Quality.md has what it does on the
/// development set and what it costs. The prototype it was checked against is
/// `Scripts/ifm-prototype.py`.
public struct InformationFlow: Sendable, Hashable, Codable {
    /// σ_CM, weight of the colour-mixture flow. Default 1.
    public var colourMixture: Double = 1
    /// σ_KU, weight of the known-to-unknown flow. Default 0.05.
    public var knownToUnknown: Double = 0.05
    /// σ_UU, weight of the intra-unknown flow. Default 0.01.
    public var intraUnknown: Double = 0.01
    /// Whether to use the known-to-unknown flow: `nil` (default) decides per picture with the
    /// paper's histogram test (off when the unknown colours are poorly explained by the nearby
    /// foreground and background colours: a highly transparent matte).
    public var usesKnownToUnknown: Bool? = nil
    /// The paper's weights.
    public init() {}

    static let mixtureNeighbours = 20, knownNeighbours = 7, unknownNeighbours = 5
    static let embeddingRegularisation = 1e-10
}

/// The extra operator `E` and right-hand side `c` of the information-flow terms, restricted to
/// the unknown rows (in a ``MattingLaplacian``'s unknown order).
struct InformationFlowOperator {
    let m: Int
    let n: Int
    /// Picture index of each unknown.
    let unknown: [Int32]
    // Colour mixture: row k is e_{U[k]} − Σ_j w_kj e_{nbr_kj}.
    let mixtureWeight: Double
    let mixtureNeighbour: [Int32]   // m × K picture indices
    let mixtureValue: [Double]      // m × K weights
    /// Transpose restricted to the unknown columns: for unknown k, the rows r (and the entry
    /// M[r, U[k]]) that use it, in increasing r.
    let transposeStart: [Int]
    let transposeRow: [Int32]
    let transposeValue: [Double]
    // Intra-unknown: symmetric W on the unknowns (compact columns), D its row sums.
    let intraWeight: Double
    let intraStart: [Int]
    let intraColumn: [Int32]
    let intraValue: [Double]
    let intraDegree: [Double]
    // Known-to-unknown: σ_KU η_k on the diagonal, σ_KU η_k â_k on the right-hand side.
    let knownDiagonal: [Double]
    let rhs: [Double]
    /// Whether the known-to-unknown term was used.
    let usedKnownToUnknown: Bool

    /// The diagonal of `E` on the unknowns.
    func diagonal() -> [Double] {
        var d = [Double](repeating: 0, count: m)
        for k in 0..<m {
            var cm = 0.0
            for e in transposeStart[k]..<transposeStart[k + 1] { cm += transposeValue[e] * transposeValue[e] }
            d[k] = mixtureWeight * cm + intraWeight * intraDegree[k] + knownDiagonal[k]
        }
        return d
    }

    /// `q[k] += (E p)_{U[k]}` for a full-size `p`; `y` is m doubles of scratch.
    func addProduct(_ p: UnsafePointer<Double>, into q: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, pool: ThreadPool) {
        let K = InformationFlow.mixtureNeighbours, hasMixture = mixtureWeight > 0, hasIntra = intraWeight > 0
        if hasMixture {
        mixtureNeighbour.withUnsafeBufferPointer { nb in mixtureValue.withUnsafeBufferPointer { w in
        unknown.withUnsafeBufferPointer { U in
            parallelChunks(m, pool: pool) { rows in
                for r in rows {
                    var s = p[Int(U[r])]
                    let o = r * K
                    for j in 0..<K { s -= w[o + j] * p[Int(nb[o + j])] }
                    y[r] = s
                }
            }
        } } }
        }
        transposeStart.withUnsafeBufferPointer { ts in transposeRow.withUnsafeBufferPointer { tr in
        transposeValue.withUnsafeBufferPointer { tv in intraStart.withUnsafeBufferPointer { ist in
        intraColumn.withUnsafeBufferPointer { ic in intraValue.withUnsafeBufferPointer { iv in
        intraDegree.withUnsafeBufferPointer { deg in knownDiagonal.withUnsafeBufferPointer { kd in
        unknown.withUnsafeBufferPointer { U in
            parallelChunks(m, pool: pool) { rows in
                for k in rows {
                    var cm = 0.0
                    if hasMixture { for e in ts[k]..<ts[k + 1] { cm += tv[e] * y[Int(tr[e])] } }
                    let pk = p[Int(U[k])]
                    var wp = 0.0
                    if hasIntra { for e in ist[k]..<ist[k + 1] { wp += iv[e] * p[Int(U[Int(ic[e])])] } }
                    q[k] += mixtureWeight * cm + intraWeight * (deg[k] * pk - wp) + kd[k] * pk
                }
            }
        } } } } } } } } }
    }
}

extension InformationFlowOperator {
    /// Builds the terms for a picture (`colour`, 3 planes of `width × height` in 0…1), its
    /// pixel states (``ClosedFormMatting/Level`` values) and the unknowns in solver order.
    ///
    /// - Throws: `CancellationError` if the pool's job is cancelled (checked after each search).
    init(flow: InformationFlow, colour: [Double], width w: Int, height h: Int, state: [UInt8],
         unknown: [Int32], pool: ThreadPool) throws {
        let n = w * h, m = unknown.count
        self.n = n
        self.m = m
        self.unknown = unknown
        let fg = ClosedFormMatting.Level.foreground, bg = ClosedFormMatting.Level.background
        var compact = [Int32](repeating: -1, count: n)
        for k in 0..<m { compact[Int(unknown[k])] = Int32(k) }

        func features(_ xy: Double) -> [Double] {
            var f = [Double](repeating: 0, count: 5 * n)
            for i in 0..<n {
                f[5 * i] = colour[i]; f[5 * i + 1] = colour[n + i]; f[5 * i + 2] = colour[2 * n + i]
                f[5 * i + 3] = xy * Double(i % w + 1) / Double(w)
                f[5 * i + 4] = xy * Double(i / w + 1) / Double(h)
            }
            return f
        }
        func rgb(_ i: Int) -> (Double, Double, Double) { (colour[i], colour[n + i], colour[2 * n + i]) }

        // Colour mixture.
        let K = InformationFlow.mixtureNeighbours
        mixtureWeight = flow.colourMixture
        var nbCM = [Int32](repeating: 0, count: m * K), wCM = [Double](repeating: 0, count: m * K)
        if flow.colourMixture > 0 {
            let f = features(1)
            let tree = KDTree(features: f, points: Array(0..<Int32(n)))
            tree.nearest(K, of: unknown, excludingSelf: true, into: &nbCM, pool: pool)
            try pool.checkCancellation()
            Self.embed(colour: colour, n: n, queries: unknown, neighbours: nbCM, k: K, into: &wCM, pool: pool)
        }
        mixtureNeighbour = nbCM
        mixtureValue = wCM
        // Transpose over unknown columns (counting sort: rows in increasing order per column).
        var count = [Int](repeating: 1, count: m + 1)  // the row's own diagonal entry
        let mixtureEntries = flow.colourMixture > 0 ? m * K : 0
        for e in 0..<mixtureEntries { let c = compact[Int(nbCM[e])]; if c >= 0 { count[Int(c)] += 1 } }
        var start = [Int](repeating: 0, count: m + 1)
        for k in 0..<m { start[k + 1] = start[k] + count[k] }
        var fill = Array(start[0..<m])
        var tRow = [Int32](repeating: 0, count: start[m]), tVal = [Double](repeating: 0, count: start[m])
        for r in 0..<m {
            // Entry M[r, U[r]] = 1 and M[r, nbr] = −w; rows visited in order, so each column's list is sorted.
            tRow[fill[r]] = Int32(r); tVal[fill[r]] = 1; fill[r] += 1
            for j in 0..<(mixtureEntries > 0 ? K : 0) {
                let c = compact[Int(nbCM[r * K + j])]
                if c >= 0 { tRow[fill[Int(c)]] = Int32(r); tVal[fill[Int(c)]] = -wCM[r * K + j]; fill[Int(c)] += 1 }
            }
        }
        transposeStart = start; transposeRow = tRow; transposeValue = tVal

        // Intra-unknown.
        intraWeight = flow.intraUnknown
        var rows = [[(Int32, Double)]](repeating: [], count: flow.intraUnknown > 0 ? m : 0)
        if flow.intraUnknown > 0, m > 1 {
            let k1 = min(InformationFlow.unknownNeighbours, m - 1), k2 = 1
            var nb1 = [Int32](repeating: 0, count: m * k1), nb2 = [Int32](repeating: 0, count: m * k2)
            KDTree(features: features(0.05), points: unknown).nearest(k1, of: unknown, excludingSelf: true, into: &nb1, pool: pool)
            let far = features(0.0005)
            KDTree(features: far, points: unknown).nearest(k2, of: unknown, excludingSelf: true, into: &nb2, pool: pool)
            try pool.checkCancellation()
            // The affinity's features: colours and the nearly-ignored coordinates (÷ 100 again).
            func affinity(_ a: Int, _ b: Int) -> Double {
                var d = 0.0
                for c in 0..<3 { d += abs(far[5 * a + c] - far[5 * b + c]) }
                for c in 3..<5 { d += abs(far[5 * a + c] - far[5 * b + c]) / 100 }
                return max(1 - d / 5, 0)
            }
            for k in 0..<m {
                let pk = Int(unknown[k])
                for q in Array(nb1[(k * k1)..<((k + 1) * k1)]) + Array(nb2[(k * k2)..<((k + 1) * k2)]) {
                    let a = affinity(pk, Int(q)) / 2, j = compact[Int(q)]
                    rows[k].append((j, a)); rows[Int(j)].append((Int32(k), a))
                }
            }
        }
        var iStart = [0], iCol: [Int32] = [], iVal: [Double] = [], degree = [Double](repeating: 0, count: m)
        for k in 0..<rows.count {
            // Merge duplicates in column order (a fixed order: the sums do not depend on threads).
            let sorted = rows[k].sorted { $0.0 < $1.0 }
            var e = 0
            while e < sorted.count {
                var v = 0.0
                let c = sorted[e].0
                while e < sorted.count, sorted[e].0 == c { v += sorted[e].1; e += 1 }
                iCol.append(c); iVal.append(v); degree[k] += v
            }
            iStart.append(iCol.count)
        }
        if rows.isEmpty { iStart = [Int](repeating: 0, count: m + 1) }
        intraStart = iStart; intraColumn = iCol; intraValue = iVal; intraDegree = degree

        // Known-to-unknown.
        var diag = [Double](repeating: 0, count: m), c = [Double](repeating: 0, count: m)
        let foreground = (0..<n).filter { state[$0] == fg }.map(Int32.init)
        let background = (0..<n).filter { state[$0] == bg }.map(Int32.init)
        let use = flow.knownToUnknown > 0 && !foreground.isEmpty && !background.isEmpty
            && (flow.usesKnownToUnknown ?? !Self.highlyTransparent(colour: colour, width: w, height: h, state: state))
        if use {
            let kk = InformationFlow.knownNeighbours
            let f = features(10)
            var nbF = [Int32](repeating: 0, count: m * kk), nbB = [Int32](repeating: 0, count: m * kk)
            KDTree(features: f, points: foreground).nearest(min(kk, foreground.count), of: unknown, excludingSelf: false, into: &nbF, pool: pool)
            KDTree(features: f, points: background).nearest(min(kk, background.count), of: unknown, excludingSelf: false, into: &nbB, pool: pool)
            try pool.checkCancellation()
            let kf = min(kk, foreground.count), kb = min(kk, background.count), k2 = kf + kb
            var nb = [Int32](repeating: 0, count: m * k2)
            for k in 0..<m {
                for j in 0..<kf { nb[k * k2 + j] = nbF[k * kf + j] }
                for j in 0..<kb { nb[k * k2 + kf + j] = nbB[k * kb + j] }
            }
            var wts = [Double](repeating: 0, count: m * k2)
            Self.embed(colour: colour, n: n, queries: unknown, neighbours: nb, k: k2, into: &wts, pool: pool)
            for k in 0..<m {
                var aHat = 0.0, fc = (0.0, 0.0, 0.0), bc = (0.0, 0.0, 0.0)
                for j in 0..<k2 {
                    let wj = wts[k * k2 + j], col = rgb(Int(nb[k * k2 + j]))
                    if j < kf {
                        aHat += wj
                        fc = (fc.0 + wj * col.0, fc.1 + wj * col.1, fc.2 + wj * col.2)
                    } else {
                        bc = (bc.0 + wj * col.0, bc.1 + wj * col.1, bc.2 + wj * col.2)
                    }
                }
                let d0 = fc.0 - bc.0, d1 = fc.1 - bc.1, d2 = fc.2 - bc.2
                let eta = (d0 * d0 + d1 * d1 + d2 * d2) / 3
                diag[k] = flow.knownToUnknown * eta
                c[k] = flow.knownToUnknown * eta * aHat
            }
        }
        knownDiagonal = diag
        rhs = c
        usedKnownToUnknown = use
    }

    /// Locally-linear-embedding weights: for each query q (a pixel), the w (Σ w = 1) that
    /// minimise ‖c_q − Σ_j w_j c_j‖² + ε‖w‖² over its `k` neighbours' colours, ε 1e-10. Solved in
    /// the 3×3 colour space (push-through identity) instead of as a k×k system.
    static func embed(colour: [Double], n: Int, queries: [Int32], neighbours: [Int32], k: Int,
                      into weights: inout [Double], pool: ThreadPool) {
        let eps = InformationFlow.embeddingRegularisation
        let m = queries.count
        colour.withUnsafeBufferPointer { col in neighbours.withUnsafeBufferPointer { nb in
        weights.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            parallelChunks(m, pool: pool) { range in
                var N = [Double](repeating: 0, count: 3 * k)
                for qi in range {
                    let q = Int(queries[qi])
                    // S = εI + NᵀN (3×3), N the k×3 neighbour colours.
                    var S = [eps, 0, 0, 0, eps, 0, 0, 0, eps]
                    var n1 = (0.0, 0.0, 0.0)
                    for j in 0..<k {
                        let i = Int(nb[qi * k + j])
                        let c0 = col[i], c1 = col[n + i], c2 = col[2 * n + i]
                        N[3 * j] = c0; N[3 * j + 1] = c1; N[3 * j + 2] = c2
                        S[0] += c0 * c0; S[1] += c0 * c1; S[2] += c0 * c2
                        S[4] += c1 * c1; S[5] += c1 * c2; S[8] += c2 * c2
                        n1 = (n1.0 + c0, n1.1 + c1, n1.2 + c2)
                    }
                    S[3] = S[1]; S[6] = S[2]; S[7] = S[5]
                    let pt = (col[q], col[n + q], col[2 * n + q])
                    let s = solve3(S, pt), t = solve3(S, n1)
                    // a = N S⁻¹ p; b' = 1 − N S⁻¹ Nᵀ1; w = a + (1 − Σa) b' / Σb'.
                    var sa = 0.0, sb = 0.0
                    for j in 0..<k {
                        let a = N[3 * j] * s.0 + N[3 * j + 1] * s.1 + N[3 * j + 2] * s.2
                        let b = 1 - (N[3 * j] * t.0 + N[3 * j + 1] * t.1 + N[3 * j + 2] * t.2)
                        out.value[qi * k + j] = a
                        N[3 * j] = b  // keep b' in place of the first colour component
                        sa += a; sb += b
                    }
                    let mu = sb != 0 ? (1 - sa) / sb : 0
                    var sum = 0.0
                    for j in 0..<k { out.value[qi * k + j] += mu * N[3 * j]; sum += out.value[qi * k + j] }
                    if sum != 0 { for j in 0..<k { out.value[qi * k + j] /= sum } }
                }
            }
        } } }
    }

    /// x = S⁻¹ v for a symmetric positive-definite 3×3 S (Cramer's rule with the adjugate).
    static func solve3(_ S: [Double], _ v: (Double, Double, Double)) -> (Double, Double, Double) {
        let a = S[0], b = S[1], c = S[2], d = S[4], e = S[5], f = S[8]
        let A = d * f - e * e, B = c * e - b * f, C = b * e - c * d
        let D = a * f - c * c, E = b * c - a * e, F = a * d - b * b
        let det = a * A + b * B + c * C
        guard det != 0 else { return (0, 0, 0) }
        return ((A * v.0 + B * v.1 + C * v.2) / det, (B * v.0 + D * v.1 + E * v.2) / det, (C * v.0 + E * v.1 + F * v.2) / det)
    }

    /// The paper's test for a highly transparent matte: the unknown pixels' colour histograms
    /// (10 bins a channel) fitted by least squares as a mix of the foreground's and the
    /// background's near the unknown region (within 10 pixels); transparent when the fit's
    /// error (‖residual‖ / 30) exceeds 0.0099.
    static func highlyTransparent(colour: [Double], width w: Int, height h: Int, state: [UInt8]) -> Bool {
        let n = w * h, unknownState = ClosedFormMatting.Level.unknown
        // Unknown pixels within a 21×21 box: separable running counts.
        var rowCount = [Int](repeating: 0, count: n)
        for y in 0..<h {
            var prefix = [Int](repeating: 0, count: w + 1)
            for x in 0..<w { prefix[x + 1] = prefix[x] + (state[y * w + x] == unknownState ? 1 : 0) }
            for x in 0..<w { rowCount[y * w + x] = prefix[min(w, x + 11)] - prefix[max(0, x - 10)] }
        }
        var histograms = [[Double]](repeating: [Double](repeating: 0, count: 30), count: 3)
        var totals = [0.0, 0.0, 0.0]
        for x in 0..<w {
            var prefix = [Int](repeating: 0, count: h + 1)
            for y in 0..<h { prefix[y + 1] = prefix[y] + rowCount[y * w + x] }
            for y in 0..<h {
                let i = y * w + x, s = state[i]
                let near = prefix[min(h, y + 11)] - prefix[max(0, y - 10)] > 0
                let which = s == unknownState ? 2 : (near ? (s == ClosedFormMatting.Level.foreground ? 0 : 1) : -1)
                guard which >= 0 else { continue }
                totals[which] += 1
                for c in 0..<3 { histograms[which][10 * c + min(9, max(0, Int(colour[c * n + i] * 10)))] += 1 }
            }
        }
        for k in 0..<3 where totals[k] > 0 { for b in 0..<30 { histograms[k][b] /= totals[k] } }
        let f = histograms[0], g = histograms[1], u = histograms[2]
        var ff = 0.0, fg = 0.0, gg = 0.0, fu = 0.0, gu = 0.0
        for b in 0..<30 { ff += f[b] * f[b]; fg += f[b] * g[b]; gg += g[b] * g[b]; fu += f[b] * u[b]; gu += g[b] * u[b] }
        let det = ff * gg - fg * fg
        let (a, c) = det != 0 ? ((gg * fu - fg * gu) / det, (ff * gu - fg * fu) / det) : (0, 0)
        var err = 0.0
        for b in 0..<30 { let r = a * f[b] + c * g[b] - u[b]; err += r * r }
        return err.squareRoot() / 30 > 0.0099
    }
}

/// A k-d tree over points of five features, for k-nearest-neighbour queries.
struct KDTree {
    /// Points a leaf holds at most: 24 to 48 searched fastest of 6 to 96 on the 1200×1800
    /// benchmark, 12 took a third longer (Docs/Quality.md, branch `ifm-sa`). The neighbours
    /// do not depend on it.
    static let dimensions = 5, leafSize = 32
    let features: [Double]      // 5 per picture pixel
    var order: [Int32]          // the points (picture indices), permuted into the tree
    var nodeStart: [Int32] = [], nodeEnd: [Int32] = [], nodeDim: [Int8] = [], nodeSplit: [Double] = []
    var nodeLeft: [Int32] = [], nodeRight: [Int32] = []

    init(features: [Double], points: [Int32]) {
        self.features = features
        order = points
        if !points.isEmpty { _ = build(0, points.count) }
    }

    private mutating func build(_ lo: Int, _ hi: Int) -> Int32 {
        let id = Int32(nodeStart.count)
        nodeStart.append(Int32(lo)); nodeEnd.append(Int32(hi)); nodeDim.append(-1); nodeSplit.append(0)
        nodeLeft.append(-1); nodeRight.append(-1)
        guard hi - lo > Self.leafSize else { return id }
        var lower = [Double](repeating: .infinity, count: 5), upper = [Double](repeating: -.infinity, count: 5)
        for i in lo..<hi {
            let p = 5 * Int(order[i])
            for d in 0..<5 { lower[d] = min(lower[d], features[p + d]); upper[d] = max(upper[d], features[p + d]) }
        }
        var dim = 0
        for d in 1..<5 where upper[d] - lower[d] > upper[dim] - lower[dim] { dim = d }
        if upper[dim] - lower[dim] == 0 { return id }
        let mid = (lo + hi) / 2
        select(lo, hi, mid, dim)
        nodeDim[Int(id)] = Int8(dim)
        nodeSplit[Int(id)] = features[5 * Int(order[mid]) + dim]
        let left = build(lo, mid), right = build(mid, hi)
        nodeLeft[Int(id)] = left; nodeRight[Int(id)] = right
        return id
    }

    /// Quickselect: order[lo..<hi] partitioned so that order[k] has the k-th smallest
    /// coordinate `dim` (ties by picture index), smaller ones before it, larger after.
    private mutating func select(_ lo0: Int, _ hi0: Int, _ k: Int, _ dim: Int) {
        var lo = lo0, hi = hi0 - 1
        func key(_ i: Int) -> (Double, Int32) { (features[5 * Int(order[i]) + dim], order[i]) }
        while lo < hi {
            let pivot = key((lo + hi) / 2)
            var i = lo, j = hi
            while i <= j {
                while key(i) < pivot { i += 1 }
                while pivot < key(j) { j -= 1 }
                if i <= j { order.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }

    /// The `k` nearest points of each query pixel (Euclidean, ties by picture index), nearest
    /// first, into `out[q·k ..< (q+1)·k]`; with `excludingSelf` a query never finds itself.
    /// If the pool's job is cancelled the queries stop early (checked every 512), leaving
    /// the rest of `out` as it was: the caller must check for cancellation after.
    func nearest(_ k: Int, of queries: [Int32], excludingSelf: Bool, into out: inout [Int32], pool: ThreadPool) {
        precondition(out.count >= queries.count * k)
        guard k > 0, !order.isEmpty else { return }
        features.withUnsafeBufferPointer { features in order.withUnsafeBufferPointer { order in
        nodeStart.withUnsafeBufferPointer { nodeStart in nodeEnd.withUnsafeBufferPointer { nodeEnd in
        nodeDim.withUnsafeBufferPointer { nodeDim in nodeSplit.withUnsafeBufferPointer { nodeSplit in
        nodeLeft.withUnsafeBufferPointer { nodeLeft in nodeRight.withUnsafeBufferPointer { nodeRight in
        queries.withUnsafeBufferPointer { queries in
        out.withUnsafeMutableBufferPointer { o in
            let o = UncheckedSendable(o)
            parallelChunks(queries.count, pool: pool) { range in
                let bestD = UnsafeMutablePointer<Double>.allocate(capacity: k), bestI = UnsafeMutablePointer<Int32>.allocate(capacity: k)
                defer { bestD.deallocate(); bestI.deallocate() }
                // Each pending node with its squared distance bound per coordinate (from the
                // splits on the way to it; lanes 5…7 unused) and their sum, in coordinate order.
                var stack: [(Int32, Double, SIMD8<Double>)] = []
                for qi in range {
                    // The queries are most of the terms' cost (seconds on a large picture).
                    if (qi - range.lowerBound) & 511 == 511, pool.isCancelled { break }
                    let q = Int(queries[qi]), qp = 5 * q
                    for j in 0..<k { bestD[j] = .infinity; bestI[j] = Int32.max }
                    // Point p at squared distance d into the k best (by distance, ties by index),
                    // unless it is there already.
                    @inline(__always) func insert(_ p: Int32, _ d: Double) {
                        guard d < bestD[k - 1] || (d == bestD[k - 1] && p < bestI[k - 1]) else { return }
                        for j in 0..<k where bestI[j] == p { return }
                        var j = k - 1
                        while j > 0, d < bestD[j - 1] || (d == bestD[j - 1] && p < bestI[j - 1]) {
                            bestD[j] = bestD[j - 1]; bestI[j] = bestI[j - 1]; j -= 1
                        }
                        bestD[j] = d; bestI[j] = p
                    }
                    @inline(__always) func distance(_ p: Int32) -> Double {
                        let pp = 5 * Int(p)
                        var d = 0.0
                        for c in 0..<5 { let t = features[qp + c] - features[pp + c]; d += t * t }
                        return d
                    }
                    // The previous query's neighbours (a pixel nearby, usually) start the list: real
                    // points, so the bound they give prunes only what cannot be nearer, and the
                    // answer is the same; the search then visits far fewer leaves.
                    if qi > range.lowerBound {
                        for j in 0..<k {
                            let p = o.value[(qi - 1) * k + j]
                            if p >= 0, p != Int32.max, !(excludingSelf && Int(p) == q) { insert(p, distance(p)) }
                        }
                    }
                    stack.removeAll(keepingCapacity: true)
                    stack.append((0, 0, SIMD8()))
                    while let (node, bound, offset) = stack.popLast() {
                        if bound > bestD[k - 1] { continue }
                        let nd = Int(node), dim = Int(nodeDim[nd])
                        if dim < 0 {
                            for e in Int(nodeStart[nd])..<Int(nodeEnd[nd]) {
                                let p = order[e]
                                if excludingSelf, Int(p) == q { continue }
                                insert(p, distance(p))
                            }
                        } else {
                            let diff = features[qp + dim] - nodeSplit[nd]
                            let (near, far) = diff < 0 ? (nodeLeft[nd], nodeRight[nd]) : (nodeRight[nd], nodeLeft[nd])
                            // The far side's points are at least |diff| away in `dim`, and as far
                            // as before in the others: the bound sums the coordinates' squares in
                            // the distance's own order, so it never exceeds a point's distance as
                            // computed below (rounding is monotone), and no neighbour is lost.
                            var farOffset = offset
                            farOffset[dim] = max(offset[dim], diff * diff)
                            var farBound = 0.0
                            for c in 0..<5 { farBound += farOffset[c] }
                            stack.append((far, farBound, farOffset))
                            stack.append((near, bound, offset))
                        }
                    }
                    for j in 0..<k { o.value[qi * k + j] = bestI[j] }
                }
            }
        } } } } } } } } } }
    }
}

extension ClosedFormMatting {
    /// The information-flow terms of the finest `level`, for its Laplacian's unknowns.
    ///
    /// - Throws: `CancellationError` if the pool's job is cancelled.
    func informationFlowOperator(_ flow: InformationFlow, level: Level, laplacian L: MattingLaplacian, pool: ThreadPool) throws -> InformationFlowOperator {
        let w = level.width, h = level.height, n = w * h
        var colour = [Double](repeating: 0, count: 3 * n)
        level.withColour { src in
            for y in 0..<h { for x in 0..<w { for c in 0..<3 { colour[c * n + y * w + x] = Double(src[channel: c, x: x, y: y]) } } }
        }
        let unknown = Array(UnsafeBufferPointer(start: L.unknown, count: L.unknownCount))
        return try InformationFlowOperator(flow: flow, colour: colour, width: w, height: h, state: level.state, unknown: unknown, pool: pool)
    }
}

extension InformationFlowOperator {
    /// The terms as the conjugate-gradient loop's extra operator (``ConjugateGradient/solve``):
    /// their product per row on `pool` (each row's sum in a fixed order, so any thread count
    /// gives the same bits), their diagonal and right-hand side.
    func extraOperator(pool: ThreadPool) -> ExtraOperator {
        let scratch = ScratchVector(count: m)
        return ExtraOperator(diagonal: diagonal(), rhs: rhs, isDiagonal: mixtureWeight == 0 && intraWeight == 0) { p, out in
            addProduct(p, into: out, y: scratch.pointer, pool: pool)
        }
    }
}

/// An m-double scratch vector freed with its last reference.
final class ScratchVector {
    let pointer: UnsafeMutablePointer<Double>
    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}
