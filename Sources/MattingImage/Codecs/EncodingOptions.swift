/// How to encode a picture. The defaults favour speed for PNG and quality for JPEG.
public struct EncodingOptions: Sendable, Hashable {
    /// JPEG quality, 1…100 (libjpeg's scale; default 95). Chroma is subsampled 4:2:0,
    /// baseline, standard Huffman tables.
    public var jpegQuality: Int

    /// PNG (zlib) compression level, 0…9 (default 2). Level 2 with the "Up" filter writes a
    /// 1200×1800 RGBA photo in a few tens of milliseconds; 6 and 9 make files only slightly
    /// smaller at several times the cost (figures in Docs/Codecs.md).
    public var pngCompressionLevel: Int

    /// A colour to composite (flatten) a picture with alpha onto before encoding.
    ///
    /// JPEG has no alpha: gray+alpha or RGBA input without a background is refused with
    /// ``ImageError/unsupportedEncoding(destination:detail:)``. For PNG a background is
    /// optional; when set, the alpha is flattened too and the PNG has no alpha channel.
    /// Gray+alpha over a gray background stays gray; over a colour it becomes RGB.
    /// Pictures without alpha ignore it.
    public var background: RGBColor?

    /// Whether the picture's ``ImageBuffer/colorProfile`` is written into the file (default
    /// `true`): PNG as an iCCP chunk, JPEG as APP2 `ICC_PROFILE` markers of at most 65,519
    /// profile bytes each. The bytes are the profile's own, unchanged.
    public var writesColorProfile = true

    /// Threads a PNG is deflated on, in bands (at least 1; default 1). The bytes are the
    /// same for any count: each band is deflated on its own and the streams are joined.
    public var threads: Int

    /// Default options: JPEG quality 95, PNG level 2, no background, one thread, colour
    /// profile written.
    public init(jpegQuality: Int = 95, pngCompressionLevel: Int = 2, background: RGBColor? = nil, threads: Int = 1) {
        self.jpegQuality = jpegQuality
        self.pngCompressionLevel = pngCompressionLevel
        self.background = background
        self.threads = max(1, threads)
    }
}
