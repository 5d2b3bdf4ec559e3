import Foundation
import MattingImage
import MattingTestSupport

/// Loads the OpenCV/Pillow reference arrays made by Scripts/make-preprocess-fixtures.py.
enum PreprocessFixture {
    static func array(_ name: String) throws -> NumpyFile {
        guard let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures/preprocess")
        else { throw NumpyFileError(file: name, reason: "fixture missing") }
        return try NumpyFile(contentsOf: url)
    }

    /// An 8-bit fixture of shape (h, w) or (h, w, c) as an Image.
    static func image(_ name: String) throws -> Image {
        let file = try array(name)
        let channels = file.shape.count == 3 ? file.shape[2] : 1
        let layout: PixelLayout = [1: .gray, 2: .grayAlpha, 3: .rgb, 4: .rgba][channels]!
        return try Image(width: file.shape[1], height: file.shape[0], layout: layout, components: file.data)
    }

    /// Largest absolute difference between two same-shaped 8-bit images, and how many
    /// components differ at all.
    static func difference(_ a: Image, _ b: Image) -> (max: Int, differing: Int) {
        precondition(a.width == b.width && a.height == b.height && a.layout == b.layout)
        var worst = 0, differing = 0
        for (x, y) in zip(a.packedComponents, b.packedComponents) {
            let d = abs(Int(x) - Int(y))
            worst = max(worst, d)
            if d != 0 { differing += 1 }
        }
        return (worst, differing)
    }
}
