import Dispatch
import Testing
@testable import MattingEngine

@Suite("Thread pool")
struct ThreadPoolTests {
    @Test("every index runs exactly once, on a worker in range", arguments: [1, 2, 3, 8])
    func everyIndexOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for count in [0, 1, 2, 7, 1000] {
            var hits = [Int](repeating: 0, count: count)
            var workers = [Int](repeating: -1, count: count)
            hits.withUnsafeMutableBufferPointer { hits in
                workers.withUnsafeMutableBufferPointer { workers in
                    pool.parallelFor(count) { i, worker in
                        hits[i] += 1
                        workers[i] = worker
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "threads \(threads) count \(count)")
            #expect(workers.allSatisfy { (0..<threads).contains($0) }, "threads \(threads) count \(count)")
        }
    }

    @Test("an absurd thread count is clamped, and the pool still computes every index")
    func absurdThreadCountIsClamped() {
        #expect(ThreadPool(threadCount: 0).threadCount == 1)
        #expect(ThreadPool(threadCount: -5).threadCount == 1)
        let pool = ThreadPool(threadCount: Int.max)
        #expect(pool.threadCount == ThreadPool.maximumThreadCount)
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: 5000)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        pool.parallelFor(hits.count) { i, _ in hits[i] += 1 }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    @Test("many short regions in a row (workers joining late or not at all)")
    func manyShortRegions() {
        let pool = ThreadPool(threadCount: 2)
        var total = 0
        var slots = [Int](repeating: 0, count: 3)
        for round in 0..<20_000 {
            let count = 1 + round % 3
            slots.withUnsafeMutableBufferPointer { s in
                pool.parallelFor(count) { i in s[i] = round }
            }
            total += slots[0..<count].allSatisfy { $0 == round } ? 1 : 0
        }
        #expect(total == 20_000)
    }

    @Test("nested regions run serially instead of deadlocking")
    func nested() {
        let pool = ThreadPool(threadCount: 2)
        var sums = [Int](repeating: 0, count: 16)
        sums.withUnsafeMutableBufferPointer { sums in
            pool.parallelFor(16) { i in
                var local = 0
                pool.parallelFor(10) { j in local += j }
                sums[i] = local
            }
        }
        #expect(sums.allSatisfy { $0 == 45 })
    }

    @Test("regions from several threads on one pool")
    func concurrentCallers() {
        let pool = ThreadPool(threadCount: 2)
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            var total = [Int](repeating: 0, count: 100)
            total.withUnsafeMutableBufferPointer { t in pool.parallelFor(100) { i in t[i] = i } }
            out[caller] = total.reduce(0, +)
        }
        #expect(results.allSatisfy { $0 == 4950 })
    }
}
