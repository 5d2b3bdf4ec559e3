import MattingImage
import MattingTestSupport
@testable import MattingRefine

/// A single-channel float picture from a generator.
func grayImage(_ w: Int, _ h: Int, _ f: (Int, Int) -> Float) -> FloatImage {
    FloatImage(width: w, height: h, layout: .gray) { x, y, _ in f(x, y) }
}

/// Seeded random picture with values in 0…1.
func randomImage(_ w: Int, _ h: Int, layout: PixelLayout, seed: UInt64) -> FloatImage {
    var rng = SeededGenerator(seed: seed)
    let values = rng.floats(w * h * layout.channelCount, in: 0...1)
    return try! FloatImage(width: w, height: h, layout: layout, components: values)
}

/// Channel `c` as packed Doubles.
func doubles(_ image: FloatImage, channel c: Int = 0) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(image.pixelCount)
    for y in 0..<image.height { for x in 0..<image.width { out.append(Double(image[x, y, c])) } }
    return out
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func allValues(_ image: FloatImage) -> [Float] { image.packedComponents }
