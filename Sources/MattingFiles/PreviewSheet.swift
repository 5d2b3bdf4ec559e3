import MattingImage

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
    public func sheet(photo: Image, result: MattingResult, background: RGBColor) -> Image {
        let (w, h) = panelSize(width: result.matte.width, height: result.matte.height)
        let picture = photo.converted(to: .rgb).resized(width: w, height: h, filter: .area)
        let alpha = result.matte.resized(width: w, height: h, filter: .area)
        let premultiplied = Self.premultiplied(result.foreground.converted(to: .rgb), alpha: result.matte)
            .resized(width: w, height: h, filter: .area)
        let gap = max(0, self.gap)
        let sheetWidth = 4 * w + 3 * gap
        var sheet = Image(width: sheetWidth, height: h, layout: .rgb)
        let gapRGB = [gapColor.red, gapColor.green, gapColor.blue]
        let backRGB = [background.red, background.green, background.blue]
        let lightRGB = [checkerLight.red, checkerLight.green, checkerLight.blue]
        let darkRGB = [checkerDark.red, checkerDark.green, checkerDark.blue]
        let square = max(1, checkerSize)
        sheet.withUnsafeMutableBufferPointer { d, dStride in
            for y in 0..<h {
                let row = d + y * dStride
                for x in 0..<sheetWidth { for c in 0..<3 { row[3 * x + c] = gapRGB[c] } }
                for x in 0..<w {
                    let a = alpha[x, y, 0]
                    let checkerRGB = (x / square + y / square) % 2 == 0 ? lightRGB : darkRGB
                    for c in 0..<3 {
                        row[3 * x + c] = picture[x, y, c]
                        row[3 * (x + w + gap) + c] = a
                        let p = premultiplied[x, y, c]
                        row[3 * (x + 2 * (w + gap)) + c] = Self.over(p, alpha: a, checkerRGB[c])
                        row[3 * (x + 3 * (w + gap)) + c] = Self.over(p, alpha: a, backRGB[c])
                    }
                }
            }
        }
        return sheet
    }

    /// `F·α/255` per colour channel, rounded: what area-averages correctly at an edge.
    static func premultiplied(_ foreground: Image, alpha: Image) -> Image {
        var out = Image(width: foreground.width, height: foreground.height, layout: .rgb)
        let width = foreground.width
        foreground.withUnsafeBufferPointer { f, fStride in
            alpha.withUnsafeBufferPointer { a, aStride in
                out.withUnsafeMutableBufferPointer { d, dStride in
                    for y in 0..<foreground.height {
                        let fr = f + y * fStride, ar = a + y * aStride, dr = d + y * dStride
                        for x in 0..<width {
                            let t = UInt32(ar[x])
                            for c in 0..<3 {
                                let v = UInt32(fr[3 * x + c]) * t + 128
                                dr[3 * x + c] = UInt8((v + (v >> 8)) >> 8)  // exact round(v / 255)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// A premultiplied value over a background value: `p + b·(255 − α)/255`, rounded and clamped.
    @inline(__always)
    static func over(_ premultiplied: UInt8, alpha: UInt8, _ background: UInt8) -> UInt8 {
        let t = UInt32(background) * UInt32(255 - alpha) + 128
        return UInt8(min(UInt32(premultiplied) + ((t + (t >> 8)) >> 8), 255))
    }
}
