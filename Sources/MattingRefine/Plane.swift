import MattingImage

/// A planar, tightly packed single-channel float buffer: the working format of refinement.
///
/// Internal: public APIs take and return `FloatImage` values; kernels work on planes so
/// that every inner loop is a stride-1 pass over contiguous memory.
@usableFromInline
package struct Plane: Sendable {
    var width: Int
    var height: Int
    var data: [Float]

    init(width: Int, height: Int, repeating value: Float = 0) {
        self.width = width
        self.height = height
        self.data = [Float](repeating: value, count: width * height)
    }

    init(width: Int, height: Int, data: [Float]) {
        precondition(data.count == width * height)
        self.width = width
        self.height = height
        self.data = data
    }

    var count: Int { width * height }

    /// Channel `channel` of `image` as a plane.
    init(_ image: FloatImage, channel: Int = 0) {
        let w = image.width, h = image.height, channels = image.channelCount
        self.init(width: w, height: h)
        data.withUnsafeMutableBufferPointer { dst in
            image.withUnsafeBufferPointer { src, stride in
                for y in 0..<h {
                    let s = src + y * stride + channel
                    for x in 0..<w { dst[y * w + x] = s[x * channels] }
                }
            }
        }
    }

    /// All channels of `image` as planes.
    static func planes(of image: FloatImage) -> [Plane] {
        (0..<image.channelCount).map { Plane(image, channel: $0) }
    }

    /// A single-channel image holding this plane.
    var grayImage: FloatImage {
        // The component count matches by construction.
        (try? FloatImage(width: width, height: height, layout: .gray, components: data))
            ?? FloatImage(width: width, height: height, layout: .gray)
    }

    /// Interleaves `planes` into an image of `layout` (one plane per channel).
    static func image(_ planes: [Plane], layout: PixelLayout) -> FloatImage {
        precondition(planes.count == layout.channelCount)
        let w = planes[0].width, h = planes[0].height, channels = planes.count
        var result = FloatImage(width: w, height: h, layout: layout)
        result.withUnsafeMutableBufferPointer { dst, stride in
            for c in 0..<channels {
                planes[c].data.withUnsafeBufferPointer { src in
                    for y in 0..<h {
                        let d = dst + y * stride + c
                        for x in 0..<w { d[x * channels] = src[y * w + x] }
                    }
                }
            }
        }
        return result
    }
}

extension FloatImage {
    /// The picture as RGB: gray is replicated, alpha is dropped.
    var rgbImage: FloatImage {
        layout == .rgb ? self : converted(to: .rgb)
    }
}

/// Checks that `image` is a non-empty single-channel matte.
func requireMatte(_ image: FloatImage, _ name: String = "matte") throws {
    guard image.layout == .gray else {
        throw ImageError.invalidArgument("\(name) must be single-channel (gray), got \(image.layout)")
    }
}

/// Checks that two pictures have the same size.
func requireSameSize<A, B>(_ a: ImageBuffer<A>, _ b: ImageBuffer<B>, _ what: String) throws {
    guard a.width == b.width, a.height == b.height else {
        throw ImageError.invalidArgument(
            "\(what): sizes differ (\(a.width)×\(a.height) and \(b.width)×\(b.height))")
    }
}
