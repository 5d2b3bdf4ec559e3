// libFuzzer entry point for the TFLite importer: FlatBuffers reader, TFLite parser and the
// conversion to the engine's graph. Built by Scripts/fuzz.sh together with MattingImporters'
// sources into one module (MattingEngine as a separate one); not part of the package.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    if let model = try? TFLiteModel(bytes: bytes, fileName: "<fuzz>") {
        _ = try? model.makeGraph()
    }
    return 0
}
