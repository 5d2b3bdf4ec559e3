// libFuzzer entry point for the PNG decoder (header check, libpng through CPNG, eXIf,
// iCCP, 8- and 16-bit output). Built by Scripts/fuzz.sh together with MattingImage's
// sources into one module, so internal entry points are reachable; not part of the package.

/// Pictures larger than this are refused from the header, as the library does, so a
/// mutated size cannot make the fuzzer allocate more than AddressSanitizer allows.
let fuzzPixelLimit = 1 << 22

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let options = DecodingOptions(maximumPixelCount: fuzzPixelLimit)
    _ = try? PNGCodec.info(bytes, source: "<fuzz>")
    // Both output depths: 16-bit files take a different path when their precision is kept.
    _ = try? PNGCodec.decode(bytes, source: "<fuzz>", options: options, keep16Bit: size & 1 == 0)
    return 0
}
