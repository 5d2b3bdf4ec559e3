import MattingThreads

extension ImageBuffer {
    /// The picture scaled to `width × height` pixels with the given filter.
    ///
    /// Works on every layout; channels are filtered independently (alpha included, so
    /// resample straight-alpha images only where colour under transparent pixels is
    /// meaningful, or premultiply first). Computation is in `Float`; 8-bit results are
    /// rounded to nearest and clamped. Returns the picture itself when the size is unchanged.
    /// Work is split over the threads of `pool` by output rows; the result does not depend
    /// on the split.
    ///
    /// - Precondition: `width > 0`, `height > 0`, and the picture is not empty.
    public func resized(
        width newWidth: Int, height newHeight: Int, filter: ResamplingFilter = .area, pool: ThreadPool = .serial
    ) -> ImageBuffer {
        precondition(newWidth > 0 && newHeight > 0, "resize target \(newWidth)×\(newHeight) must be positive")
        precondition(!isEmpty, "cannot resize an empty image")
        if newWidth == width && newHeight == height { return self }
        let horizontal = ResamplingWeights(inputSize: width, outputSize: newWidth, filter: filter)
        let vertical = ResamplingWeights(inputSize: height, outputSize: newHeight, filter: filter)
        let channels = channelCount, sourceWidth = width
        let midStride = newWidth * channels
        // The rows of horizontally filtered input one output row can read: its taps.
        let window = max(1, vertical.count.lazy.map { Int($0) }.max() ?? 1)
        // Float rows are filtered where they are (loading them would be a copy).
        let isFloat = Component.self == Float.self

        // Output rows are weighted sums of input rows filtered horizontally (raw component
        // units: 0…255 for 8-bit). Each thread filters the input rows its block of output rows
        // reads into a ring of `window` rows as it goes down, instead of filtering the whole
        // picture into one plane first (73 MB for a 12 MP photo brought to 2048 px, all of it
        // fresh memory). Every value is computed by the same arithmetic in the same order, so
        // the result is bit-identical to the two-pass form; rows at a block boundary are
        // filtered by both threads.
        // Every output row is stored below.
        var result = ImageBuffer(uninitializedWidth: newWidth, height: newHeight, layout: layout)
        result.colorProfile = colorProfile
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                horizontal.withPointers { hStart, hCount, hWeights, hTaps in
                    vertical.withPointers { start, count, weights, taps in
                        // Two blocks once either side is tall (a short output may still read many rows).
                        Self.forEachRowBlock(newHeight, pool: newHeight >= 2 && max(newHeight, height) >= 64 ? pool : .serial) { rows in
                            let ring = UnsafeMutablePointer<Float>.allocate(capacity: window * midStride)
                            let line = UnsafeMutablePointer<Float>.allocate(capacity: sourceWidth * channels)
                            let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: midStride)
                            // The input row each ring slot holds (-1: none yet).
                            var held = [Int](repeating: -1, count: window)
                            defer { ring.deallocate(); line.deallocate(); accumulator.deallocate() }
                            func filtered(_ y: Int) -> UnsafeMutablePointer<Float> {
                                let slot = y % window, row = ring + slot * midStride
                                if held[slot] != y {
                                    let input: UnsafePointer<Float>
                                    if isFloat {
                                        input = UnsafeRawPointer(src + y * srcStride).assumingMemoryBound(to: Float.self)
                                    } else {
                                        Component.load(src + y * srcStride, count: sourceWidth * channels, into: line)
                                        input = UnsafePointer(line)
                                    }
                                    resampleRow(
                                        input, into: row, outputCount: newWidth, channels: channels,
                                        start: hStart, count: hCount, weights: hWeights, taps: hTaps)
                                    held[slot] = y
                                }
                                return row
                            }
                            for y in rows {
                                let first = Int(start[y]), n = Int(count[y])
                                // Every row of the window is filtered before any is summed: the
                                // window's rows are consecutive, so they occupy distinct slots.
                                for k in 0..<max(n, 1) { _ = filtered(first + k) }
                                sumRingRows(into: accumulator, ring: ring, slots: window, stride: midStride,
                                            first: first, count: n, weights: weights + y * taps)
                                Component.store(accumulator, count: midStride, into: dst + y * dstStride)
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The picture scaled so that its longer side is at most `maximumSide`, aspect ratio kept
    /// (sides rounded to nearest, at least 1). Returns the picture itself if it already fits.
    public func resized(toFitWithin maximumSide: Int, filter: ResamplingFilter = .area, pool: ThreadPool = .serial) -> ImageBuffer {
        precondition(maximumSide > 0, "maximum side must be positive")
        let longer = max(width, height)
        if longer <= maximumSide { return self }
        let scale = Double(maximumSide) / Double(longer)
        return resized(
            width: max(1, Int((Double(width) * scale).rounded())),
            height: max(1, Int((Double(height) * scale).rounded())), filter: filter, pool: pool)
    }

    /// Runs `body` over `0..<rows`, split into one contiguous block per thread of `pool`.
    static func forEachRowBlock(_ rows: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        pool.parallelChunks(rows, body)
    }
}

/// One row filtered horizontally: `output[x·C + c] = Σ_k w[x][k] · input[(start[x] + k)·C + c]`.
/// Specialised by channel count so the channel loop is unrolled.
@inline(__always)
private func resampleRow(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, outputCount: Int, channels: Int,
    start: UnsafePointer<Int32>, count: UnsafePointer<Int32>, weights: UnsafePointer<Float>, taps: Int
) {
    switch channels {
    case 1:
        for x in 0..<outputCount {
            let p = input + Int(start[x]), w = weights + x * taps
            var s: Float = 0
            for k in 0..<Int(count[x]) { s += w[k] * p[k] }
            output[x] = s
        }
    case 3:
        for x in 0..<outputCount {
            let p = input + 3 * Int(start[x]), w = weights + x * taps
            var s0: Float = 0, s1: Float = 0, s2: Float = 0
            for k in 0..<Int(count[x]) {
                let wk = w[k]
                s0 += wk * p[3 * k]
                s1 += wk * p[3 * k + 1]
                s2 += wk * p[3 * k + 2]
            }
            output[3 * x] = s0
            output[3 * x + 1] = s1
            output[3 * x + 2] = s2
        }
    case 4:
        for x in 0..<outputCount {
            let p = input + 4 * Int(start[x]), w = weights + x * taps
            var s = SIMD4<Float>()
            for k in 0..<Int(count[x]) {
                s += w[k] * SIMD4(p[4 * k], p[4 * k + 1], p[4 * k + 2], p[4 * k + 3])
            }
            output[4 * x] = s[0]
            output[4 * x + 1] = s[1]
            output[4 * x + 2] = s[2]
            output[4 * x + 3] = s[3]
        }
    default:
        for x in 0..<outputCount {
            let p = input + channels * Int(start[x]), w = weights + x * taps
            for c in 0..<channels {
                var s: Float = 0
                for k in 0..<Int(count[x]) { s += w[k] * p[channels * k + c] }
                output[channels * x + c] = s
            }
        }
    }
}

/// One output row of a vertical pass: into `accumulator`, the weighted sum of rows
/// `first ..< first + count` (at least the first) of a ring of `slots` rows of `stride` floats,
/// row `r` in slot `r % slots`. Shared by the whole-picture and the streaming resizers, so the
/// two give the same bytes.
@inline(__always)
func sumRingRows(into accumulator: UnsafeMutablePointer<Float>, ring: UnsafePointer<Float>, slots: Int, stride: Int,
                 first: Int, count: Int, weights: UnsafePointer<Float>) {
    let m0 = ring + (first % slots) * stride, w0 = weights[0]
    for i in 0..<stride { accumulator[i] = w0 * m0[i] }
    for k in 1..<max(count, 1) {
        let weight = weights[k], m = ring + ((first + k) % slots) * stride
        for i in 0..<stride { accumulator[i] += weight * m[i] }
    }
}

extension ResamplingWeights {
    func withPointers<R>(
        _ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Float>, Int) -> R
    ) -> R {
        start.withUnsafeBufferPointer { s in
            count.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in body(s.baseAddress!, c.baseAddress!, w.baseAddress!, taps) }
            }
        }
    }
}

/// ``ImageBuffer/resized(width:height:filter:pool:)`` of an 8-bit picture that arrives a band
/// of rows at a time, top to bottom: the same horizontal filtering of each input row, the
/// same weighted sums of rows in the same order, so the result is byte-identical, while only
/// the filtered rows an output row still needs are held (never the input picture).
package struct StreamingResizer {
    let horizontal: ResamplingWeights, vertical: ResamplingWeights
    let sourceWidth: Int, channels: Int, newWidth: Int, window: Int
    /// Filtered rows, row `y` in slot `y % capacity`.
    private var ring: [Float]
    private let capacity: Int
    private var rowsIn = 0
    private var rowsOut = 0
    /// The resized picture; complete once every input row has been added.
    package private(set) var result: Image

    /// - Parameters: `maximumBandRows`: the most rows one ``add(_:rows:pool:)`` gives.
    package init(width: Int, height: Int, layout: PixelLayout, newWidth: Int, newHeight: Int,
                 filter: ResamplingFilter, maximumBandRows: Int) {
        horizontal = ResamplingWeights(inputSize: width, outputSize: newWidth, filter: filter)
        vertical = ResamplingWeights(inputSize: height, outputSize: newHeight, filter: filter)
        sourceWidth = width
        channels = layout.channelCount
        self.newWidth = newWidth
        window = max(1, vertical.count.lazy.map { Int($0) }.max() ?? 1)
        capacity = maximumBandRows + window
        ring = [Float](repeating: 0, count: capacity * newWidth * layout.channelCount)
        result = Image(width: newWidth, height: newHeight, layout: layout)
    }

    /// Adds the next `count` input rows (rows `0..<count` of `band`, the picture's layout and
    /// width); output rows whose inputs are all in are computed.
    package mutating func add(_ band: Image, rows count: Int, pool: ThreadPool = .serial) {
        precondition(count <= capacity - window && band.width == sourceWidth && band.channelCount == channels)
        let first = rowsIn, midStride = newWidth * channels, sourceWidth = sourceWidth, channels = channels
        let capacity = capacity, newWidth = newWidth
        ring.withUnsafeMutableBufferPointer { ring in
            let ring = ring.baseAddress!
            band.withUnsafeBufferPointer { src, srcStride in
                                horizontal.withPointers { hStart, hCount, hWeights, hTaps in
                    let p = (hStart, hCount, hWeights)
                    pool.parallelChunks(count) { rows in
                        let line = UnsafeMutablePointer<Float>.allocate(capacity: sourceWidth * channels)
                        defer { line.deallocate() }
                        for i in rows {
                            UInt8.load(src + i * srcStride, count: sourceWidth * channels, into: line)
                            resampleRow(UnsafePointer(line), into: ring + ((first + i) % capacity) * midStride,
                                        outputCount: newWidth, channels: channels,
                                        start: p.0, count: p.1, weights: p.2, taps: hTaps)
                        }
                    }
                }
            }
        }
        rowsIn += count
        // Output rows whose window has arrived, in order.
        var ready = rowsOut
        while ready < vertical.outputSize {
            let last = Int(vertical.start[ready]) + max(Int(vertical.count[ready]), 1) - 1
            if last >= rowsIn { break }
            ready += 1
        }
        guard ready > rowsOut else { return }
        let from = rowsOut
        ring.withUnsafeBufferPointer { ring in
            let ring = ring.baseAddress!
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                                vertical.withPointers { start, vCount, weights, taps in
                    let p = (start, vCount, weights)
                    pool.parallelChunks(ready - from) { chunk in
                        let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: midStride)
                        defer { accumulator.deallocate() }
                        for j in chunk {
                            let y = from + j
                            sumRingRows(into: accumulator, ring: ring, slots: capacity, stride: midStride,
                                        first: Int(p.0[y]), count: Int(p.1[y]), weights: p.2 + y * taps)
                            UInt8.store(accumulator, count: midStride, into: dst + y * dstStride)
                        }
                    }
                }
            }
        }
        rowsOut = ready
    }
}
