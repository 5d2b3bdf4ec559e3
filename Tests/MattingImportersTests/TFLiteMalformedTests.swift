import Foundation
import MattingTestSupport
import Testing
@testable import MattingImporters

/// Malformed TFLite input must throw ``ModelImportError`` (or parse), never trap.
@Suite("TFLite: malformed files")
struct TFLiteMalformedTests {
    static func parse(_ bytes: [UInt8]) throws -> TFLiteModel {
        let model = try TFLiteModel(bytes: bytes, fileName: "mutated.tflite")
        // Touch every accessor a consumer would use, so lazily trusted data is exercised too.
        for g in model.subgraphs {
            for t in g.tensors where model.constantBytes(of: t) != nil {
                switch t.type {
                case .float32: _ = try model.float32Values(of: t)
                case .float16: _ = try model.float16Bits(of: t)
                case .int32: _ = try model.int32Values(of: t)
                default: break
                }
            }
            for op in g.operators {
                _ = model.operatorCode(of: op)
                for i in op.inputs + op.outputs where i >= 0 { _ = g.tensors[i] }
                if let bytes = op.customOptions, model.operatorCode(of: op).customCode == TFLiteConvolution2DTransposeBiasOptions.customCode {
                    _ = try? TFLiteConvolution2DTransposeBiasOptions(customOptions: bytes)
                }
            }
        }
        return model
    }

    @Test func truncatedAtEverySixteenth() throws {
        let bytes = try SelfieModels.bytes(SelfieModels.portrait)
        for k in 0..<16 {
            let prefix = Array(bytes.prefix(bytes.count * k / 16))
            #expect(throws: ModelImportError.self, "truncated to \(k)/16") { try Self.parse(prefix) }
        }
        // The full file parses.
        _ = try Self.parse(bytes)
    }

    @Test func randomBytesAndTinyFiles() {
        var rng = SeededGenerator(seed: 0x7F1_17E)
        for size in [0, 1, 4, 7, 8, 12, 64, 1000, 100_000] {
            expectParsesOrThrowsTyped("random \(size) bytes, seed \(rng.seed)") { _ = try Self.parse(rng.bytes(size)) }
        }
        // Random bytes behind a valid identifier get past the identifier check.
        var bytes = rng.bytes(4096)
        bytes.replaceSubrange(4..<8, with: Array("TFL3".utf8))
        expectParsesOrThrowsTyped("random with TFL3 identifier") { _ = try Self.parse(bytes) }
    }

    @Test func wrongIdentifier() throws {
        var bytes = try SelfieModels.bytes(SelfieModels.portrait)
        bytes.replaceSubrange(4..<8, with: Array("ABCD".utf8))
        let error = try #require(throws: ModelImportError.self) { try Self.parse(bytes) }
        #expect(error.kind == .malformed && error.message.contains("TFL3"))
        #expect(error.description.hasPrefix("mutated.tflite: TFLite: "))
    }

    @Test func rootOffsetOutOfRange() throws {
        var bytes = try SelfieModels.bytes(SelfieModels.portrait)
        for value: UInt32 in [UInt32(bytes.count), UInt32(bytes.count - 2), 0xFFFF_FFFF, 0x7FFF_FFFF] {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            let error = try #require(throws: ModelImportError.self) { try Self.parse(bytes) }
            #expect(error.kind == .outOfBounds, "\(error)")
        }
    }

    /// Locates the `inputs` vector of operator `op` in subgraph 0 with the low-level reader.
    static func operatorInputsPosition(_ bytes: [UInt8], op: Int) throws -> Int {
        let reader = FlatBufferReader(bytes: bytes)
        let subgraphs = try #require(try reader.rootTable().vector(2, elementSize: 4, "subgraphs"))
        let operators = try #require(try subgraphs.table(0, "").vector(3, elementSize: 4, "operators"))
        return try #require(try operators.table(op, "").vector(1, elementSize: 4, "inputs")).start
    }

    @Test func operatorReadsMissingTensor() throws {
        var bytes = try SelfieModels.bytes(SelfieModels.portrait)
        let p = try Self.operatorInputsPosition(bytes, op: 12)
        withUnsafeBytes(of: Int32(400).littleEndian) { bytes.replaceSubrange(p..<(p + 4), with: $0) }
        let error = try #require(throws: ModelImportError.self) { try Self.parse(bytes) }
        #expect(error.kind == .invalidModel)
        #expect(error.description == "mutated.tflite: TFLite: subgraph 0: operator 12: reads tensor 400 but the subgraph has 360 tensors")
        // -1 (an omitted optional input) is accepted.
        withUnsafeBytes(of: Int32(-1).littleEndian) { bytes.replaceSubrange(p..<(p + 4), with: $0) }
        let model = try Self.parse(bytes)
        #expect(model.subgraphs[0].operators[12].inputs[0] == -1)
    }

    @Test func vectorLengthBeyondFile() throws {
        var bytes = try SelfieModels.bytes(SelfieModels.portrait)
        let p = try Self.operatorInputsPosition(bytes, op: 3)
        withUnsafeBytes(of: UInt32(0x4000_0000).littleEndian) { bytes.replaceSubrange((p - 4)..<p, with: $0) }
        let error = try #require(throws: ModelImportError.self) { try Self.parse(bytes) }
        #expect(error.kind == .outOfBounds, "\(error)")
        #expect(error.message.hasPrefix("subgraph 0: operator 3: inputs"), "\(error)")
    }

    @Test func customOptionsTooShortOrInvalid() {
        #expect(throws: ModelImportError.self) { try TFLiteConvolution2DTransposeBiasOptions(customOptions: [1, 0, 0, 0]) }
        #expect(throws: ModelImportError.self) {
            try TFLiteConvolution2DTransposeBiasOptions(customOptions: [0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])
        }
        #expect(throws: ModelImportError.self) {
            try TFLiteConvolution2DTransposeBiasOptions(customOptions: [2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0])
        }
        let valid = try? TFLiteConvolution2DTransposeBiasOptions(customOptions: [2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 9, 9])
        #expect(valid?.padding == .valid && valid?.strideWidth == 3 && valid?.strideHeight == 1)
    }

    /// A few hundred seeded mutations of the real models: each parses or throws a typed error.
    /// The full-range face detector keeps most weights sparse, so its mutations reach the
    /// sparsity metadata's checks and the expansion; it is three times the selfie models' size
    /// and each parse expands every weight, so it gets a tenth of the mutations (the debug
    /// build's parse of it takes most of a second).
    @Test(arguments: [(SelfieModels.portrait, fuzzIterations), (SelfieModels.landscape, fuzzIterations),
                      ("face_detection_full_range_sparse.tflite", max(fuzzIterations / 10, 20))])
    func seededMutations(_ name: String, iterations: Int) throws {
        let original = try SelfieModels.bytes(name)
        // Mutations concentrated on the FlatBuffer's structure (the first and last ~20 KB hold
        // vtables, tables and offsets; the middle is mostly weight bytes), plus anywhere.
        var rng = SeededGenerator(seed: 2024)
        var outcomes = (parsed: 0, threw: 0)
        for iteration in 0..<iterations {
            var bytes = original
            let edits = Int.random(in: 1...4, using: &rng)
            for _ in 0..<edits {
                let region = Int.random(in: 0..<3, using: &rng)
                let p: Int
                switch region {
                case 0: p = Int.random(in: 0..<min(20_000, bytes.count), using: &rng)
                case 1: p = Int.random(in: max(0, bytes.count - 20_000)..<bytes.count, using: &rng)
                default: p = Int.random(in: 0..<bytes.count, using: &rng)
                }
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[p] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[p] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 2:  // a plausible-looking but wrong 32-bit value
                    let v = [0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF, UInt32(bytes.count), UInt32.random(in: 0...1000, using: &rng)]
                        .randomElement(using: &rng) ?? 0
                    for k in 0..<4 where p + k < bytes.count { bytes[p + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
                default: bytes[p] = 0
                }
            }
            do {
                _ = try Self.parse(bytes)
                outcomes.parsed += 1
            } catch is ModelImportError {
                outcomes.threw += 1
            } catch {
                Issue.record("\(name) mutation \(iteration) (seed \(rng.seed)): untyped error \(error)")
            }
        }
        #expect(outcomes.parsed + outcomes.threw == iterations)
        #expect(outcomes.threw > 0)
    }
}
