import Foundation
import MattingImage

extension ImageBuffer where Component == UInt8 {
    /// Decodes the PNG or JPEG in `bytes` and scales it to the size `size` gives for its
    /// upright width and height (nil: keep the size): the pixels and colour profile of
    /// `Image(decoding: bytes, options: options)` then `resized(width:height:filter: .area, pool:)`,
    /// but read a band of rows at a time and resized as they come, so the full-size picture is
    /// never held — only the encoded bytes and the resized picture (a server reducing a large
    /// upload to its `size`).
    ///
    /// A file that cannot be read by rows upright (an EXIF orientation that turns or flips the
    /// picture: 3–8) is decoded whole and then resized, with the same result.
    /// Mirrored (2) is read by rows, each reversed.
    ///
    /// - Throws: `ImageError` naming `"<memory>"`, as `Image(decoding:options:)`.
    public init(
        decoding bytes: [UInt8], options: DecodingOptions = DecodingOptions(),
        reducedTo size: (_ width: Int, _ height: Int) -> (width: Int, height: Int)?, pool: ThreadPool = .serial
    ) throws {
        let streamed: Image? = try bytes.withUnsafeBytes { raw throws -> Image? in
            let reader = try ImageRowReader(bytes: raw, options: options)
            guard reader.orientation == .up || reader.orientation == .upMirrored,
                  let target = size(reader.width, reader.height), target.width != reader.width || target.height != reader.height
            else { return nil }
            precondition(target.width > 0 && target.height > 0, "resize target \(target.width)×\(target.height) must be positive")
            let rows: any ImageRowSource = reader.orientation == .upMirrored ? MirroredRowReader(reader) : reader
            let W = reader.width, H = reader.height, strip = Matter.stripRows
            var resizer = StreamingResizer(width: W, height: H, layout: reader.layout, newWidth: target.width,
                                           newHeight: target.height, filter: .area, maximumBandRows: strip)
            var band = Image(width: W, height: min(strip, H), layout: reader.layout)
            for y0 in stride(from: 0, to: H, by: strip) {
                let n = min(strip, H - y0)
                try rows.readRows(n, into: &band)
                resizer.add(band, rows: n, pool: pool)
            }
            var result = resizer.result
            result.colorProfile = reader.colorProfile
            return result
        }
        if let streamed {
            self = streamed
            return
        }
        let photo = try Image(decoding: bytes, options: options)
        if let target = size(photo.width, photo.height) {
            self = photo.resized(width: target.width, height: target.height, filter: .area, pool: pool)
        } else {
            self = photo
        }
    }
}
