import Testing
@testable import MattingImporters

/// Small TFLite files written field by field, for rules the selfie models do not exercise.
@Suite("TFLite: hand-built files")
struct TFLiteHandBuiltTests {
    typealias W = FlatBufferWriter

    /// A one-operator model: code 150 stored the new way (deprecated_builtin_code 127, the
    /// placeholder, + builtin_code), CONV_2D the old way (deprecated_builtin_code only), and a
    /// buffer in the >2 GB offset/size form.
    static func model(tensor1Shape: [Int32] = [2], externalOffsetDelta: Int = 0,
                      operatorInput: Int32 = 0, outputScale: [Float]? = nil) -> [UInt8] {
        var w = W(identifier: "TFL3")
        let root = w.table([0: W.u32(3), 1: .reference, 2: .reference, 4: .reference])
        w.setRoot(root.position)

        let codes = w.vectorOfReferences(count: 2)
        w.link(root.fields[1]!, to: codes.position)
        let newStyle = w.table([0: W.i8(127), 2: W.i32(1), 3: W.i32(150)])
        w.link(codes.slots[0], to: newStyle.position)
        let conv = w.table([0: W.i8(3)])
        w.link(codes.slots[1], to: conv.position)

        let subgraphs = w.vectorOfReferences(count: 1)
        w.link(root.fields[2]!, to: subgraphs.position)
        let sg = w.table([0: .reference, 1: .reference, 2: .reference, 3: .reference, 4: .reference])
        w.link(subgraphs.slots[0], to: sg.position)
        let tensors = w.vectorOfReferences(count: 3)
        w.link(sg.fields[0]!, to: tensors.position)
        let shapes: [[Int32]] = [[1, 2], tensor1Shape, [1, 2]]
        for (i, shape) in shapes.enumerated() {
            // The output tensor gets a quantization table: empty, or with a scale vector.
            var fields: [Int: W.Field] = [0: .reference, 1: W.i8(0), 2: W.u32([1, 2, 0][i]), 3: .reference]
            if i == 2 { fields[4] = .reference }
            let t = w.table(fields)
            w.link(tensors.slots[i], to: t.position)
            w.link(t.fields[0]!, to: w.vector(int32: shape))
            w.link(t.fields[3]!, to: w.string("t\(i)"))
            if i == 2 {
                let q = w.table(outputScale == nil ? [:] : [2: .reference])
                w.link(t.fields[4]!, to: q.position)
                if let scale = outputScale {
                    w.link(q.fields[2]!, to: w.vector(int32: scale.map { Int32(bitPattern: $0.bitPattern) }))
                }
            }
        }
        w.link(sg.fields[1]!, to: w.vector(int32: [0]))
        w.link(sg.fields[2]!, to: w.vector(int32: [2]))
        let ops = w.vectorOfReferences(count: 1)
        w.link(sg.fields[3]!, to: ops.position)
        let op = w.table([0: W.u32(0), 1: .reference, 2: .reference])
        w.link(ops.slots[0], to: op.position)
        w.link(op.fields[1]!, to: w.vector(int32: [operatorInput, -1]))
        w.link(op.fields[2]!, to: w.vector(int32: [2]))
        w.link(sg.fields[4]!, to: w.string("main"))

        let buffers = w.vectorOfReferences(count: 3)
        w.link(root.fields[4]!, to: buffers.position)
        let empty = w.table([:])
        w.link(buffers.slots[0], to: empty.position)
        let inline = w.table([0: .reference])
        w.link(buffers.slots[1], to: inline.position)
        w.link(inline.fields[0]!, to: w.vector(bytes: [0, 0, 128, 63, 0, 0, 0, 64]))  // 1.0, 2.0
        // Offset/size buffer: 8 bytes appended after the FlatBuffer.
        let external = w.table([1: W.u64(0), 2: W.u64(0)])
        w.link(buffers.slots[2], to: external.position)
        var bytes = w.bytes
        let dataPosition = bytes.count + 8
        bytes += [UInt8](repeating: 0, count: 8) + [0, 0, 64, 64, 0, 0, 128, 64]  // 3.0, 4.0
        let offsetField = external.fields[1]!, sizeField = external.fields[2]!
        let offset = UInt64(dataPosition + externalOffsetDelta)
        for k in 0..<8 {
            bytes[offsetField + k] = UInt8(truncatingIfNeeded: offset >> (8 * k))
            bytes[sizeField + k] = UInt8(truncatingIfNeeded: UInt64(8) >> (8 * k))
        }
        return bytes
    }

    @Test func parsesAndResolvesOperatorCodes() throws {
        let model = try TFLiteModel(bytes: Self.model(), fileName: "hand.tflite")
        #expect(model.operatorCodes.map(\.builtin) == [TFLiteBuiltinOperator(rawValue: 150), .conv2D])
        #expect(model.operatorCodes.map(\.version) == [1, 1])
        let g = model.subgraphs[0]
        #expect(g.name == "main" && g.tensors.map(\.name) == ["t0", "t1", "t2"])
        #expect(g.operators[0].inputs == [0, -1] && g.operators[0].outputs == [2])
        #expect(g.operators[0].options == .none && g.operators[0].customOptions == nil)
        #expect(try model.float32Values(of: g.tensors[0]) == [1, 2])
        #expect(try model.float32Values(of: g.tensors[1]) == [3, 4])  // offset/size form
        #expect(model.constantBytes(of: g.tensors[2]) == nil)
        #expect(throws: ModelImportError.self) { try model.int32Values(of: g.tensors[0]) }
        #expect(throws: ModelImportError.self) { try model.float32Values(of: g.tensors[2]) }
    }

    @Test func quantizationMeansAScaleNotAnEmptyTable() throws {
        let plain = try TFLiteModel(bytes: Self.model(), fileName: "hand.tflite")
        #expect(plain.subgraphs[0].tensors.map(\.hasQuantization) == [false, false, false])
        let quantized = try TFLiteModel(bytes: Self.model(outputScale: [0.5]), fileName: "hand.tflite")
        #expect(quantized.subgraphs[0].tensors.map(\.hasQuantization) == [false, false, true])
    }

    @Test func offsetBufferPastTheEnd() throws {
        let error = try #require(throws: ModelImportError.self) {
            try TFLiteModel(bytes: Self.model(externalOffsetDelta: 4), fileName: "hand.tflite")
        }
        #expect(error.kind == .outOfBounds)
        #expect(error.message.hasPrefix("buffer 2: data at offset"), "\(error)")
    }

    @Test func constantDataMustMatchTheShape() throws {
        let error = try #require(throws: ModelImportError.self) {
            try TFLiteModel(bytes: Self.model(tensor1Shape: [3]), fileName: "hand.tflite")
        }
        #expect(error.description == "hand.tflite: TFLite: subgraph 0: tensor 1: 't1': buffer 2 holds 8 bytes but shape [3] of FLOAT32 needs 12")
        #expect(throws: ModelImportError.self) { try TFLiteModel(bytes: Self.model(tensor1Shape: [Int32.max, Int32.max, Int32.max])) }
        #expect(throws: ModelImportError.self) { try TFLiteModel(bytes: Self.model(tensor1Shape: [-2])) }
    }

    @Test func operatorTensorIndexOutOfRange() throws {
        let error = try #require(throws: ModelImportError.self) {
            try TFLiteModel(bytes: Self.model(operatorInput: 3), fileName: "hand.tflite")
        }
        #expect(error.description == "hand.tflite: TFLite: subgraph 0: operator 0: reads tensor 3 but the subgraph has 3 tensors")
        #expect(throws: ModelImportError.self) { try TFLiteModel(bytes: Self.model(operatorInput: -2)) }
    }
}

/// A sparse constant written field by field: every `SparseIndexVector` width the schema allows.
@Suite("TFLite: hand-built sparse constants")
struct TFLiteHandBuiltSparseTests {
    typealias W = FlatBufferWriter

    /// A model whose only tensor is the FLOAT32 constant [[0, 1.5, 0], [2.5, 0, 3.5]] stored as
    /// rows dense, columns CSR (segments [0, 1, 3], indices [1, 0, 2]), with the index vectors
    /// of union type `indexType` (1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector).
    static func model(indexType: UInt8, indices: [Int] = [1, 0, 2], storedCount: Int = 3) -> [UInt8] {
        var w = W(identifier: "TFL3")
        let root = w.table([0: W.u32(3), 1: .reference, 2: .reference, 4: .reference])
        w.setRoot(root.position)
        w.link(root.fields[1]!, to: w.vectorOfReferences(count: 0).position)
        let subgraphs = w.vectorOfReferences(count: 1)
        w.link(root.fields[2]!, to: subgraphs.position)
        let sg = w.table([0: .reference, 1: .reference, 2: .reference, 3: .reference])
        w.link(subgraphs.slots[0], to: sg.position)
        let tensors = w.vectorOfReferences(count: 1)
        w.link(sg.fields[0]!, to: tensors.position)
        let t = w.table([0: .reference, 1: W.i8(0), 2: W.u32(1), 3: .reference, 6: .reference])
        w.link(tensors.slots[0], to: t.position)
        w.link(t.fields[0]!, to: w.vector(int32: [2, 3]))
        w.link(t.fields[3]!, to: w.string("sparse"))
        let sparsity = w.table([0: .reference, 2: .reference])
        w.link(t.fields[6]!, to: sparsity.position)
        w.link(sparsity.fields[0]!, to: w.vector(int32: [0, 1]))
        let dims = w.vectorOfReferences(count: 2)
        w.link(sparsity.fields[2]!, to: dims.position)
        let dense = w.table([0: W.i8(0), 1: W.i32(2)])
        w.link(dims.slots[0], to: dense.position)
        let csr = w.table([0: W.i8(1), 2: .scalar([indexType]), 3: .reference, 4: .scalar([indexType]), 5: .reference])
        w.link(dims.slots[1], to: csr.position)
        func indexVector(_ values: [Int], at slot: Int) {
            let member = w.table([0: .reference])
            w.link(slot, to: member.position)
            let raw: [UInt8]
            switch indexType {
            case 1: raw = values.flatMap { W.le(UInt32(bitPattern: Int32($0))) }
            case 2: raw = values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            default: raw = values.map { UInt8($0) }
            }
            w.link(member.fields[0]!, to: w.append(W.le(UInt32(values.count)) + raw))
        }
        indexVector([0, 1, 3], at: csr.fields[3]!)
        indexVector(indices, at: csr.fields[5]!)
        for field in [1, 2, 3] { w.link(sg.fields[field]!, to: w.vector(int32: [])) }

        let buffers = w.vectorOfReferences(count: 2)
        w.link(root.fields[4]!, to: buffers.position)
        w.link(buffers.slots[0], to: w.table([:]).position)
        let data = w.table([0: .reference])
        w.link(buffers.slots[1], to: data.position)
        let values: [Float] = [1.5, 2.5, 3.5, 4.5].prefix(storedCount).map { $0 }
        w.link(data.fields[0]!, to: w.vector(bytes: values.flatMap { W.le($0.bitPattern) }))
        return w.bytes
    }

    @Test(arguments: [UInt8(1), 2, 3])
    func expandsWithEveryIndexWidth(_ indexType: UInt8) throws {
        let model = try TFLiteModel(bytes: Self.model(indexType: indexType), fileName: "sparse.tflite")
        let tensor = model.subgraphs[0].tensors[0]
        #expect(tensor.sparsity?.storedCount == 3)
        #expect(try model.float32Values(of: tensor) == [0, 1.5, 0, 2.5, 0, 3.5])
    }

    @Test func badSparseConstantsAreTypedErrors() {
        // An index past its dimension, a stored count that disagrees with the buffer, an
        // unknown index vector type.
        for (what, bytes) in [("index 3 of 3 columns", Self.model(indexType: 1, indices: [1, 0, 3])),
                              ("four stored values for three positions", Self.model(indexType: 1, storedCount: 4)),
                              ("index vector type 9", Self.model(indexType: 9))] {
            #expect(throws: ModelImportError.self, "\(what)") { _ = try TFLiteModel(bytes: bytes, fileName: "sparse.tflite") }
        }
    }
}
