import Foundation

extension MatteBatch {
    /// The `--report` file of `matte-batch`: the run's settings and totals, then one record
    /// per photo of the shard (``Record``), in sorted order.
    ///
    /// ```json
    /// {
    ///   "input_folder": "/data/photos", "output_folder": "/data/cutouts", "shard": "2/3", "jobs": 2,
    ///   "started": "2026-12-02T01:23:45Z", "seconds": 41.2, "processed": 97, "skipped": 0, "failed": 1,
    ///   "images": [
    ///     {"input": "/data/photos/a/b.jpg", "relative_path": "a/b.jpg", "outputs": ["/data/cutouts/a/b.png"],
    ///      "status": "processed", "error": null, "seconds": 0.412, "size": {"width": 1200, "height": 1800}},
    ///     {"input": "/data/photos/c.png", "relative_path": "c.png", "outputs": [], "status": "failed",
    ///      "error": "/data/photos/c.png: unsupported format: …", "seconds": 0.001, "size": null}
    ///   ]
    /// }
    /// ```
    public struct Report: Sendable, Codable, Equatable {
        public var inputFolder: String
        public var outputFolder: String
        /// `i/n`.
        public var shard: String
        /// Photos in flight at once.
        public var jobs: Int
        /// When the run started, ISO 8601 in UTC.
        public var started: String
        /// Wall-clock seconds of the whole run.
        public var seconds: Double
        public var processed: Int
        public var skipped: Int
        public var failed: Int
        /// One record per photo, sorted by relative path.
        public var images: [Record]

        public init(batch: MatteBatch, records: [Record], jobs: Int, started: Date, seconds: Double) {
            inputFolder = batch.inputFolder.path
            outputFolder = batch.outputFolder.path
            shard = batch.shard.description
            self.jobs = jobs
            self.started = ISO8601DateFormatter().string(from: started)
            self.seconds = (seconds * 1000).rounded() / 1000
            processed = records.count { $0.status == .processed }
            skipped = records.count { $0.status == .skipped }
            failed = records.count { $0.status == .failed }
            images = records
        }

        enum CodingKeys: String, CodingKey {
            case inputFolder = "input_folder", outputFolder = "output_folder", shard, jobs, started, seconds,
                 processed, skipped, failed, images
        }

        /// The report as pretty-printed UTF-8 JSON.
        public func encoded() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(self)) + [0x0a]
        }
    }
}
