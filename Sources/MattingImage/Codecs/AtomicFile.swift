import Foundation

/// Writing files so that readers never see a partial one.
public enum AtomicFile {
    /// Writes `bytes` to `url` through a temporary file in the same folder, then renames it
    /// into place: the destination holds either its old contents or all of `bytes`, and on
    /// failure no temporary file is left behind.
    ///
    /// - Throws: ``ImageError/io(path:detail:)`` naming the destination.
    public static func write(_ bytes: [UInt8], to url: URL) throws(ImageError) {
        try FileIO.writeAtomically(bytes, to: url.path)
    }
}
