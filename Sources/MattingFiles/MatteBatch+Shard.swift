extension MatteBatch {
    /// A deterministic share of a folder: shard `index` of `count` (1-based), for splitting a
    /// batch across machines (a Kubernetes indexed Job, a Slurm array, GNU parallel).
    ///
    /// A photo belongs to shard `h mod count + 1`, where `h` is the 64-bit FNV-1a hash of its
    /// relative path's UTF-8 bytes (`/`-separated, as below the input folder). So every photo
    /// is in exactly one shard, and its shard depends on its name only — not on which other
    /// files exist — so shards listing a growing folder at different times still never share
    /// or miss a photo that all of them saw. Shards are balanced statistically, not exactly:
    /// with about `k` photos a shard, each gets `k ± √k` or so (100 photos in 3 shards: 32, 37, 31).
    public struct Shard: Sendable, Hashable, CustomStringConvertible {
        /// This shard, 1…``count``.
        public let index: Int
        /// How many shards there are (at least 1).
        public let count: Int

        /// - Precondition: `1 ≤ index ≤ count`.
        public init(index: Int, count: Int) {
            precondition(count >= 1 && (1...count).contains(index), "shard \(index)/\(count) is out of range")
            self.index = index
            self.count = count
        }

        /// Parses `i/n`, for example `2/3`.
        ///
        /// - Throws: ``MatteBatchError/invalidShard(_:)`` unless `1 ≤ i ≤ n`.
        public init(parsing text: String) throws(MatteBatchError) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else {
                throw .invalidShard(text)
            }
            self.init(index: i, count: n)
        }

        /// The shard (1…count) the photo at `relativePath` belongs to.
        public static func number(of relativePath: String, count: Int) -> Int {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in relativePath.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            return Int(hash % UInt64(count)) + 1
        }

        /// Whether the photo at `relativePath` is in this shard.
        public func contains(_ relativePath: String) -> Bool {
            Self.number(of: relativePath, count: count) == index
        }

        /// `i/n`.
        public var description: String { "\(index)/\(count)" }
    }
}
