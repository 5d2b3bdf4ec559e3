extension MattingLaplacian {
    /// Per-thread scratch for ``apply(tile:_:into:scratch:)``, sized for the largest tile.
    final class Scratch {
        let pixels: UnsafeMutablePointer<Double>   // 4 planes on the pixel grid
        let centres: UnsafeMutablePointer<Double>  // 4 planes on the centre grid
        let spread: UnsafeMutablePointer<Double>   // 4 planes on the output tile
        let temporary: UnsafeMutablePointer<Double>

        init(radius r: Int) {
            let t = MattingLaplacian.tileSize
            let p = (t + 4 * r) * (t + 4 * r), g = (t + 2 * r) * (t + 2 * r)
            pixels = .allocate(capacity: 4 * p)
            centres = .allocate(capacity: 4 * g)
            spread = .allocate(capacity: 4 * t * t)
            temporary = .allocate(capacity: (t + 4 * r) * (t + 2 * r))
        }

        deinit {
            pixels.deallocate(); centres.deallocate(); spread.deallocate(); temporary.deallocate()
        }
    }

    /// `(L p)_i` for the unknown pixels of `tile`, written to `out[0..<tile.unknown.count]`
    /// in the tile's unknown order. `p` is a full-size vector (row-major, `width × height`).
    /// Returns `Σ p_i (L p)_i` over those pixels (for the conjugate-gradient step size).
    func apply(tile: Tile, _ p: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, scratch: Scratch) -> Double {
        let r = radius, k = 2 * r + 1, area = Double(k * k)
        let tw = tile.x1 - tile.x0, th = tile.y1 - tile.y0
        let gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r
        let pn = pw * ph, gn = gw * gh, tn = tw * th
        let P = scratch.pixels, G = scratch.centres, S = scratch.spread
        // 1. Gather p with its halo (0 outside the picture) and the products I_c·p.
        tile.colour.withUnsafeBufferPointer { colour in
            let colour = colour.baseAddress!
            for py in 0..<ph {
                let y = tile.y0 - 2 * r + py
                let row = P + py * pw
                if y < 0 || y >= height {
                    for px in 0..<pw { row[px] = 0 }
                } else {
                    // Columns inside the picture are copied; the halo outside is 0.
                    let source = p + y * width, first = tile.x0 - 2 * r
                    let lo = max(0, -first), hi = min(pw, width - first)
                    for px in 0..<lo { row[px] = 0 }
                    if hi > lo { (row + lo).update(from: source + first + lo, count: hi - lo) }
                    for px in max(hi, lo)..<pw { row[px] = 0 }
                }
                let c0 = colour + py * pw, c1 = c0 + pn, c2 = c1 + pn
                let q0 = row + pn, q1 = q0 + pn, q2 = q1 + pn
                var px = 0
                while px + 4 <= pw {
                    let v = UnsafeRawPointer(row + px).loadUnaligned(as: SIMD4<Double>.self)
                    let p0 = UnsafeRawPointer(c0 + px).loadUnaligned(as: SIMD4<Double>.self) * v
                    let p1 = UnsafeRawPointer(c1 + px).loadUnaligned(as: SIMD4<Double>.self) * v
                    let p2 = UnsafeRawPointer(c2 + px).loadUnaligned(as: SIMD4<Double>.self) * v
                    UnsafeMutableRawPointer(q0 + px).storeBytes(of: p0, as: SIMD4<Double>.self)
                    UnsafeMutableRawPointer(q1 + px).storeBytes(of: p1, as: SIMD4<Double>.self)
                    UnsafeMutableRawPointer(q2 + px).storeBytes(of: p2, as: SIMD4<Double>.self)
                    px += 4
                }
                while px < pw {
                    let v = row[px]
                    q0[px] = c0[px] * v; q1[px] = c1[px] * v; q2[px] = c2[px] * v
                    px += 1
                }
            }
        }
        // 2. Window sums on the centre grid.
        for q in 0..<4 {
            Self.windowSums(P + q * pn, G + q * gn, width: gw, height: gh, window: k, scratch: scratch.temporary)
        }
        // 3. a_k = Δ⁻¹ (mean(I p) − μ mean(p)), b_k = mean(p) − a_kᵀ μ_k; 0 for windows outside.
        // Written with SIMD4<Double> (two SSE2 registers) so the loop is vectorised whatever
        // the optimiser decides about aliasing; the tail goes through the same code, padded.
        let inverseArea = 1 / area
        tile.valid.withUnsafeBufferPointer { valid in
            tile.mean.withUnsafeBufferPointer { mean in
                tile.inverse.withUnsafeBufferPointer { inverse in
                    let m = mean.baseAddress!, v = inverse.baseAddress!, ok = valid.baseAddress!
                    @inline(__always) func load(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD4<Double> {
                        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
                    }
                    @inline(__always) func store(_ value: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
                        UnsafeMutableRawPointer(p + i).storeBytes(of: value, as: SIMD4<Double>.self)
                    }
                    var g = 0
                    while g + 4 <= gn {
                        let mp = load(G, g) * inverseArea
                        let m0 = load(m, g), m1 = load(m, gn + g), m2 = load(m, 2 * gn + g)
                        let c0 = load(G, gn + g) * inverseArea - m0 * mp
                        let c1 = load(G, 2 * gn + g) * inverseArea - m1 * mp
                        let c2 = load(G, 3 * gn + g) * inverseArea - m2 * mp
                        let v00 = load(v, g), v01 = load(v, gn + g), v02 = load(v, 2 * gn + g)
                        let v11 = load(v, 3 * gn + g), v12 = load(v, 4 * gn + g), v22 = load(v, 5 * gn + g)
                        let a0 = v00 * c0 + v01 * c1 + v02 * c2
                        let a1 = v01 * c0 + v11 * c1 + v12 * c2
                        let a2 = v02 * c0 + v12 * c1 + v22 * c2
                        let valid = load(ok, g)
                        store(valid * (mp - a0 * m0 - a1 * m1 - a2 * m2), G, g)
                        store(valid * a0, G, gn + g)
                        store(valid * a1, G, 2 * gn + g)
                        store(valid * a2, G, 3 * gn + g)
                        g += 4
                    }
                    while g < gn {
                        let mp = G[g] * inverseArea
                        let m0 = m[g], m1 = m[gn + g], m2 = m[2 * gn + g]
                        let c0 = G[gn + g] * inverseArea - m0 * mp
                        let c1 = G[2 * gn + g] * inverseArea - m1 * mp
                        let c2 = G[3 * gn + g] * inverseArea - m2 * mp
                        let a0 = v[g] * c0 + v[gn + g] * c1 + v[2 * gn + g] * c2
                        let a1 = v[gn + g] * c0 + v[3 * gn + g] * c1 + v[4 * gn + g] * c2
                        let a2 = v[2 * gn + g] * c0 + v[4 * gn + g] * c1 + v[5 * gn + g] * c2
                        G[g] = ok[g] * (mp - a0 * m0 - a1 * m1 - a2 * m2)
                        G[gn + g] = ok[g] * a0
                        G[2 * gn + g] = ok[g] * a1
                        G[3 * gn + g] = ok[g] * a2
                        g += 1
                    }
                }
            }
        }
        // 4. Sum a_k, b_k over the windows holding each pixel of the tile.
        for q in 0..<4 {
            Self.windowSums(G + q * gn, S + q * tn, width: tw, height: th, window: k, scratch: scratch.temporary)
        }
        // 5. (L p)_i = n_i p_i − (Σa)ᵀ I_i − Σb.
        var dot = 0.0
        tile.colour.withUnsafeBufferPointer { colour in
            tile.windowCount.withUnsafeBufferPointer { count in
                tile.local.withUnsafeBufferPointer { local in
                    for (j, index) in tile.unknown.enumerated() {
                        let i = Int(index), s = Int(local[2 * j]), c = Int(local[2 * j + 1])
                        let value = count[j] * p[i]
                            - (S[tn + s] * colour[c] + S[2 * tn + s] * colour[pn + c] + S[3 * tn + s] * colour[2 * pn + c] + S[s])
                        out[j] = value
                        dot += p[i] * value
                    }
                }
            }
        }
        return dot
    }
}
