// libFuzzer entry point for the ONNX importer: protobuf reader, ONNX parser and the
// conversion to the engine's graph (no external data folder: such references must fail
// cleanly). Built by Scripts/fuzz.sh like the TFLite harness; not part of the package.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    if let model = try? ONNXModel(bytes: bytes, fileName: "<fuzz>") {
        _ = try? model.makeGraph()
    }
    return 0
}
