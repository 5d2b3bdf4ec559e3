import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

/// The fuzzing campaign's inputs (Scripts/fuzz.sh), replayed under `swift test`: every seed
/// and every input that once crashed, hung or leaked (Fuzz/<harness>/regressions) must decode
/// or fail with a typed error, through the same entry points the harnesses call. CI runs
/// these; it does not run the campaign.
@Suite("Fuzz corpora and regressions: PNG and JPEG")
struct FuzzRegressionTests {
    static func inputs(_ harness: String, _ folder: String) -> [String] { FuzzInputs.paths(harness, folder) }

    @Test("the committed seeds and regression inputs are there")
    func present() {
        #expect(Self.inputs("png", "corpus").count >= 5)
        #expect(Self.inputs("jpeg", "corpus").count >= 5)
        #expect(Self.inputs("png", "regressions").count >= 2)
    }

    @Test("every PNG seed and regression input decodes or fails with a typed error",
          arguments: inputs("png", "corpus") + inputs("png", "regressions"))
    func png(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.withUnsafeBytes { buffer in
            _ = try? PNGCodec.info(buffer, source: path)
            for keep16Bit in [false, true] {
                do {
                    _ = try PNGCodec.decode(buffer, source: path, options: DecodingOptions(maximumPixelCount: 1 << 22), keep16Bit: keep16Bit)
                    #expect(!path.contains("/regressions/"), "a damaged regression input decoded: \(path)")
                } catch let error as ImageError {
                    #expect(!error.description.isEmpty && !error.description.contains("\n"))
                } catch {
                    Issue.record("untyped error \(error)")
                }
            }
        }
    }

    @Test("every JPEG seed and regression input decodes or fails with a typed error",
          arguments: inputs("jpeg", "corpus") + inputs("jpeg", "regressions"))
    func jpeg(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.withUnsafeBytes { buffer in
            _ = try? JPEGCodec.info(buffer, source: path)
            for reduced in [nil, ReducedDecodeSize.longSide(atLeast: 16)] {
                _ = try? JPEGCodec.decode(buffer, source: path, options: DecodingOptions(maximumPixelCount: 1 << 22, reducedSize: reduced))
            }
        }
    }
}
