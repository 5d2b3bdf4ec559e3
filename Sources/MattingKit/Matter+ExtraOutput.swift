import Foundation
import MattingImage
import MattingRefine

/// One more output of the strip path, made from the rows it sees rather than from a whole
/// ``MattingResult``: the preview sheet of `MattingFiles` (whose panels are built with
/// streaming resizers). The whole-picture path asks for the same bytes from the whole
/// photo and result, and the two must agree byte for byte.
///
/// The strip path calls ``begin(width:height:)`` once, then ``photoRows(_:count:)`` with the upright photo's rows as decoded
/// (before pre-enhance), top to bottom, each row once, during pass 1, on the row-prefetch
/// thread (one call at a time); then ``resultRows(colours:stride:alpha:alphaStride:count:pool:)``
/// with every strip of pass 2, top to bottom; then ``finish(pool:)`` once, before the outputs
/// are committed. The output is committed (or discarded) with the others, after them.
package protocol ExtraOutput: AnyObject, Sendable {
    /// The upright photo's size, before any row (strip path only).
    func begin(width: Int, height: Int)
    /// The next `count` rows of the upright photo: rows `0..<count` of `band`, in the file's
    /// layout (not converted).
    func photoRows(_ band: Image, count: Int)
    /// The next `count` rows of the result: the cut-out's colours (8-bit RGB, `stride`
    /// bytes apart; `result.foreground`'s rows) and the final 8-bit matte (`result.matte`'s).
    func resultRows(colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, alphaStride: Int, count: Int,
                    pool: ThreadPool) throws
    /// The output's bytes once every row has been given.
    func finish(pool: ThreadPool) throws -> [UInt8]
    /// The output's bytes on the whole-picture path: `photo` as decoded and its result.
    func encoded(photo: Image, result: MattingResult, pool: ThreadPool) throws -> [UInt8]
}

/// A row source that hands every batch it reads to a closure as well (the rows are those of
/// `source`, unchanged).
final class TappedRowSource: ImageRowSource {
    private let source: any ImageRowSource
    private let tap: (Image, Int) -> Void
    var path: String { source.path }
    var width: Int { source.width }
    var height: Int { source.height }
    var layout: PixelLayout { source.layout }

    init(_ source: any ImageRowSource, tap: @escaping (Image, Int) -> Void) {
        self.source = source
        self.tap = tap
    }

    func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        try source.readRows(count, into: &band)
        tap(band, count)
    }
}

extension Matter {
    /// The files of ``matte(fileAt:writing:options:studio:stripsAbove:progress:)`` (or, with
    /// `trimap`, of ``matte(fileAt:trimap:writing:options:stripsAbove:progress:)``), and
    /// `extra`'s bytes written to `extraFile`, after the others and with them (all or none).
    /// On the strip path `extra` is built from the rows; on the whole path from the whole
    /// photo and result (see ``ExtraOutput``).
    package func matte(
        fileAt input: URL, trimap: URL?, writing outputs: StreamedOutputs, extra: (file: URL, output: any ExtraOutput)?,
        options: MattingOptions, studio: StudioTrimap?, stripsAbove: Int, progress: (@Sendable (MattingProgress) -> Void)?
    ) async throws -> StreamedMatte {
        if studio == nil && trimap == nil && runner == nil { throw MattingError.noModel }
        func same(_ a: URL, _ b: URL) -> Bool {
            a.standardizedFileURL.resolvingSymlinksInPath().path == b.standardizedFileURL.resolvingSymlinksInPath().path
        }
        let files = outputs.files + [extra?.file].compactMap { $0 }
        for output in files where same(output, input) || trimap.map({ same(output, $0) }) == true {
            throw ImageError.io(path: output.path, detail: "is an input; refusing to overwrite it")
        }
        let kinds: [EncodedOutput] = [.cutout(outputs.format)] + (outputs.mask == nil ? [] : [.mask(.png)])
        let (matte, _) = try await matte(
            .file(input.path), writing: kinds, into: { index in try AtomicFileWriter(path: files[index].path) },
            options: options, studio: studio, trimap: trimap.map { .file($0.path) }, extra: extra?.output,
            stripsAbove: stripsAbove, progress: progress)
        return matte
    }
}
