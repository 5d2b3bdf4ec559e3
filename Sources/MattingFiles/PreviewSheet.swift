import MattingKit

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
    ///   - background: the colour of the fourth panel (``MattingOptions/background``).
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
