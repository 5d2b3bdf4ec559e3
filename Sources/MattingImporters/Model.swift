import Foundation
import MattingEngine

/// A model file of any supported format, converted to the engine's graph.
///
/// The format is sniffed from the bytes, not the file name: TFLite files carry the identifier
/// `TFL3` at bytes 4–8; anything else that parses as an ONNX `ModelProto` is ONNX. Inputs and
/// outputs keep the model's own layout: NCHW for ONNX image models, NHWC for TFLite.
///
/// ```swift
/// let model = try Model(contentsOf: URL(fileURLWithPath: "u2netp.onnx"))
/// print(model.inputs)   // [image: [1, 3, nil, nil] (NCHW)]
/// let compiled = try model.compile(inputShapes: ["image": [1, 3, 320, 320]], threads: 2)
/// let outputs = try compiled.makeSession().run(["image": tensor])
/// ```
public struct Model: Sendable {
    /// A declared input or output.
    public struct Port: Sendable, Hashable, CustomStringConvertible {
        /// The name to feed or read it by.
        public var name: String
        /// Declared shape; `nil` for a size chosen at compile time (or unknown, for outputs).
        public var shape: [Int?]
        /// Element type.
        public var dataType: DataType
        /// `NCHW` or `NHWC` for 4-D image tensors, `nil` otherwise.
        public var layout: String?

        public var description: String {
            let dims = shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ")
            return "\(name): \(dataType)[\(dims)]" + (layout.map { " (\($0))" } ?? "")
        }
    }

    /// The file's format.
    public let format: ModelFormat
    /// The converted graph.
    public let graph: Graph
    /// The graph's inputs in declaration order.
    public let inputs: [Port]
    /// The graph's outputs, sorted by name, with the shapes the file declares where it does.
    public let outputs: [Port]

    /// Reads a `.tflite` or `.onnx` file (with any external data beside it) and converts it.
    ///
    /// - Throws: ``ModelImportError``: `.io` if the file cannot be read, `.unsupported` for a
    ///   file in neither format or an operator the engine cannot run, and the parsers' errors.
    public init(contentsOf url: URL) throws {
        let name = url.lastPathComponent
        let bytes = try ModelImportError.contents(of: url, format: .onnx)
        if bytes.count >= 8, bytes[4..<8].elementsEqual("TFL3".utf8) {
            let tflite = try TFLiteModel(bytes: bytes, fileName: name)
            self.format = .tflite
            self.graph = try tflite.makeGraph()
            let declared = tflite.subgraphs.first.map { sg in
                Dictionary(sg.outputs.map { (sg.tensors[$0].name, sg.tensors[$0].shape.map { Int($0) as Int? }) },
                           uniquingKeysWith: { a, _ in a })
            } ?? [:]
            (inputs, outputs) = Self.ports(graph, layout: "NHWC", declaredOutputs: declared)
            return
        }
        let onnx: ONNXModel
        do {
            onnx = try ONNXModel(bytes: bytes, fileName: name, externalDataDirectory: url.deletingLastPathComponent())
        } catch let error as ModelImportError where error.kind != .io && error.kind != .externalData {
            throw ModelImportError(
                file: name, format: .onnx, kind: .unsupported,
                message: "not a supported model file: neither TFLite (no 'TFL3' identifier) nor ONNX (\(error.message))")
        }
        if onnx.graph.nodes.isEmpty && onnx.graph.outputs.isEmpty {
            throw ModelImportError(file: name, format: .onnx, kind: .unsupported,
                                   message: "not a supported model file: no TFLite identifier and no ONNX graph")
        }
        self.format = .onnx
        self.graph = try onnx.makeGraph()
        let declared = Dictionary(onnx.graph.outputs.map { info in
            (info.name, info.shape?.map { d -> Int? in if case let .value(v) = d { return Int(v) } else { return nil } } ?? [])
        }, uniquingKeysWith: { a, _ in a })
        (inputs, outputs) = Self.ports(graph, layout: "NCHW", declaredOutputs: declared)
    }

    private static func ports(_ graph: Graph, layout: String, declaredOutputs: [String: [Int?]]) -> ([Port], [Port]) {
        let ins = graph.inputs.map {
            Port(name: $0.name, shape: $0.shape, dataType: $0.dataType, layout: $0.shape.count == 4 ? layout : nil)
        }
        let outs = graph.outputs.keys.sorted().map { name -> Port in
            let shape = declaredOutputs[name] ?? []
            return Port(name: name, shape: shape, dataType: .float32, layout: shape.count == 4 ? layout : nil)
        }
        return (ins, outs)
    }

    /// Compiles the graph for concrete input shapes (see `Graph.compile(inputShapes:threads:)`).
    ///
    /// - Parameters:
    ///   - inputShapes: a shape per input with `nil` dimensions, in the model's layout.
    ///   - threads: threads each run uses; results are identical for any count.
    /// - Throws: `EngineError` naming the node or input at fault.
    public func compile(inputShapes: [String: [Int]] = [:], threads: Int = 1) throws -> CompiledGraph {
        try graph.compile(inputShapes: inputShapes, threads: threads)
    }
}
