@_exported import MattingEngine
import MattingImage

extension NumpyFile {
    /// The array as a picture: `[h, w]` and `[h, w, 1]` become gray, `[h, w, 3]` RGB; values × `scale`.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for any other shape.
    package func image(scale: Float = 1) throws -> FloatImage {
        guard shape.count == 2 || (shape.count == 3 && (shape[2] == 3 || shape[2] == 1)) else {
            throw ImageError.invalidArgument("shape \(shape) is not a picture")
        }
        let layout: PixelLayout = shape.count == 3 && shape[2] == 3 ? .rgb : .gray
        return try FloatImage(width: shape[1], height: shape[0], layout: layout, components: floats.map { $0 * scale })
    }
}
