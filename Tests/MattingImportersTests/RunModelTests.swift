import Foundation
import MattingTestSupport
import Testing

/// Runs the `run-model` example (built next to the test bundle by `swift build --build-tests`)
/// as a process: outputs, exit status and messages.
@Suite("run-model")
struct RunModelTests {
    static let onnx = Fixtures.url("ONNX")

    typealias Result = ProgramRunner.Run

    static func run(_ arguments: [String]) throws -> Result { try ProgramRunner.run("run-model", arguments) }

    static func temporaryDirectory() throws -> URL { try ProgramRunner.folder() }

    /// A failure is one `run-model: ` line on stderr, status 1, and no output file.
    static func expectCleanFailure(_ r: Result, mentions text: String, outputDirectory: URL) throws {
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("run-model: "), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(text), "\(r.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test(arguments: ["h32w32", "h48w40"])
    func reproducesDynamicUNet(_ caseName: String) throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Self.onnx.appendingPathComponent("unet_dynamic_opset17.onnx").path
        let input = Self.onnx.appendingPathComponent("unet_dynamic_opset17.\(caseName).image.npy").path
        let r = try Self.run([model, "--input", "image=\(input)", "--output-dir", dir.path, "--threads", "2",
                              "--repeat", "2", "--info"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(r.stdout.contains("input  image: float32[1, 3,"))
        #expect(r.stdout.contains("FLOPs:"))
        #expect(r.stdout.contains("latency: median"))
        let got = try NumpyFile(contentsOf: dir.appendingPathComponent("add_139.npy"))
        let want = try NumpyFile(contentsOf: Self.onnx.appendingPathComponent("unet_dynamic_opset17.\(caseName).add_139.npy"))
        #expect(got.dtype == "<f4")
        #expect(got.shape == want.shape)
        let scale = want.floats.map(abs).max() ?? 1
        let err = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? .infinity
        #expect(err <= 1e-4 * scale)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["add_139.npy"])
    }

    /// The TFLite selfie model through the same program (NHWC in and out): within the 2e-4
    /// absolute tolerance `TFLiteConversionTests` uses against MediaPipe.
    @Test func reproducesSelfieModel() throws {
        let model = SelfieModels.directory.appendingPathComponent(SelfieModels.portrait)
        _ = try SelfieModels.bytes(SelfieModels.portrait)  // records the fetch command if missing
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixtures = Fixtures.url("MediaPipe")
        let input = fixtures.appendingPathComponent("astronaut_portrait_input.npy").path
        let r = try Self.run([model.path, "--input", "input_1=\(input)", "--output-dir", dir.path, "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count == 1)
        let got = try NumpyFile(contentsOf: dir.appendingPathComponent(try #require(files.first)))
        let want = try NumpyFile(contentsOf: fixtures.appendingPathComponent("astronaut_portrait_output.npy"))
        #expect(got.count == want.count)
        let err = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? .infinity
        #expect(err <= 2e-4)
    }

    @Test func helpExitsZero() throws {
        let r = try Self.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: run-model <model>"))
    }

    @Test func missingModelFile() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["/nonexistent/model.onnx", "--input", "x=a.npy", "--output-dir", dir.path])
        try Self.expectCleanFailure(r, mentions: "/nonexistent/model.onnx", outputDirectory: dir)
    }

    @Test func missingInputFile() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Self.onnx.appendingPathComponent("unet_opset11.onnx").path
        let r = try Self.run([model, "--input", "input=/nonexistent/input.npy", "--output-dir", dir.path])
        try Self.expectCleanFailure(r, mentions: "/nonexistent/input.npy", outputDirectory: dir)
    }

    @Test func wrongDtype() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A float64 array of the right shape.
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 32, 32), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 3 * 32 * 32 * 8)
        let input = dir.appendingPathComponent("in.npy")
        try Data(bytes).write(to: input)
        let out = dir.appendingPathComponent("out")
        let model = Self.onnx.appendingPathComponent("unet_opset11.onnx").path
        let r = try Self.run([model, "--input", "input=\(input.path)", "--output-dir", out.path])
        try Self.expectCleanFailure(r, mentions: "'<f8'", outputDirectory: out)
    }

    @Test func unknownInputName() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Self.onnx.appendingPathComponent("unet_opset11.onnx").path
        let input = Self.onnx.appendingPathComponent("unet_opset11.base.input.npy").path
        let r = try Self.run([model, "--input", "imag=\(input)", "--output-dir", dir.path])
        try Self.expectCleanFailure(r, mentions: "unknown input 'imag'", outputDirectory: dir)
    }

    @Test func unsupportedOperatorIsOneLine() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Self.onnx.appendingPathComponent("resize_modes_opset17.onnx").path
        let input = Self.onnx.appendingPathComponent("resize_modes_opset17.base.x.npy").path
        let r = try Self.run([model, "--input", "x=\(input)", "--output-dir", dir.path])
        try Self.expectCleanFailure(r, mentions: "cubic", outputDirectory: dir)
    }
}
