import MattingImage
import MattingKit
import MattingRefine

/// A contact sheet for checking a result at a glance: four panels side by side — the
/// photo, the matte, the cut-out on a checkerboard, and the cut-out on the background colour.
///
/// Every panel is the photo's picture scaled by the same factor, with the area filter, so
/// that its longer side is at most ``maximumPanelSide`` (512 px by default; never enlarged,
/// sides rounded to nearest, at least 1 px). Panels are separated by ``gap`` pixels of
/// ``gapColor``; there is no outer border. A sheet is therefore
/// `4·w + 3·gap` × `h` for panels of `w × h`, RGB, 8-bit.
///
/// The two cut-out panels are composited at panel size from the premultiplied colours
/// (`F·α` and `α` each area-downscaled), so a scaled edge blends as the full-size cut-out
/// would. The checkerboard has ``checkerSize``-pixel squares, ``checkerLight`` in the
/// top-left corner alternating with ``checkerDark``.
///
/// `MatteJob` builds the same sheet, byte for byte, without holding the photo or the result:
/// each panel is area-downscaled as its rows go by (a streaming resizer that computes what
/// `resized(width:height:filter:)` computes, in the same order), so a preview does not take
/// the photo off the strip path.
///
/// ```swift
/// let sheet = PreviewSheet().sheet(photo: photo, result: result, background: .white)
/// try sheet.write(to: URL(fileURLWithPath: "photo-preview.png"))
/// ```
public struct PreviewSheet: Sendable, Hashable {
    /// The longest side a panel may have, in pixels (at least 1).
    public var maximumPanelSide: Int
    /// Pixels between panels (0 or more).
    public var gap: Int
    /// The colour between panels.
    public var gapColor: RGBColor
    /// The side of a checkerboard square, in panel pixels (at least 1).
    public var checkerSize: Int
    /// The checkerboard's colour at the top-left square.
    public var checkerLight: RGBColor
    /// The checkerboard's other colour.
    public var checkerDark: RGBColor

    public init(
        maximumPanelSide: Int = 512, gap: Int = 8, gapColor: RGBColor = RGBColor(red: 32, green: 32, blue: 32),
        checkerSize: Int = 8, checkerLight: RGBColor = RGBColor(red: 255, green: 255, blue: 255),
        checkerDark: RGBColor = RGBColor(red: 204, green: 204, blue: 204)
    ) {
        self.maximumPanelSide = maximumPanelSide
        self.gap = gap
        self.gapColor = gapColor
        self.checkerSize = checkerSize
        self.checkerLight = checkerLight
        self.checkerDark = checkerDark
    }

    /// The size of one panel for a `width × height` photo.
    public func panelSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let longer = max(width, height), limit = max(1, maximumPanelSide)
        guard longer > limit else { return (width, height) }
        let scale = Double(limit) / Double(longer)
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// The checkerboard colour at panel pixel `(x, y)`.
    public func checkerColor(x: Int, y: Int) -> RGBColor {
        let size = max(1, checkerSize)
        return (x / size + y / size) % 2 == 0 ? checkerLight : checkerDark
    }

    /// The sheet for `result`, the matting result of `photo`.
    ///
    /// - Parameters:
    ///   - photo: the photo as given to the pipeline (any layout; alpha ignored).
    ///   - result: its result (same size).
    ///   - background: the colour of the fourth panel (`MattingOptions.background`).
    /// - Returns: RGB, `4·w + 3·gap` × `h` with `(w, h)` = ``panelSize(width:height:)``.
    /// - Throws: `ImageError.invalidArgument` if the result's matte and foreground differ in size.
    public func sheet(photo: Image, result: MattingResult, background: RGBColor) throws -> Image {
        let (w, h) = panelSize(width: result.matte.width, height: result.matte.height)
        let picture = photo.converted(to: .rgb).resized(width: w, height: h, filter: .area)
        let alpha = result.matte.resized(width: w, height: h, filter: .area)
        // Premultiplied before shrinking, so background colour under transparent pixels
        // cannot bleed into the panel's edges.
        let premultiplied = try Compositing.premultiplied(result.foreground, matte: result.matte)
            .resized(width: w, height: h, filter: .area)
        return try assembled(picture: picture, alpha: alpha, premultiplied: premultiplied, background: background)
    }

    /// The sheet from its panel-size pictures: the photo (RGB), the matte (gray) and the
    /// premultiplied colours (RGB), all `w × h`.
    func assembled(picture: Image, alpha: Image, premultiplied: Image, background: RGBColor) throws -> Image {
        let w = picture.width, h = picture.height
        let panels = [
            picture,
            alpha.converted(to: .rgb),
            try Compositing.composite(
                premultiplied: premultiplied, matte: alpha,
                over: .checkerboard(size: checkerSize, light: checkerLight, dark: checkerDark)),
            try Compositing.composite(premultiplied: premultiplied, matte: alpha, over: .color(background)),
        ]
        let gap = max(0, self.gap)
        let sheetWidth = 4 * w + 3 * gap
        var sheet = Image(width: sheetWidth, height: h, layout: .rgb)
        let gapRGB = [gapColor.red, gapColor.green, gapColor.blue]
        sheet.withUnsafeMutableBufferPointer { d, dStride in
            for y in 0..<h {
                let row = d + y * dStride
                for x in 0..<sheetWidth { for c in 0..<3 { row[3 * x + c] = gapRGB[c] } }
                for (k, panel) in panels.enumerated() {
                    panel.withUnsafeBufferPointer { p, pStride in
                        (row + 3 * k * (w + gap)).update(from: p + y * pStride, count: 3 * w)
                    }
                }
            }
        }
        return sheet
    }
}

extension PreviewSheet {
    /// The sheet of ``PreviewSheet/sheet(photo:result:background:)`` built from the strip
    /// path's rows: the photo's rows (pass 1) and the result's colours and matte (pass 2) are
    /// each area-downscaled to the panel size as they arrive, so only the panels and a band of
    /// rows are held. Encoded as PNG. Used by one thread at a time, in the order
    /// ``ExtraOutput`` gives.
    final class Builder: ExtraOutput, @unchecked Sendable {
        let layout: PreviewSheet
        let background: RGBColor
        private var width = 0, height = 0
        private var picture: PanelResizer?, alpha: PanelResizer?, premultiplied: PanelResizer?

        /// A builder of `layout`'s sheet with `background` behind the fourth panel.
        init(_ layout: PreviewSheet, background: RGBColor) {
            self.layout = layout
            self.background = background
        }

        func begin(width: Int, height: Int) {
            self.width = width
            self.height = height
            let (w, h) = layout.panelSize(width: width, height: height)
            picture = PanelResizer(width: width, height: height, layout: .rgb, newWidth: w, newHeight: h)
            alpha = PanelResizer(width: width, height: height, layout: .gray, newWidth: w, newHeight: h)
            premultiplied = PanelResizer(width: width, height: height, layout: .rgb, newWidth: w, newHeight: h)
        }

        func photoRows(_ band: Image, count: Int) {
            guard count > 0 else { return }
            precondition(band.width == width, "PreviewSheet.Builder: the photo's width changed")
            let rows = count == band.height ? band : band.cropped(to: ImageRect(x: 0, y: 0, width: band.width, height: count))
            let rgb = rows.converted(to: .rgb)
            rgb.withUnsafeBufferPointer { src, srcStride in
                picture?.add(count, pool: .serial) { first, n, dst, dstStride in
                    for i in 0..<n { (dst + i * dstStride).update(from: src + (first + i) * srcStride, count: 3 * width) }
                }
            }
        }

        func resultRows(colours: UnsafePointer<UInt8>, stride: Int, alpha matte: UnsafePointer<UInt8>, alphaStride: Int, count: Int,
                        pool: ThreadPool) throws {
            let width = width
            alpha?.add(count, pool: pool) { first, n, dst, dstStride in
                for i in 0..<n { (dst + i * dstStride).update(from: matte + (first + i) * alphaStride, count: width) }
            }
            premultiplied?.add(count, pool: pool) { first, n, dst, dstStride in
                pool.parallelChunks(n) { rows in
                    for i in rows {
                        Compositing.premultiply(colours + (first + i) * stride, alpha: matte + (first + i) * alphaStride,
                                                into: dst + i * dstStride, count: width)
                    }
                }
            }
        }

        func finish(pool: ThreadPool) throws -> [UInt8] {
            guard let picture, let alpha, let premultiplied else { preconditionFailure("PreviewSheet.Builder: begin was not called") }
            return try layout.assembled(picture: picture.finished(), alpha: alpha.finished(), premultiplied: premultiplied.finished(),
                                        background: background).encoded(as: .png)
        }

        func encoded(photo: Image, result: MattingResult, pool: ThreadPool) throws -> [UInt8] {
            try layout.sheet(photo: photo, result: result, background: background).encoded(as: .png)
        }
    }
}

/// One panel of the sheet made from rows that arrive top to bottom: the bytes of
/// `resized(width:height:filter: .area)` of the whole picture (a `StreamingResizer`), or
/// the rows themselves when the size does not change (as `resized` returns the picture).
struct PanelResizer {
    private static let bandRows = 256
    private let width: Int, height: Int
    private var resizer: StreamingResizer?
    private var whole: Image?
    private var band: Image
    private var rowsIn = 0

    init(width: Int, height: Int, layout: PixelLayout, newWidth: Int, newHeight: Int) {
        self.width = width
        self.height = height
        let isResized = newWidth != width || newHeight != height
        resizer = isResized
            ? StreamingResizer(width: width, height: height, layout: layout, newWidth: newWidth, newHeight: newHeight,
                               filter: .area, maximumBandRows: Self.bandRows)
            : nil
        whole = isResized ? nil : Image(width: width, height: height, layout: layout)
        band = Image(width: width, height: isResized ? min(Self.bandRows, height) : 1, layout: layout)
    }

    /// Adds the next `count` rows: `fill(first, n, into, stride)` writes rows
    /// `first..<first + n` of them (in the panel's layout) to `into`, `stride` bytes apart,
    /// in batches of at most 256 rows.
    mutating func add(_ count: Int, pool: ThreadPool,
                      fill: (_ first: Int, _ n: Int, _ into: UnsafeMutablePointer<UInt8>, _ stride: Int) -> Void) {
        precondition(rowsIn + count <= height, "PanelResizer: more rows than the picture has")
        if whole != nil {
            let y0 = rowsIn
            whole?.withUnsafeMutableBufferPointer { dst, stride in fill(0, count, dst + y0 * stride, stride) }
            rowsIn += count
            return
        }
        var first = 0
        while first < count {
            let n = min(Self.bandRows, count - first)
            band.withUnsafeMutableBufferPointer { dst, stride in fill(first, n, dst, stride) }
            resizer?.add(band, rows: n, pool: pool)
            first += n
        }
        rowsIn += count
    }

    /// The panel, once every row has been added.
    func finished() -> Image {
        precondition(rowsIn == height, "PanelResizer: \(rowsIn) of \(height) rows")
        guard let panel = whole ?? resizer?.result else { preconditionFailure("one of the two is made") }
        return panel
    }
}
