// libFuzzer entry point for the JPEG decoder (libjpeg through CJPEG, EXIF, ICC APP2
// reassembly, scaled decoding). Built by Scripts/fuzz.sh together with MattingImage's
// sources into one module; not part of the package.

/// As in the PNG harness: a bound on what a mutated header can make the decoder allocate.
let fuzzPixelLimit = 1 << 22

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? JPEGCodec.info(bytes, source: "<fuzz>")
    // Every third input also through the scaled (N/8) decode path.
    let reduced: ReducedDecodeSize? = size % 3 == 0 ? .longSide(atLeast: 16) : nil
    let options = DecodingOptions(maximumPixelCount: fuzzPixelLimit, reducedSize: reduced)
    _ = try? JPEGCodec.decode(bytes, source: "<fuzz>", options: options)
    return 0
}
