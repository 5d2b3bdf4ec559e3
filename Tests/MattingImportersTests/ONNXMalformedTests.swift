import Foundation
import MattingTestSupport
import Testing
@testable import MattingImporters

/// Malformed ONNX input must throw ``ModelImportError`` (or parse), never trap.
@Suite("ONNX: malformed files")
struct ONNXMalformedTests {
    static func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Fixtures.url("ONNX/\(name)")))
    }

    /// Parses and touches every tensor accessor a consumer would use.
    static func parse(_ bytes: [UInt8], directory: URL? = nil) throws -> ONNXModel {
        let model = try ONNXModel(bytes: bytes, fileName: "mutated.onnx", externalDataDirectory: directory)
        for t in model.graph.initializers {
            switch t.dataType {
            case .float: _ = try t.floatValues()
            case .float16: _ = try t.float16Bits()
            case .int64: _ = try t.int64Values()
            default: break
            }
            _ = t.elementCount
        }
        return model
    }

    @Test func handBuiltModelParses() throws {
        let raw = [UInt8](repeating: 0, count: 24)
        let model = try Self.parse(PB.model(initializers: [PB.floatTensor(name: "w", dims: [2, 3], raw: raw)]))
        #expect(model.irVersion == 8 && model.defaultOpsetVersion == 17)
        #expect(model.graph.nodes.map(\.opType) == ["Identity"])
        #expect(try model.graph.initializers[0].floatValues() == [Float](repeating: 0, count: 6))
    }

    @Test func truncatedAtEverySixteenth() throws {
        let bytes = try Self.fixtureBytes("unet_dynamic_opset17.onnx")
        for k in 0..<16 {
            let prefix = Array(bytes.prefix(bytes.count * k / 16))
            #expect(throws: ModelImportError.self, "truncated to \(k)/16") { try Self.parse(prefix) }
        }
        _ = try Self.parse(bytes)
    }

    @Test func randomBytes() {
        var rng = SeededGenerator(seed: 0x0_0AA_0AA)
        for size in [0, 1, 2, 3, 10, 100, 1000, 10_000] {
            for _ in 0..<8 {
                let bytes = rng.bytes(size)
                expectParsesOrThrowsTyped("random \(size) bytes (seed \(rng.seed))") { _ = try Self.parse(bytes) }
            }
        }
    }

    @Test func wrongTensorByteCount() throws {
        let model = PB.model(initializers: [PB.floatTensor(name: "w", dims: [2, 3], raw: [UInt8](repeating: 0, count: 20))])
        let error = try #require(throws: ModelImportError.self) { try Self.parse(model) }
        #expect(error.kind == .invalidModel)
        #expect(error.description == "mutated.onnx: ONNX: graph: initializer 0: tensor 'w': holds 20 bytes but shape [2, 3] of float needs 24")
    }

    @Test func hugeDimsOverflow() throws {
        let model = PB.model(initializers: [PB.floatTensor(name: "w", dims: [Int64.max, 4], raw: [])])
        let error = try #require(throws: ModelImportError.self) { try Self.parse(model) }
        #expect(error.kind == .invalidModel)
        let negative = PB.model(initializers: [PB.floatTensor(name: "w", dims: [-1], raw: [])])
        #expect(throws: ModelImportError.self) { try Self.parse(negative) }
    }

    @Test func lengthPastEndOfMessage() throws {
        // A graph field claiming 1000 bytes in a 20-byte file.
        let bytes = PB.int(1, 8) + PB.key(7, 2) + PB.varint(1000) + [UInt8](repeating: 0, count: 10)
        let error = try #require(throws: ModelImportError.self) { try Self.parse(bytes) }
        #expect(error.kind == .outOfBounds)
        // An over-long varint.
        let varint = PB.key(1, 0) + [UInt8](repeating: 0xFF, count: 11) + [0x01]
        #expect(throws: ModelImportError.self) { try Self.parse(varint) }
        // A group wire type.
        #expect(throws: ModelImportError.self) { try Self.parse(PB.key(3, 3) + [0]) }
    }

    @Test func deeplyNestedGraphsAreRefused() throws {
        // A node whose GRAPH attribute holds a graph whose node holds a graph... 40 levels deep.
        var graph = PB.string(2, "leaf")
        for _ in 0..<40 {
            let attribute = PB.string(1, "body") + PB.int(20, 5) + PB.bytes(6, graph)
            graph = PB.bytes(1, PB.string(4, "If") + PB.bytes(5, attribute))
        }
        let model = PB.int(1, 8) + PB.bytes(7, graph)
        let error = try #require(throws: ModelImportError.self) { try Self.parse(model) }
        #expect(error.kind == .unsupported)
    }

    /// A temporary folder holding a model's external data file.
    static func folderWithData(_ bytes: [UInt8]) throws -> URL {
        let dir = try ScratchFolders.make("mk-onnx")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data(bytes).write(to: dir.appendingPathComponent("w.bin"))
        try Data(bytes).write(to: dir.appendingPathComponent("sub/w.bin"))
        return dir
    }

    @Test(arguments: ["../w.bin", "/etc/passwd", "sub/../../w.bin", "..", "sub/..\\..\\w.bin", ""])
    func externalPathEscapingIsRefused(_ location: String) throws {
        let dir = try Self.folderWithData([UInt8](repeating: 0, count: 24))
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = PB.model(initializers: [PB.externalTensor(name: "w", dims: [2, 3], location: location)])
        let error = try #require(throws: ModelImportError.self) { try Self.parse(model, directory: dir.appendingPathComponent("sub")) }
        #expect(error.kind == .externalData, "\(error)")
    }

    @Test func symlinkEscapingIsRefused() throws {
        let dir = try Self.folderWithData([UInt8](repeating: 0, count: 24))
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("sub/link.bin"),
                                                   withDestinationURL: dir.appendingPathComponent("w.bin"))
        let model = PB.model(initializers: [PB.externalTensor(name: "w", dims: [2, 3], location: "link.bin")])
        let error = try #require(throws: ModelImportError.self) { try Self.parse(model, directory: dir.appendingPathComponent("sub")) }
        #expect(error.kind == .externalData, "\(error)")
    }

    @Test func externalOffsetsAndLengthsAreChecked() throws {
        let dir = try Self.folderWithData((0..<32).map { UInt8($0) })
        defer { try? FileManager.default.removeItem(at: dir) }
        func load(offset: Int?, length: Int?, dims: [Int64] = [2, 3], location: String = "w.bin") throws -> ONNXModel {
            try Self.parse(PB.model(initializers: [PB.externalTensor(name: "w", dims: dims, location: location,
                                                                     offset: offset, length: length)]), directory: dir)
        }
        // Valid: 24 bytes at offset 8 (the rest of the file), and an explicit length.
        #expect(try load(offset: 8, length: nil).graph.initializers[0].rawBytes == Array(8..<32))
        #expect(try load(offset: 4, length: 24).graph.initializers[0].rawBytes == Array(4..<28))
        // Past the end, or a length that does not match the shape.
        for (offset, length) in [(40, nil), (16, 24), (0, 1 << 40)] as [(Int, Int?)] {
            let error = try #require(throws: ModelImportError.self) { try load(offset: offset, length: length) }
            #expect(error.kind == .externalData, "\(error)")
        }
        let wrongSize = try #require(throws: ModelImportError.self) { try load(offset: 0, length: nil) }
        #expect(wrongSize.kind == .invalidModel)
        let missing = try #require(throws: ModelImportError.self) { try load(offset: nil, length: nil, location: "nope.bin") }
        #expect(missing.kind == .externalData)
    }

    /// A few hundred seeded mutations of an ONNX fixture: each parses or throws a typed error.
    @Test func seededMutations() throws {
        let original = try Self.fixtureBytes("unet_dynamic_opset17.onnx")
        var rng = SeededGenerator(seed: 17)
        var threw = 0
        for iteration in 0..<fuzzIterations {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let p = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[p] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[p] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 2: bytes[p] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &rng) ?? 0
                default:
                    let n = Int.random(in: 1...16, using: &rng)
                    bytes.removeSubrange(p..<min(bytes.count, p + n))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                _ = try Self.parse(bytes)
            } catch is ModelImportError {
                threw += 1
            } catch {
                Issue.record("mutation \(iteration) (seed \(rng.seed)): untyped error \(error)")
            }
        }
        #expect(threw > 0)
    }
}
