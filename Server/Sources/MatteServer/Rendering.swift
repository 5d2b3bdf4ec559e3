import Foundation
import MattingKit

/// An encoded answer: the bytes, their media type, the picture's size and where the subject is.
struct Rendered: Sendable {
    /// The answer's bytes, in chunks (one for the whole path, many from the strips).
    var bytes: EncodedBytes
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

/// How a request is answered from ``Matter/matte(encoded:answering:options:studio:decoding:stripsAbove:cropping:progress:)``:
/// the outputs to encode (the answer's first: the cut-out or mask, or zip's colours and mask),
/// the background of a JPEG cut-out, and the margins of a crop to the subject.
struct EncodedPlan: Sendable, Equatable {
    var outputs: [AnswerOutput]
    var background: RGBColor
    /// `crop_margin` when the answer is cropped (`crop=true`); nil otherwise.
    var crop: CropMargin?
}

enum Rendering {
    /// The plan that gives the bytes ``render(_:_:includeMask:pool:)`` would, from the upload's
    /// bytes in strips (a crop too: the library finds the subject's box in a pass of its own).
    /// The page's PNG mask (`includeMask`) comes last.
    static func plan(_ output: Output, includeMask: Bool) -> EncodedPlan {
        var plan = EncodedPlan(outputs: [], background: .white, crop: output.crop ? output.cropMargin : nil)
        switch output.kind {
        case .mask: plan.outputs = [.mask(output.format == .jpeg ? .jpeg : .png)]
        case .zip: plan.outputs = [.colours, .mask(.png)]
        case .cutout:
            let background = output.background.flatMap { $0.alpha == 0 ? nil : $0 }
            let format = output.format ?? (background?.alpha == 255 ? .jpeg : .png)
            switch (background, format) {
            case (nil, .png): plan.outputs = [.cutoutPNG]
            case (nil, .jpeg): plan.outputs = [.cutoutJPEG]
            case let (colour?, .png): plan.outputs = [.cutoutPNGOver(colour.rgb, opacity: colour.alpha)]
            case let (colour?, .jpeg):
                // JPEG has no alpha: a partly transparent background is laid on white first.
                plan.outputs = [.cutoutJPEG]
                plan.background = colour.alpha == 255 ? colour.rgb : blendedOverWhite(colour)
            }
        }
        if includeMask { plan.outputs.append(.mask(.png)) }
        return plan
    }

    /// The answer made from `answer`, encoded as `plan` says: the bytes of ``render(_:_:includeMask:pool:)``.
    static func rendered(_ answer: EncodedAnswer, _ output: Output, plan: EncodedPlan, includeMask: Bool) throws -> Rendered {
        guard answer.outputs.count == plan.outputs.count, let first = answer.outputs.first else {
            throw APIError(.internalServerError, code: "internal_error", title: "an output was not encoded")
        }
        let maskPNG = includeMask ? answer.outputs.last?.joined : nil
        let frame = answer.crop ?? ImageRect(x: 0, y: 0, width: answer.width, height: answer.height)
        let foreground = answer.subjectBounds.map {
            ImageRect(x: $0.x - frame.x, y: $0.y - frame.y, width: $0.width, height: $0.height)
        }
        var rendered = Rendered(bytes: first, contentType: "image/png", fileExtension: "png", width: frame.width, height: frame.height,
                                foreground: foreground, maskPNG: maskPNG)
        switch plan.outputs[0] {
        case .cutoutJPEG, .mask(.jpeg): (rendered.contentType, rendered.fileExtension) = ("image/jpeg", "jpg")
        case .colours:
            rendered.bytes = ZipArchive.stored([("color.jpg", first), ("alpha.png", answer.outputs[1])])
            (rendered.contentType, rendered.fileExtension) = ("application/zip", "zip")
        default: break
        }
        return rendered
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
            let rect = try cropRect(subject: box, margin: output.cropMargin, width: matte.width, height: matte.height)
            matte = matte.cropped(to: rect)
            colours = colours.cropped(to: rect)
            box = box.map { ImageRect(x: $0.x - rect.x, y: $0.y - rect.y, width: $0.width, height: $0.height) }
        }
        let maskPNG = includeMask ? try matte.encoded(as: .png) : nil
        func done(_ bytes: [UInt8], _ format: Output.Format) -> Rendered {
            Rendered(bytes: EncodedBytes(chunks: [bytes]), contentType: format == .png ? "image/png" : "image/jpeg",
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
            return Rendered(bytes: EncodedBytes(chunks: [archive]), contentType: "application/zip", fileExtension: "zip",
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
            if format == .png {
                let laid = try Compositing.cutout(colours, matte: matte, over: colour.rgb, opacity: colour.alpha, pool: pool)
                return done(try laid.encoded(as: .png, options: threads), .png)
            }
            // JPEG has no alpha: a partly transparent background is laid on white first.
            let solid = colour.alpha == 255 ? colour.rgb : blendedOverWhite(colour)
            let flat = try Compositing.composite(colours, matte: matte, over: .color(solid), pool: pool)
            return done(try flat.encoded(as: .jpeg, options: threads), .jpeg)
        }
    }

    /// remove.bg's crop: the subject's box grown by `margin` (pixels, or percent of the box's
    /// sides) and clamped to the `width × height` picture.
    ///
    /// - Throws: `APIError` 400 `unknown_foreground` when there is no subject.
    static func cropRect(subject: ImageRect?, margin m: CropMargin, width: Int, height: Int) throws(APIError) -> ImageRect {
        guard let subject else {
            throw APIError(.badRequest, code: "unknown_foreground", title: "crop: no subject was found in the image to crop to")
        }
        let left = m.left.pixels(of: subject.width), right = m.right.pixels(of: subject.width)
        let top = m.top.pixels(of: subject.height), bottom = m.bottom.pixels(of: subject.height)
        return ImageRect(x: subject.x - left, y: subject.y - top,
                         width: subject.width + left + right, height: subject.height + top + bottom)
            .clamped(toWidth: width, height: height)
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
}
