import Foundation
import Testing
@testable import MattingImporters
import MattingEngine

/// Where the fetched selfie models live: the same rule as `Scripts/fetch-models.sh`.
enum SelfieModels {
    static let portrait = "selfie_segmentation.tflite"
    static let landscape = "selfie_segmentation_landscape.tflite"

    static var directory: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["MATTINGKIT_MODEL_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentDirectory.appendingPathComponent(".cache").path
        return URL(fileURLWithPath: cache).appendingPathComponent("mattingkit/models")
    }

    /// The model's bytes; a missing model is a test failure (never a silent skip).
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing \(url.path): run `Scripts/fetch-models.sh` (or set MATTINGKIT_MODEL_DIR) first")
            throw MissingModel()
        }
        return [UInt8](data)
    }

    struct MissingModel: Error {}
}

extension FileManager {
    var homeDirectoryForCurrentDirectory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())
    }
}

/// The test target's copied `Fixtures` folder.
enum Fixtures {
    static var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }

    static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }
}

/// Runs `body` and checks that it either succeeds or throws ``ModelImportError``.
///
/// Anything else thrown is a failure; a crash would kill the test process, which is visible.
func expectParsesOrThrowsTyped(_ what: @autoclosure () -> String, _ body: () throws -> Void) {
    do {
        try body()
    } catch is ModelImportError {
    } catch {
        Issue.record("\(what()): threw \(type(of: error)) (\(error)), not ModelImportError")
    }
}

/// How many seeded mutations each fuzz loop runs: 300 by default, more with
/// `MATTINGKIT_FUZZ_ITERATIONS=20000 swift test --filter MattingImportersTests` for a longer hunt
/// (the seed stays fixed, so any failure replays).
let fuzzIterations: Int = {
    let value = ProcessInfo.processInfo.environment["MATTINGKIT_FUZZ_ITERATIONS"].flatMap { Int($0) }
    return max(1, value ?? 300)
}()

/// Our output against a reference runtime's: the same shape, and max |got − want| at most
/// `tolerance` × max |want|. Returns the reference's values (nil on a shape mismatch) for
/// further checks.
@discardableResult
func expectMatchesReference(
    _ got: Tensor, _ want: Tensor, tolerance: Float, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) -> [Float]? {
    #expect(got.shape == want.shape, "\(label)", sourceLocation: sourceLocation)
    guard got.shape == want.shape else { return nil }
    let (g, w) = (got.floats, want.floats)
    let scale = max(w.map(abs).max() ?? 0, 1e-6)
    let err = zip(g, w).map { abs($0 - $1) }.max() ?? 0
    #expect(err <= tolerance * scale, "\(label): max error \(err), scale \(scale)", sourceLocation: sourceLocation)
    return w
}
