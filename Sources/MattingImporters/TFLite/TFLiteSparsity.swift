/// A sparse constant tensor's layout (TFLite's `SparsityParameters`, a TACO-style format):
/// the stored values are the non-zeros, visited level by level in ``traversalOrder``; each level
/// is either dense (every index `0..<size`) or compressed (CSR: per parent position, a segment
/// of explicit indices). Dimensions may be split into blocks (``blockMap``): the traversal then
/// has one more level per block, the block's inner index.
///
/// Converters write weights this way when most of them are zero (MediaPipe's pose and
/// full-range face detectors, for example); MattingKit expands them to dense at load time.
/// Everything is checked when the model is parsed, so expanding cannot go out of bounds.
package struct TFLiteSparsity: Sendable, Hashable {
    /// One traversal level.
    package enum Level: Sendable, Hashable {
        /// Every index `0..<size`.
        case dense(size: Int)
        /// For stored position `p` of the level above, the indices `indices[segments[p]..<segments[p + 1]]`.
        case compressed(segments: [Int], indices: [Int])
    }

    /// For each level, the (blocked) dimension it walks: `0..<rank` are the tensor's dimensions
    /// (divided by their block size where blocked), `rank + k` the inner index of block `k`.
    package var traversalOrder: [Int]
    /// For block `k`, the tensor dimension it splits.
    package var blockMap: [Int]
    /// The levels, in traversal order.
    package var levels: [Level]
    /// How many values the buffer stores.
    package var storedCount: Int

    /// Checks the parameters against a tensor of `shape` and counts the stored values.
    init(traversalOrder: [Int], blockMap: [Int], levels: [Level], shape: [Int]) throws {
        let rank = shape.count, levelCount = rank + blockMap.count
        guard traversalOrder.count == levelCount, levels.count == levelCount,
              Set(traversalOrder) == Set(0..<levelCount) else {
            throw FormatViolation(.invalidModel, "sparsity: traversal order \(traversalOrder) is not a permutation of the \(levelCount) levels "
                                  + "(\(rank) dimensions, \(blockMap.count) blocks) with \(levels.count) dimension metadata")
        }
        guard Set(blockMap).count == blockMap.count, blockMap.allSatisfy({ (0..<rank).contains($0) }) else {
            throw FormatViolation(.invalidModel, "sparsity: block map \(blockMap) does not name distinct dimensions of a rank-\(rank) tensor")
        }
        // Each blocked level's extent: a block's inner size comes from its own (dense) level.
        var extents = shape
        for (k, dimension) in blockMap.enumerated() {
            guard let level = traversalOrder.firstIndex(of: rank + k), case let .dense(size) = levels[level], size > 0,
                  shape[dimension] % size == 0 else {
                throw FormatViolation(.invalidModel, "sparsity: block \(k) of dimension \(dimension) needs a dense level whose size divides \(shape[dimension])")
            }
            extents[dimension] = shape[dimension] / size
            extents.append(size)
        }
        // Walk the levels, counting positions: dense multiplies, compressed maps through its segments.
        var positions = 1
        for (level, metadata) in levels.enumerated() {
            let extent = extents[traversalOrder[level]]
            switch metadata {
            case let .dense(size):
                guard size == extent else {
                    throw FormatViolation(.invalidModel, "sparsity: level \(level) is dense with size \(size) but its dimension has \(extent)")
                }
                let (product, overflow) = positions.multipliedReportingOverflow(by: size)
                guard !overflow else { throw FormatViolation(.invalidModel, "sparsity: level \(level) overflows") }
                positions = product
            case let .compressed(segments, indices):
                guard segments.count == positions + 1, segments.first == 0, segments.last == indices.count,
                      zip(segments, segments.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw FormatViolation(.invalidModel, "sparsity: level \(level) needs \(positions + 1) non-decreasing segments "
                                          + "from 0 to its \(indices.count) indices")
                }
                guard indices.allSatisfy({ (0..<extent).contains($0) }) else {
                    throw FormatViolation(.invalidModel, "sparsity: level \(level) has an index outside 0..<\(extent)")
                }
                positions = indices.count
            }
        }
        self.traversalOrder = traversalOrder
        self.blockMap = blockMap
        self.levels = levels
        storedCount = positions
    }

    /// The dense tensor (row-major over `shape`) with `stored` placed and `zero` elsewhere.
    ///
    /// `stored.count` must be ``storedCount`` and `shape` the one the parameters were checked
    /// against (both hold for a parsed model's tensors).
    func expanded<T>(_ stored: [T], shape: [Int], zero: T) -> [T] {
        precondition(stored.count == storedCount)
        let rank = shape.count
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        let total = shape.reduce(1, *)
        var dense = [T](repeating: zero, count: total)
        var blockSizes: [Int] = []
        for k in blockMap.indices {
            if let level = traversalOrder.firstIndex(of: rank + k), case let .dense(size) = levels[level] { blockSizes.append(size) }
        }
        var coordinates = [Int](repeating: 0, count: traversalOrder.count)
        func offset() -> Int {
            var original = Array(coordinates[0..<rank])
            for (k, dimension) in blockMap.enumerated() {
                original[dimension] = coordinates[dimension] * blockSizes[k] + coordinates[rank + k]
            }
            return zip(original, strides).reduce(0) { $0 + $1.0 * $1.1 }
        }
        func walk(_ level: Int, _ position: Int) {
            if level == levels.count {
                dense[offset()] = stored[position]
                return
            }
            let dimension = traversalOrder[level]
            switch levels[level] {
            case let .dense(size):
                for i in 0..<size {
                    coordinates[dimension] = i
                    walk(level + 1, position * size + i)
                }
            case let .compressed(segments, indices):
                for k in segments[position]..<segments[position + 1] {
                    coordinates[dimension] = indices[k]
                    walk(level + 1, k)
                }
            }
        }
        walk(0, 0)
        return dense
    }
}
