import Foundation
import MattingImage

/// Decodes a file's rows one batch ahead, on a thread of its own, while the caller works on
/// the batch before: the strip path's decoding is serial (libjpeg and libpng decode one row
/// after another), and this lets it overlap the pool's work on the previous strip. The rows
/// are exactly those of the source's `readRows(_:into:)`.
///
/// Two batches are held at most. ``stop()`` (also on deinit) ends the thread; once it has
/// returned, the prefetcher holds no reference to the reader any more (so a reader that owns
/// files — an interlaced PNG's one per pass — is closed when its caller drops it, not later
/// on this thread).
final class RowPrefetcher: @unchecked Sendable {
    /// The reader, until the thread is done with it (then nil: only the thread touches it).
    private var source: (any ImageRowSource)?
    private let path: String
    private let counts: [Int]
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var batches: [Int: Result<Image, ImageError>] = [:]
    private var taken = 0
    private var stopping = false
    private var finished = false

    /// Starts decoding `counts[0]` rows, then `counts[1]`, … (their sum at most the rows left).
    init(_ reader: any ImageRowSource, counts: [Int]) {
        self.source = reader
        self.path = reader.path
        self.counts = counts
        let thread = Thread { [self] in run() }
        thread.name = "MattingKit row prefetch"
        thread.start()
    }

    deinit { stop() }

    private func run() {
        if let source { decode(source) }
        // The thread's last reference to the reader goes before `finished` is announced.
        source = nil
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func decode(_ reader: any ImageRowSource) {
        // Two buffers, decoded into in turn and reused: batch i's buffer is written again for
        // batch i + 2, after the caller took batch i + 1 and so dropped batch i (no copy, and
        // no new allocation a batch, which grows the heap of a thread that frees elsewhere).
        let rows = counts.max() ?? 0
        var ring = [Image(width: reader.width, height: max(rows, 1), layout: reader.layout),
                    Image(width: reader.width, height: max(rows, 1), layout: reader.layout)]
        for (index, count) in counts.enumerated() {
            condition.lock()
            // One batch decoded ahead of the one the caller holds.
            while !stopping && index > taken { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { break }
            let result: Result<Image, ImageError>
            do throws(ImageError) {
                try reader.readRows(count, into: &ring[index % 2])
                result = .success(ring[index % 2])
            } catch {
                result = .failure(error)
            }
            condition.lock()
            batches[index] = result
            condition.broadcast()
            condition.unlock()
            if case .failure = result { break }
        }
    }

    /// The next batch: rows `0..<counts[i]` of the image (it may have more rows), waiting for
    /// it if needed. Drop it before taking the one after next, or its buffer is copied.
    /// - Throws: the reader's error for this batch.
    func next() throws(ImageError) -> Image {
        condition.lock()
        defer { condition.unlock() }
        let index = taken
        precondition(index < counts.count, "RowPrefetcher: more batches taken than asked for")
        while batches[index] == nil {
            if finished, batches[index] == nil {
                // The thread stopped on an earlier failure (rethrown there) or was stopped.
                throw .corrupt(source: path, detail: "rows could not be read")
            }
            condition.wait()
        }
        let result = batches.removeValue(forKey: index)!
        taken += 1
        condition.broadcast()
        return try result.get()
    }

    /// Ends the thread (after the batch it is decoding) and waits for it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
