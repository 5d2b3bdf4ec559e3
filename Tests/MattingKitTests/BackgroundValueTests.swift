import Synchronization
import Testing
@testable import MattingKit

@Suite("BackgroundValue and MatteJob.both")
struct BackgroundValueTests {
    struct Failure: Error, Equatable { let tag: Int }

    @Test func deliversTheValueToEveryCaller() throws {
        let runs = Atomic<Int>(0)
        let value = BackgroundValue { () -> [Int] in
            runs.add(1, ordering: .relaxed)
            return Array(0..<1000)
        }
        #expect(try value.value() == Array(0..<1000))
        #expect(try value.value() == Array(0..<1000))
        #expect(runs.load(ordering: .relaxed) == 1)
    }

    @Test func rethrowsTheComputationsError() {
        let value = BackgroundValue { () throws -> Int in throw Failure(tag: 3) }
        #expect(throws: Failure(tag: 3)) { try value.value() }
        #expect(throws: Failure(tag: 3)) { try value.value() }
    }

    /// Both results come back; with two failures the first one's error is thrown, as when
    /// the job encoded its outputs one after the other.
    @Test func bothReturnsBothAndThrowsInOrder() throws {
        let (a, b) = try MatteJob.both({ "cut-out" }, { 42 })
        #expect(a == "cut-out" && b == 42)
        #expect(throws: Failure(tag: 1)) {
            try MatteJob.both({ () throws -> Int in throw Failure(tag: 1) }, { () throws -> Int in throw Failure(tag: 2) })
        }
        #expect(throws: Failure(tag: 2)) { try MatteJob.both({ 1 }, { () throws -> Int in throw Failure(tag: 2) }) }
    }
}
