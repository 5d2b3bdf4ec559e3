import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scratch folders for tests, all under one folder per test process that is removed when the
/// process exits, so a test that stops early (a failed `#require`, a thrown error) still leaves
/// nothing behind in the system temporary folder.
public enum ScratchFolders {
    /// `<tmp>/mattingkit-tests-<pid>`, created on first use; its removal is registered then.
    public static let root: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mattingkit-tests-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ScratchFolders.root) }
        return url
    }()

    /// A new empty folder named `prefix-<UUID>` under ``root``.
    public static func make(_ prefix: String) throws -> URL {
        let url = root.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A path for a file named `prefix-<UUID><suffix>` under ``root`` (not created).
    public static func file(_ prefix: String, suffix: String = "") -> URL {
        root.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)")
    }
}
