import Synchronization
import Testing
@testable import MattingKit

@Suite("BackgroundValue")
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
}
