/// Decodes `onnx.proto` messages with ``ProtobufReader``.
///
/// Field numbers are those of `onnx/onnx.proto` (IR version 10); unknown fields are skipped.
/// Graphs nested in attributes (`If`, `Loop`, `Scan` bodies) are parsed up to
/// ``maximumGraphDepth`` levels, so a hostile file cannot exhaust the stack.
struct ONNXParser {
    let bytes: [UInt8]
    var budget: DecodeBudget
    let externalData: ONNXExternalDataLoader
    static let maximumGraphDepth = 8

    init(bytes: [UInt8], externalData: ONNXExternalDataLoader) {
        self.bytes = bytes
        budget = DecodeBudget(fileSize: bytes.count)
        self.externalData = externalData
    }

    mutating func parseModel(fileName: String) throws -> ONNXModel {
        var r = ProtobufReader(bytes: bytes)
        var irVersion: Int64 = 0, modelVersion: Int64 = 0
        var opsets: [ONNXOperatorSetID] = []
        var producerName = "", producerVersion = "", domain = "", doc = ""
        var graph: ONNXGraph?
        var metadata: [ONNXStringPair] = []
        let m = "ModelProto"
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .varint, field: field, in: m); irVersion = Int64(bitPattern: try r.varint())
            case 2: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); producerName = try r.string(field: field, in: m)
            case 3: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); producerVersion = try r.string(field: field, in: m)
            case 4: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); domain = try r.string(field: field, in: m)
            case 5: try ProtobufReader.expect(wire, .varint, field: field, in: m); modelVersion = Int64(bitPattern: try r.varint())
            case 6: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); doc = try r.string(field: field, in: m)
            case 7:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let range = try r.lengthDelimited()
                graph = try withLocation("graph") { try parseGraph(range, depth: 0) }
            case 8:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let range = try r.lengthDelimited()
                opsets.append(try withLocation("opset_import \(opsets.count)") { try parseOpset(range) })
            case 14:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                metadata.append(try parsePair(try r.lengthDelimited(), "metadata_props"))
            default: try r.skip(wire)
            }
        }
        guard let graph else { throw FormatViolation(.invalidModel, "model has no graph (not an ONNX model?)") }
        guard irVersion > 0 else { throw FormatViolation(.invalidModel, "model has no ir_version (not an ONNX model?)") }
        return ONNXModel(fileName: fileName, irVersion: irVersion, opsetImports: opsets, producerName: producerName,
                         producerVersion: producerVersion, domain: domain, modelVersion: modelVersion, docString: doc,
                         graph: graph, metadata: metadata)
    }

    private func parseOpset(_ range: Range<Int>) throws -> ONNXOperatorSetID {
        var r = ProtobufReader(bytes: bytes, range: range)
        var id = ONNXOperatorSetID(domain: "", version: 0)
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "OperatorSetIdProto"); id.domain = try r.string(field: field, in: "OperatorSetIdProto")
            case 2: try ProtobufReader.expect(wire, .varint, field: field, in: "OperatorSetIdProto"); id.version = Int64(bitPattern: try r.varint())
            default: try r.skip(wire)
            }
        }
        return id
    }

    private func parsePair(_ range: Range<Int>, _ what: String) throws -> ONNXStringPair {
        var r = ProtobufReader(bytes: bytes, range: range)
        var pair = ONNXStringPair(key: "", value: "")
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: what); pair.key = try r.string(field: field, in: what)
            case 2: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: what); pair.value = try r.string(field: field, in: what)
            default: try r.skip(wire)
            }
        }
        return pair
    }

    mutating func parseGraph(_ range: Range<Int>, depth: Int) throws -> ONNXGraph {
        guard depth <= Self.maximumGraphDepth else {
            throw FormatViolation(.unsupported, "graphs nested more than \(Self.maximumGraphDepth) levels deep")
        }
        var r = ProtobufReader(bytes: bytes, range: range)
        var g = ONNXGraph(name: "", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], docString: "")
        let m = "GraphProto"
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                let index = g.nodes.count
                g.nodes.append(try withLocation("node \(index)") { try parseNode(sub, depth: depth) })
            case 2: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); g.name = try r.string(field: field, in: m)
            case 5:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                let index = g.initializers.count
                g.initializers.append(try withLocation("initializer \(index)") { try parseTensor(sub) })
            case 10: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); g.docString = try r.string(field: field, in: m)
            case 11, 12, 13:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                let what = field == 11 ? "input" : field == 12 ? "output" : "value_info"
                let info = try withLocation(what) { try parseValueInfo(sub) }
                if field == 11 { g.inputs.append(info) } else if field == 12 { g.outputs.append(info) } else { g.valueInfo.append(info) }
            default: try r.skip(wire)
            }
        }
        return g
    }

    private mutating func parseNode(_ range: Range<Int>, depth: Int) throws -> ONNXNode {
        var r = ProtobufReader(bytes: bytes, range: range)
        var n = ONNXNode(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [])
        let m = "NodeProto"
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1, 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                try budget.spend(1)
                let s = try r.string(field: field, in: m)
                if field == 1 { n.inputs.append(s) } else { n.outputs.append(s) }
            case 3: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); n.name = try r.string(field: field, in: m)
            case 4: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); n.opType = try r.string(field: field, in: m)
            case 7: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); n.domain = try r.string(field: field, in: m)
            case 5:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                n.attributes.append(try parseAttribute(sub, depth: depth))
            default: try r.skip(wire)
            }
        }
        guard !n.opType.isEmpty else { throw FormatViolation(.invalidModel, "node '\(n.name)' has no op_type") }
        return n
    }

    private mutating func parseAttribute(_ range: Range<Int>, depth: Int) throws -> ONNXAttribute {
        var r = ProtobufReader(bytes: bytes, range: range)
        let m = "AttributeProto"
        var name = ""
        var type: Int32 = 0
        var f: Float = 0, i: Int64 = 0
        var s: [UInt8] = []
        var t: ONNXTensor?
        var g: ONNXGraph?
        var floats: [UInt32] = [], ints: [UInt64] = []
        var strings: [[UInt8]] = [], tensors: [ONNXTensor] = [], graphs: [ONNXGraph] = []
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); name = try r.string(field: field, in: m)
            case 20: try ProtobufReader.expect(wire, .varint, field: field, in: m); type = Int32(truncatingIfNeeded: try r.varint())
            case 2: try ProtobufReader.expect(wire, .fixed32, field: field, in: m); f = Float(bitPattern: try r.fixed32())
            case 3: try ProtobufReader.expect(wire, .varint, field: field, in: m); i = Int64(bitPattern: try r.varint())
            case 4: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); s = try r.bytesField(); try budget.spend(s.count / 8)
            case 5:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                t = try withLocation("attribute '\(name)'") { try parseTensor(sub) }
            case 6:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                g = try withLocation("attribute '\(name)'") { try parseGraph(sub, depth: depth + 1) }
            case 7: try r.appendFixed32s(wire, to: &floats, budget: &budget, field: field, in: m)
            case 8: try r.appendVarints(wire, to: &ints, budget: &budget, field: field, in: m)
            case 9:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let b = try r.bytesField()
                try budget.spend(1 + b.count / 8)
                strings.append(b)
            case 10:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                tensors.append(try withLocation("attribute '\(name)'") { try parseTensor(sub) })
            case 11:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                let sub = try r.lengthDelimited()
                try budget.spend(1)
                graphs.append(try withLocation("attribute '\(name)'") { try parseGraph(sub, depth: depth + 1) })
            default: try r.skip(wire)
            }
        }
        let value: ONNXAttributeValue
        switch type {
        case 1: value = .float(f)
        case 2: value = .int(i)
        case 3: value = .string(s)
        case 4:
            guard let t else { throw FormatViolation(.invalidModel, "attribute '\(name)' of type TENSOR has no tensor") }
            value = .tensor(t)
        case 5:
            guard let g else { throw FormatViolation(.invalidModel, "attribute '\(name)' of type GRAPH has no graph") }
            value = .graph(g)
        case 6: value = .floats(floats.map { Float(bitPattern: $0) })
        case 7: value = .ints(ints.map { Int64(bitPattern: $0) })
        case 8: value = .strings(strings)
        case 9: value = .tensors(tensors)
        case 10: value = .graphs(graphs)
        case 0: throw FormatViolation(.invalidModel, "attribute '\(name)' has no type")
        default: value = .unsupported(type: type)
        }
        return ONNXAttribute(name: name, value: value)
    }

    private mutating func parseValueInfo(_ range: Range<Int>) throws -> ONNXValueInfo {
        var r = ProtobufReader(bytes: bytes, range: range)
        var info = ONNXValueInfo(name: "", elementType: nil, shape: nil)
        let m = "ValueInfoProto"
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m); info.name = try r.string(field: field, in: m)
            case 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: m)
                // TypeProto: only tensor_type (1) is read; sequences, maps, optionals are skipped.
                var type = ProtobufReader(bytes: bytes, range: try r.lengthDelimited())
                while let (tf, tw) = try type.nextField() {
                    guard tf == 1 else { try type.skip(tw); continue }
                    try ProtobufReader.expect(tw, .lengthDelimited, field: tf, in: "TypeProto")
                    var tensorType = ProtobufReader(bytes: bytes, range: try type.lengthDelimited())
                    while let (ef, ew) = try tensorType.nextField() {
                        switch ef {
                        case 1:
                            try ProtobufReader.expect(ew, .varint, field: ef, in: "TypeProto.Tensor")
                            let raw = Int32(truncatingIfNeeded: try tensorType.varint())
                            info.elementType = ONNXDataType(rawValue: raw)
                        case 2:
                            try ProtobufReader.expect(ew, .lengthDelimited, field: ef, in: "TypeProto.Tensor")
                            info.shape = try parseShape(try tensorType.lengthDelimited())
                        default: try tensorType.skip(ew)
                        }
                    }
                }
            default: try r.skip(wire)
            }
        }
        return info
    }

    private mutating func parseShape(_ range: Range<Int>) throws -> [ONNXDimension] {
        var r = ProtobufReader(bytes: bytes, range: range)
        var dims: [ONNXDimension] = []
        while let (field, wire) = try r.nextField() {
            guard field == 1 else { try r.skip(wire); continue }
            try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "TensorShapeProto")
            try budget.spend(1)
            var d = ProtobufReader(bytes: bytes, range: try r.lengthDelimited())
            var dim = ONNXDimension.unknown
            while let (df, dw) = try d.nextField() {
                switch df {
                case 1: try ProtobufReader.expect(dw, .varint, field: df, in: "Dimension"); dim = .value(Int64(bitPattern: try d.varint()))
                case 2: try ProtobufReader.expect(dw, .lengthDelimited, field: df, in: "Dimension"); dim = .parameter(try d.string(field: df, in: "Dimension"))
                default: try d.skip(dw)
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
