import Foundation
import MattingKit

/// What one request asks the server to do, whichever route it came by: the photo's bytes,
/// where the coarse alpha comes from, the matte's post-processing, and the output.
struct MatteRequest: Sendable {
    /// Where the coarse alpha comes from.
    enum Source: String, Sendable {
        /// The segmentation network (remove.bg's `type` `auto` or `person`).
        case model = "person"
        /// A product on a plain backdrop, no network (`type=product`).
        case studio = "product"
    }

    /// The photo (PNG or JPEG).
    var image: [UInt8]
    var source: Source = .model
    /// Threshold → erosion → feathering.
    var operations: MatteOperations = .portrait
    /// The largest output in pixels (remove.bg's `size`); larger photos are scaled down
    /// before matting. nil: the photo's own size.
    var maximumPixels: Int?
    var output = Output()
}

/// What the response's image is.
struct Output: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// The subject with the matte as alpha, or over a background colour.
        case cutout
        /// The matte alone, 8-bit gray.
        case mask
        /// remove.bg's `format=zip`: `color.jpg` (the subject's colours, no alpha) and
        /// `alpha.png` (the matte).
        case zip
    }

    enum Format: String, Sendable, Equatable {
        case png, jpeg
    }

    var kind = Kind.cutout
    /// nil: PNG when the result has transparency, JPEG otherwise (remove.bg's `auto`).
    var format: Format? = .png
    /// A colour to lay the cut-out on; alpha below 255 leaves the result partly transparent.
    var background: RGBAColor?
    /// Crop to the subject's bounding box plus `cropMargin`.
    var crop = false
    var cropMargin = CropMargin()
}

/// A background colour with opacity.
struct RGBAColor: Sendable, Equatable {
    var red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8
    var rgb: RGBColor { RGBColor(red: red, green: green, blue: blue) }
}

/// Margins around the subject's bounding box for `crop`: pixels or percent of the box's size.
struct CropMargin: Sendable, Equatable {
    enum Length: Sendable, Equatable {
        case pixels(Int)
        case percent(Double)

        /// The length in pixels for a box side of `side` pixels.
        func pixels(of side: Int) -> Int {
            switch self {
            case let .pixels(n): n
            case let .percent(p): Int((Double(side) * p / 100).rounded())
            }
        }
    }

    var top = Length.pixels(0), right = Length.pixels(0), bottom = Length.pixels(0), left = Length.pixels(0)
}

/// Parsing of parameter values, each refusal naming the parameter and what it accepts.
enum Parameters {
    static func bool(_ name: String, _ form: FormData) throws(APIError) -> Bool? {
        guard let text = form[name]?.text else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalidParameter(name, "\"\(text.prefix(40))\" is not a boolean; use true or false")
        }
    }

    static func int(_ name: String, _ form: FormData, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = form[name]?.text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw .invalidParameter(name, "\"\(text.prefix(40))\" is not a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    static func choice(_ name: String, _ form: FormData, _ choices: [String]) throws(APIError) -> String? {
        guard let text = form[name]?.text else { return nil }
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let match = choices.first(where: { $0.lowercased() == value }) else {
            throw .invalidParameter(name, "\"\(text.prefix(40))\" is not one of \(choices.joined(separator: ", "))")
        }
        return match
    }

    /// MattingKit's own parameters, accepted on every route: `preset`, then `threshold`
    /// (0…50), `erosion` (0…5 px) and `feather` (boolean) overriding the preset's values.
    static func operations(_ form: FormData, default pathDefault: MatteOperations) throws(APIError) -> MatteOperations {
        var base = pathDefault
        if let name = try choice("preset", form, MatteOperations.presets.map(\.name)) {
            base = MatteOperations.preset(named: name) ?? pathDefault
        }
        let threshold = try int("threshold", form, in: 0...50) ?? base.threshold
        let erosion = try int("erosion", form, in: 0...5) ?? base.erosion
        let feather = try bool("feather", form) ?? base.feathers
        do {
            return try MatteOperations(threshold: threshold, feather: feather, erosion: erosion)
        } catch {
            throw .invalidParameter("threshold/erosion", "\(error)")
        }
    }

    /// The names `operations(_:default:)` reads.
    static let ownNames: Set<String> = ["preset", "threshold", "erosion", "feather"]

    /// A colour as remove.bg spells it: hex `rgb`, `rrggbb` or `rrggbbaa` (with or without
    /// `#`) or a CSS basic colour name.
    static func color(_ name: String, _ text: String) throws(APIError) -> RGBAColor {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let named = namedColors[trimmed] { return named }
        var digits = Substring(trimmed)
        if digits.first == "#" { digits = digits.dropFirst() }
        let values = digits.map { $0.hexDigitValue }
        guard [3, 6, 8].contains(values.count), values.allSatisfy({ $0 != nil }) else {
            throw .invalidParameter(name, "\"\(text.prefix(40))\" is not a colour; use a hex colour such as 81d4fa, #81d4fa or 81d4fa77, or a name such as white")
        }
        let v = values.map { UInt8($0 ?? 0) }
        if v.count == 3 { return RGBAColor(red: v[0] * 17, green: v[1] * 17, blue: v[2] * 17, alpha: 255) }
        return RGBAColor(
            red: v[0] << 4 | v[1], green: v[2] << 4 | v[3], blue: v[4] << 4 | v[5],
            alpha: v.count == 8 ? v[6] << 4 | v[7] : 255)
    }

    /// rembg's `bgc`: `r,g,b,a` decimal components 0…255 (`r,g,b` means opaque).
    static func rembgColor(_ text: String) throws(APIError) -> RGBAColor {
        let parts = text.split(separator: ",").map { UInt8($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3 || parts.count == 4, parts.allSatisfy({ $0 != nil }) else {
            throw .invalidParameter("bgc", "\"\(text.prefix(40))\" is not a colour; use r,g,b,a with each 0…255, for example 255,255,255,255")
        }
        let p = parts.map { $0 ?? 0 }
        return RGBAColor(red: p[0], green: p[1], blue: p[2], alpha: p.count == 4 ? p[3] : 255)
    }

    /// remove.bg's `crop_margin`: one, two or four lengths (`30px`, `10%`, `30`), as CSS
    /// margins; at most 500 px or 50 %.
    static func cropMargin(_ text: String) throws(APIError) -> CropMargin {
        let pieces = text.split(whereSeparator: { $0 == " " || $0 == "," })
        var lengths: [CropMargin.Length] = []
        for piece in pieces {
            let p = piece.lowercased()
            if p.hasSuffix("%"), let value = Double(p.dropLast()), value.isFinite, (0...50).contains(value) {
                lengths.append(.percent(value))
            } else if let value = Int(p.hasSuffix("px") ? String(p.dropLast(2)) : p), (0...500).contains(value) {
                lengths.append(.pixels(value))
            } else {
                throw .invalidParameter("crop_margin", "\"\(piece.prefix(40))\" is not a margin; use 0…500 px (30px) or 0…50 % (10%)")
            }
        }
        switch lengths.count {
        case 1: return CropMargin(top: lengths[0], right: lengths[0], bottom: lengths[0], left: lengths[0])
        case 2: return CropMargin(top: lengths[0], right: lengths[1], bottom: lengths[0], left: lengths[1])
        case 4: return CropMargin(top: lengths[0], right: lengths[1], bottom: lengths[2], left: lengths[3])
        default: throw .invalidParameter("crop_margin", "give one, two or four margins, for example 30px or 10% 20px")
        }
    }

    static let namedColors: [String: RGBAColor] = [
        "white": .init(red: 255, green: 255, blue: 255, alpha: 255), "black": .init(red: 0, green: 0, blue: 0, alpha: 255),
        "red": .init(red: 255, green: 0, blue: 0, alpha: 255), "green": .init(red: 0, green: 128, blue: 0, alpha: 255),
        "blue": .init(red: 0, green: 0, blue: 255, alpha: 255), "yellow": .init(red: 255, green: 255, blue: 0, alpha: 255),
        "gray": .init(red: 128, green: 128, blue: 128, alpha: 255), "grey": .init(red: 128, green: 128, blue: 128, alpha: 255),
        "silver": .init(red: 192, green: 192, blue: 192, alpha: 255), "maroon": .init(red: 128, green: 0, blue: 0, alpha: 255),
        "purple": .init(red: 128, green: 0, blue: 128, alpha: 255), "fuchsia": .init(red: 255, green: 0, blue: 255, alpha: 255),
        "lime": .init(red: 0, green: 255, blue: 0, alpha: 255), "olive": .init(red: 128, green: 128, blue: 0, alpha: 255),
        "navy": .init(red: 0, green: 0, blue: 128, alpha: 255), "teal": .init(red: 0, green: 128, blue: 128, alpha: 255),
        "aqua": .init(red: 0, green: 255, blue: 255, alpha: 255), "transparent": .init(red: 0, green: 0, blue: 0, alpha: 0),
    ]

    /// Refuses any name not in `known` (ignored names are allowed and dropped).
    static func refuseUnknown(_ form: FormData, known: Set<String>, route: String) throws(APIError) {
        for name in form.names where !known.contains(name) {
            throw .unknownParameter(name, route: route)
        }
    }

    /// The image part or field `name`, required and non-empty.
    static func file(_ name: String, _ form: FormData) throws(APIError) -> [UInt8] {
        guard let value = form[name] else {
            throw APIError(.badRequest, code: "missing_source", title: "\(name): no image was sent; send the photo as the multipart file field \(name)")
        }
        guard !value.bytes.isEmpty else {
            throw APIError(.badRequest, code: "empty_file", title: "\(name): the file is empty")
        }
        return value.bytes
    }
}

// MARK: - The three routes' parameters

extension MatteRequest {
    /// rembg's `POST /api/remove`: `file`, `om` (only mask), `bgc` (`r,g,b,a`), plus
    /// MattingKit's own parameters. rembg's model and alpha-matting fields (`model`, `a`,
    /// `af`, `ab`, `ae`, `ppm`, `extras`) are accepted and ignored: MattingKit always solves
    /// the alpha matte with its own model.
    static func rembg(_ form: FormData) throws(APIError) -> MatteRequest {
        try Parameters.refuseUnknown(
            form, known: Parameters.ownNames.union(["file", "om", "bgc", "model", "a", "af", "ab", "ae", "ppm", "extras"]),
            route: "/api/remove")
        var request = MatteRequest(image: try Parameters.file("file", form))
        request.operations = try Parameters.operations(form, default: .portrait)
        if try Parameters.bool("om", form) == true { request.output.kind = .mask }
        if let bgc = form["bgc"]?.text, !bgc.isEmpty { request.output.background = try Parameters.rembgColor(bgc) }
        return request
    }

    /// remove.bg's `POST /v1.0/removebg` subset: `image_file` or `image_file_b64`, `size`,
    /// `type`, `format`, `bg_color`, `channels`, `crop`, `crop_margin`, plus MattingKit's
    /// own parameters. `image_url` is refused: the server fetches nothing for a client.
    static func removeBG(_ form: FormData) throws(APIError) -> MatteRequest {
        if form["image_url"] != nil {
            throw APIError(.badRequest, code: "image_url_unsupported",
                           title: "image_url: this server fetches nothing on a client's behalf; upload the photo as image_file or image_file_b64")
        }
        try Parameters.refuseUnknown(
            form,
            known: Parameters.ownNames.union([
                "image_file", "image_file_b64", "size", "type", "type_level", "format", "bg_color", "channels",
                "crop", "crop_margin", "semitransparency",
            ]),
            route: "/v1.0/removebg")
        let image: [UInt8]
        switch (form["image_file"], form["image_file_b64"]) {
        case (.some, .some):
            throw APIError(.badRequest, code: "multiple_sources", title: "send either image_file or image_file_b64, not both")
        case (.some, nil):
            image = try Parameters.file("image_file", form)
        case (nil, .some(let b64)):
            // Clients send plain base64, some with a data: URL prefix or line breaks.
            var text = b64.text
            if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = String(text[text.index(after: comma)...]) }
            text.removeAll { $0 == "\n" || $0 == "\r" || $0 == " " }
            guard !text.isEmpty else { throw APIError(.badRequest, code: "empty_file", title: "image_file_b64: the value is empty") }
            guard let data = Data(base64Encoded: text) else {
                throw APIError.invalidParameter("image_file_b64", "the value is not base64")
            }
            image = [UInt8](data)
        case (nil, nil):
            throw APIError(.badRequest, code: "missing_source", title: "no image was sent; send image_file (a file) or image_file_b64")
        }
        var request = MatteRequest(image: image)
        switch try Parameters.choice("size", form, ["auto", "preview", "small", "regular", "medium", "hd", "full", "4k", "50MP"]) {
        case "preview", "small", "regular": request.maximumPixels = 250_000
        case "medium": request.maximumPixels = 1_500_000
        case "hd": request.maximumPixels = 4_000_000
        default: request.maximumPixels = nil
        }
        if try Parameters.choice("type", form, ["auto", "person", "product"]) == "product" { request.source = .studio }
        request.operations = try Parameters.operations(form, default: request.source == .studio ? .product : .portrait)
        switch try Parameters.choice("format", form, ["auto", "png", "jpg", "jpeg", "zip"]) ?? "auto" {
        case "png": request.output.format = .png
        case "jpg", "jpeg": request.output.format = .jpeg
        case "zip": request.output.kind = .zip
        default: request.output.format = nil
        }
        if try Parameters.choice("channels", form, ["rgba", "alpha"]) == "alpha", request.output.kind != .zip {
            request.output.kind = .mask
        }
        if let text = form["bg_color"]?.text, !text.isEmpty { request.output.background = try Parameters.color("bg_color", text) }
        request.output.crop = try Parameters.bool("crop", form) ?? false
        if let text = form["crop_margin"]?.text, !text.isEmpty { request.output.cropMargin = try Parameters.cropMargin(text) }
        return request
    }

    /// The page's `POST /api/matte`: `file`, `type` (`auto`, `person`, `product`),
    /// `bg_color`, `format` (`png`, `jpg`), plus MattingKit's own parameters. The mask is
    /// always returned beside the cut-out.
    static func page(_ form: FormData) throws(APIError) -> MatteRequest {
        try Parameters.refuseUnknown(
            form, known: Parameters.ownNames.union(["file", "type", "bg_color", "format"]), route: "/api/matte")
        var request = MatteRequest(image: try Parameters.file("file", form))
        if try Parameters.choice("type", form, ["auto", "person", "product"]) == "product" { request.source = .studio }
        request.operations = try Parameters.operations(form, default: request.source == .studio ? .product : .portrait)
        if try Parameters.choice("format", form, ["png", "jpg", "jpeg"]) ?? "png" != "png" { request.output.format = .jpeg }
        if let text = form["bg_color"]?.text, !text.isEmpty { request.output.background = try Parameters.color("bg_color", text) }
        return request
    }
}
