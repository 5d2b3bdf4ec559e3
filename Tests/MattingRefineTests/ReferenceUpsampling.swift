@testable import MattingRefine
import MattingImage

/// The slow, obviously correct twin of ``Refiner/upsampled(_:guide:radius:epsilon:pool:)``:
/// the guide as a float picture, averaged onto the matte's grid pixel by pixel, whole-plane
/// guided-filter coefficients, bilinear upsampling of each plane, `α = a·I + b`, clamped.
/// The banded 8-bit version must agree with it up to the rounding of the area average.
func referenceUpsampled(_ alpha: FloatImage, guide: FloatImage, radius: Int = 2, epsilon: Float = 1e-4) -> FloatImage {
    let w = alpha.width, h = alpha.height, W = guide.width, H = guide.height
    let full = guide.layout.isColor ? Plane.planes(of: guide.rgbImage) : [Plane(guide, channel: 0)]
    let p = Plane(alpha)
    if radius == 0 {
        return clampedToUnit(Plane(width: W, height: H, data: bilinearUpsampled(p.data, width: w, height: h, to: W, H)).grayImage)
    }
    let small = full.map { plane -> Plane in
        var sums = Plane(width: w, height: h), counts = Plane(width: w, height: h)
        for y in 0..<H {
            let sy = min(h - 1, y * h / H)
            for x in 0..<W {
                let j = sy * w + min(w - 1, x * w / W)
                sums.data[j] += plane.data[y * W + x]
                counts.data[j] += 1
            }
        }
        for j in 0..<sums.count { sums.data[j] /= max(counts.data[j], 1) }
        return sums
    }
    let coefficients = GuidedFilter.coefficients(p, guide: small, radius: radius, epsilon: epsilon, pool: .serial)
    let upsampled = coefficients.map { Plane(width: W, height: H, data: bilinearUpsampled($0.data, width: w, height: h, to: W, H)) }
    return clampedToUnit(GuidedFilter.apply(upsampled, guide: full).grayImage)
}
