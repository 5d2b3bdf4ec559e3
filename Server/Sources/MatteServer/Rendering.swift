import Foundation
import MattingKit

/// An encoded answer: the bytes, their media type, the picture's size and where the subject is.
struct Rendered: Sendable {
    var bytes: [UInt8]
    var contentType: String
    /// The file name extension (`png`, `jpg`, `zip`).
    var fileExtension: String
    var width: Int
    var height: Int
    /// The subject's bounding box (alpha above 0) in the output, or nil if it is empty.
    var foreground: ImageRect?
    /// The matte as PNG, when the caller asked for it beside the main output.
    var maskPNG: [UInt8]?
}

/// How a request is answered from ``Matter/matte(encoded:writing:options:studio:decoding:stripsAbove:progress:)``:
/// the outputs to encode and the background of a JPEG cut-out.
struct EncodedPlan: Sendable, Equatable {
    var outputs: EncodedOutputs
    var background: RGBColor
}

enum Rendering {
    /// The plan that gives the bytes ``render(_:_:includeMask:pool:)`` would, from the upload's
    /// bytes in strips; nil when the answer needs the whole picture (a crop, a PNG over a
    /// background colour, a translucent background, a JPEG mask beside the page's PNG mask).
    static func plan(_ output: Output, includeMask: Bool) -> EncodedPlan? {
        guard !output.crop else { return nil }
        switch output.kind {
        case .mask:
            let format: ImageFormat = output.format == .jpeg ? .jpeg : .png
            if includeMask && format != .png { return nil }
            return EncodedPlan(outputs: EncodedOutputs(cutout: nil, mask: format), background: .white)
        case .zip:
            return EncodedPlan(outputs: EncodedOutputs(cutout: nil, mask: .png, colours: true), background: .white)
        case .cutout:
            let background = output.background.flatMap { $0.alpha == 0 ? nil : $0 }
            let format = output.format ?? (background?.alpha == 255 ? .jpeg : .png)
            let mask: ImageFormat? = includeMask ? .png : nil
            switch (background, format) {
            case (nil, .png): return EncodedPlan(outputs: EncodedOutputs(cutout: .png, mask: mask), background: .white)
            case (nil, .jpeg): return EncodedPlan(outputs: EncodedOutputs(cutout: .jpeg, mask: mask), background: .white)
            case let (colour?, .jpeg) where colour.alpha == 255:
                return EncodedPlan(outputs: EncodedOutputs(cutout: .jpeg, mask: mask), background: colour.rgb)
            default: return nil
            }
        }
    }

    /// The answer made from `matte`, encoded as `plan` says: the bytes of ``render(_:_:includeMask:pool:)``.
    static func rendered(_ matte: EncodedMatte, _ output: Output, plan: EncodedPlan, includeMask: Bool) throws -> Rendered {
        func need(_ bytes: [UInt8]?) throws -> [UInt8] {
            guard let bytes else { throw APIError(.internalServerError, code: "internal_error", title: "an output was not encoded") }
            return bytes
        }
        let maskPNG = includeMask ? try need(matte.mask) : nil
        func done(_ bytes: [UInt8], _ format: ImageFormat) -> Rendered {
            Rendered(bytes: bytes, contentType: format == .png ? "image/png" : "image/jpeg", fileExtension: format == .png ? "png" : "jpg",
                     width: matte.width, height: matte.height, foreground: matte.subjectBounds, maskPNG: maskPNG)
        }
        switch output.kind {
        case .mask: return done(try need(matte.mask), plan.outputs.mask ?? .png)
        case .zip:
            let archive = ZipArchive.stored([("color.jpg", try need(matte.colours)), ("alpha.png", try need(matte.mask))])
            return Rendered(bytes: archive, contentType: "application/zip", fileExtension: "zip",
                            width: matte.width, height: matte.height, foreground: matte.subjectBounds, maskPNG: maskPNG)
        case .cutout: return done(try need(matte.cutout), plan.outputs.cutout ?? .png)
        }
    }


    /// Encodes `result` as `output` asks: crop, background, format, kind.
    ///
    /// - Throws: `APIError` 400 `unknown_foreground` when cropping a result with no subject;
    ///   encoding errors.
    static func render(_ result: MattingResult, _ output: Output, includeMask: Bool = false, pool: ThreadPool) throws -> Rendered {
        var matte = result.matte
        var colours = result.foreground
        var box = boundingBox(of: matte)
        if output.crop {
            guard let subject = box else {
                throw APIError(.badRequest, code: "unknown_foreground", title: "crop: no subject was found in the image to crop to")
            }
            let m = output.cropMargin
            let left = m.left.pixels(of: subject.width), right = m.right.pixels(of: subject.width)
            let top = m.top.pixels(of: subject.height), bottom = m.bottom.pixels(of: subject.height)
            let rect = ImageRect(x: subject.x - left, y: subject.y - top,
                                 width: subject.width + left + right, height: subject.height + top + bottom)
                .clamped(toWidth: matte.width, height: matte.height)
            matte = matte.cropped(to: rect)
            colours = colours.cropped(to: rect)
            box = ImageRect(x: subject.x - rect.x, y: subject.y - rect.y, width: subject.width, height: subject.height)
        }
        let maskPNG = includeMask ? try matte.encoded(as: .png) : nil
        func done(_ bytes: [UInt8], _ format: Output.Format) -> Rendered {
            Rendered(bytes: bytes, contentType: format == .png ? "image/png" : "image/jpeg",
                     fileExtension: format == .png ? "png" : "jpg",
                     width: matte.width, height: matte.height, foreground: box, maskPNG: maskPNG)
        }
        switch output.kind {
        case .mask:
            let format = output.format ?? .png
            return done(try matte.encoded(as: format == .png ? .png : .jpeg), format)
        case .zip:
            let archive = ZipArchive.stored([
                ("color.jpg", try colours.encoded(as: .jpeg)),
                ("alpha.png", try matte.encoded(as: .png)),
            ])
            return Rendered(bytes: archive, contentType: "application/zip", fileExtension: "zip",
                            width: matte.width, height: matte.height, foreground: box, maskPNG: maskPNG)
        case .cutout:
            let background = output.background.flatMap { $0.alpha == 0 ? nil : $0 }
            // remove.bg's auto: PNG when anything is transparent, JPEG when the background is opaque.
            let format = output.format ?? (background?.alpha == 255 ? .jpeg : .png)
            let threads = EncodingOptions(threads: pool.threadCount)
            guard let colour = background else {
                if format == .png {
                    if !output.crop { return done(try result.cutoutPNG(threads: pool.threadCount), .png) }
                    return done(try Compositing.cutout(colours, matte: matte).encoded(as: .png, options: threads), .png)
                }
                let flat = try Compositing.composite(colours, matte: matte, over: .color(.white), pool: pool)
                return done(try flat.encoded(as: .jpeg), .jpeg)
            }
            if colour.alpha < 255 && format == .png {
                return done(try over(colours, matte: matte, translucent: colour).encoded(as: .png, options: threads), .png)
            }
            // JPEG has no alpha: a partly transparent background is laid on white first.
            let solid = colour.alpha == 255 ? colour.rgb : blendedOverWhite(colour)
            let flat = try Compositing.composite(colours, matte: matte, over: .color(solid), pool: pool)
            return done(try flat.encoded(as: format == .png ? .png : .jpeg, options: threads), format)
        }
    }

    /// The smallest rectangle holding every pixel with alpha above 0, or nil if there is none.
    static func boundingBox(of matte: Image) -> ImageRect? { SubjectBounds.of(matte) }

    static func blendedOverWhite(_ c: RGBAColor) -> RGBColor {
        let a = Int(c.alpha)
        func mix(_ v: UInt8) -> UInt8 {
            let sum: Int = Int(v) * a + 255 * (255 - a) + 127
            return UInt8(sum / 255)
        }
        return RGBColor(red: mix(c.red), green: mix(c.green), blue: mix(c.blue))
    }

    /// The cut-out over a partly transparent colour, as straight-alpha RGBA ("over" operator).
    static func over(_ colours: Image, matte: Image, translucent c: RGBAColor) throws -> Image {
        var out = try Compositing.cutout(colours, matte: matte)
        let width = out.width, height = out.height
        let bgA = Double(c.alpha) / 255
        out.withUnsafeMutableBufferPointer { p, stride in
            for y in 0..<height {
                let row = p + y * stride
                for x in 0..<width {
                    let a = Double(row[4 * x + 3]) / 255
                    let outA = a + bgA * (1 - a)
                    guard outA > 0 else { continue }
                    for k in 0..<3 {
                        let bg = Double(k == 0 ? c.red : k == 1 ? c.green : c.blue)
                        let v = (Double(row[4 * x + k]) * a + bg * bgA * (1 - a)) / outA
                        row[4 * x + k] = UInt8(min(255, max(0, v.rounded())))
                    }
                    row[4 * x + 3] = UInt8(min(255, (outA * 255).rounded()))
                }
            }
        }
        return out
    }
}
