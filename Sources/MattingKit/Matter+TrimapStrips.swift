import Foundation
import MattingImage
import MattingRefine

extension Matter {
    /// Mattes the photo in the file at `input` from the caller's trimap in the file at
    /// `trimap` (0 background, 255 foreground, anything else unknown; the photo's size), with
    /// no network, and writes the outputs, without holding the full-size photo, trimap, matte
    /// or cut-out.
    ///
    /// The photo goes through in strips as ``matte(fileAt:writing:options:studio:stripsAbove:progress:)``
    /// describes; the trimap file is read once, a strip of rows at a time, by a row reader of
    /// its own, and reduced (nearest) to the working size as it is read: only the working-size
    /// trimap is held. A trimap file with an EXIF orientation is read upright as the photo is:
    /// mirrored (2) row by row, turned or flipped (3–8) through a temporary spill file of its
    /// own (its decoded size: 1 byte a pixel for a gray trimap), made, read once and closed
    /// while the trimap is reduced, with the photo's rules and errors (see
    /// ``matte(fileAt:writing:options:studio:stripsAbove:progress:)``). The files hold the same bytes as ``matte(_:trimap:options:progress:)``
    /// of the decoded photo and trimap, written as `result.cutoutPNG()` (or composited as JPEG)
    /// and `result.matte.encoded(as: .png)`. Post-processing defaults to none (the solver's
    /// alpha as it is), as on the whole-picture path.
    ///
    /// The whole-picture path is taken (same files) in the cases listed at
    /// ``matte(fileAt:writing:options:studio:stripsAbove:progress:)``.
    ///
    /// - Parameters:
    ///   - input: the photo, a PNG or JPEG file.
    ///   - trimap: the trimap, a PNG or JPEG file of the photo's upright size; gray, or colour
    ///     (converted to gray as ``matte(_:trimap:options:progress:)`` does).
    ///   - outputs: the files to write; none may be `input` or `trimap`.
    ///   - options: as for ``matte(_:trimap:options:progress:)``.
    ///   - stripsAbove: photos of more pixels than this go through in strips; 0 for every photo.
    ///   - progress: as for ``matte(_:options:progress:)``.
    /// - Throws: ``MattingError/sizeMismatch(_:)`` naming the trimap file when its size is not
    ///   the photo's, ``MattingError/unusableTrimap(_:)`` naming it when it marks no pixel as
    ///   known (0 or 255) and some as unknown; `ImageError` naming the file (photo, trimap or output); ``MattingError``;
    ///   `CancellationError`. Nothing is written when it throws.
    public func matte(
        fileAt input: URL, trimap: URL, writing outputs: StreamedOutputs, options: MattingOptions = MattingOptions(),
        stripsAbove: Int = Matter.defaultStripThreshold, progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> StreamedMatte {
        func same(_ a: URL, _ b: URL) -> Bool {
            a.standardizedFileURL.resolvingSymlinksInPath().path == b.standardizedFileURL.resolvingSymlinksInPath().path
        }
        for output in outputs.files where same(output, input) || same(output, trimap) {
            throw ImageError.io(path: output.path, detail: "is an input; refusing to overwrite it")
        }
        let files = outputs.files
        let kinds: [EncodedOutput] = [.cutout(outputs.format)] + (outputs.mask == nil ? [] : [.mask(.png)])
        let (matte, _) = try await matte(
            .file(input.path), writing: kinds, into: { index in try AtomicFileWriter(path: files[index].path) },
            options: options, studio: nil, trimap: .file(trimap.path), stripsAbove: stripsAbove, progress: progress)
        return matte
    }

    /// Checks the trimap's upright size against the photo's, before anything is written (its
    /// rows can always be read upright in strips: through a spill file when it is turned or
    /// flipped).
    ///
    /// - Throws: ``MattingError/sizeMismatch(_:)`` naming the trimap; the reader's `ImageError`.
    static func checkTrimap(_ trimap: RowInput, width: Int, height: Int) throws {
        try trimap.withReader { reader in
            let (w, h) = reader.uprightSize
            guard w == width, h == height else {
                throw MattingError.sizeMismatch("\(trimap.name): trimap is \(w)×\(h), photo is \(width)×\(height)")
            }
        }
    }

    /// The solver on the working copy with the trimap file reduced to the working size.
    ///
    /// The trimap is read before the refine stage begins (its read errors name the file, as
    /// the whole-picture path's decoding does); the solve is the refine stage.
    static func solve(_ working: Working, trimap: RowInput, options: MattingOptions, pipeline: Pipeline) throws -> FloatImage {
        let small = try Matter.usableTrimap(
            workingTrimap(trimap, width: working.image.width, height: working.image.height, pool: pipeline.pool),
            name: trimap.name)
        return try pipeline.stage(.refine) {
            try options.refiner(default: .exact).matte(working.float, trimap: small, pool: pipeline.pool)
        }
    }

    /// The trimap file's rows, converted to gray and resized (nearest) to `w × h` as they
    /// are read: the bytes of `Image(contentsOf:).converted(to: .gray).resized(width: w,
    /// height: h, filter: .nearest)` (the whole-picture path's), holding one strip of
    /// full-size rows (and, for a turned or flipped file, its upright pixels in a spill file).
    static func workingTrimap(_ trimap: RowInput, width w: Int, height h: Int, pool: ThreadPool) throws -> Image {
        let source = try trimap.upright()
        try source.prepare { _ in try pool.checkCancellation() }
        return try source.withRows { rows in
            let W = rows.width, H = rows.height, strip = stripRows
            let isReduced = w != W || h != H
            var resizer: StreamingResizer? = isReduced
                ? StreamingResizer(width: W, height: H, layout: .gray, newWidth: w, newHeight: h, filter: .nearest, maximumBandRows: strip)
                : nil
            var whole: Image? = isReduced ? nil : Image(width: W, height: H, layout: .gray)
            var band = Image(width: W, height: min(strip, H), layout: rows.layout)
            for y0 in stride(from: 0, to: H, by: strip) {
                try pool.checkCancellation()
                let n = min(strip, H - y0)
                try rows.readRows(n, into: &band)
                let gray = band.converted(to: .gray)
                resizer?.add(gray, rows: n, pool: pool)
                gray.withUnsafeBufferPointer { (src: UnsafePointer<UInt8>, stride: Int) -> Void in
                    whole?.withUnsafeMutableBufferPointer { (dst: UnsafeMutablePointer<UInt8>, dstStride: Int) -> Void in
                        for i in 0..<n { (dst + (y0 + i) * dstStride).update(from: src + i * stride, count: W) }
                    }
                }
            }
            guard let small = resizer?.result ?? whole else { preconditionFailure("one of the two is made") }
            return small
        }
    }
}
