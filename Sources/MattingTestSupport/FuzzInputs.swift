import Foundation

/// The fuzzing campaign's committed inputs (Scripts/fuzz.sh, Fuzz/README.md), for the tests
/// that replay them under `swift test`.
public enum FuzzInputs {
    /// Paths of the files in Fuzz/`harness`/`folder` of this checkout (`corpus` seeds, or
    /// `regressions` that once crashed, hung or leaked), sorted by name; empty if none.
    public static func paths(_ harness: String, _ folder: String) -> [String] {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Fuzz/\(harness)/\(folder)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0).path }
    }
}
