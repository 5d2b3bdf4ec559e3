import Foundation
import MattingTestSupport
import Testing
@testable import MattingImporters

#if canImport(Glibc)
import Glibc
#endif

/// Issue 15: a model path or an external data file that is a FIFO, directory or device is
/// refused by name before anything is opened (a FIFO would block the reader for ever).
@Suite("Model files that are not regular files")
struct NonRegularModelFileTests {
    static func folder() throws -> URL {
        try ScratchFolders.make("models")
    }

    @Test("a FIFO, a directory and /dev/zero as the model are .io errors that say what they are")
    func modelPath() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("m.onnx")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let cases: [(URL, String)] = [
            (fifo, "a FIFO (named pipe)"), (dir, "a directory"), (URL(fileURLWithPath: "/dev/zero"), "a character device"),
        ]
        for (url, kind) in cases {
            let error = try #require(throws: ModelImportError.self) { try Model(contentsOf: url) }
            #expect(error.kind == .io)
            #expect(error.file == url.lastPathComponent)
            #expect(error.message == "cannot read the file: it is \(kind), not a regular file", "\(error)")
        }
        #expect(throws: ModelImportError.self) { try ONNXModel(contentsOf: fifo) }
        #expect(throws: ModelImportError.self) { try TFLiteModel(contentsOf: fifo) }
    }

    @Test("external data that is a FIFO is refused, not waited for")
    func externalDataFIFO() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(mkfifo(dir.appendingPathComponent("w.bin").path, 0o600) == 0)
        let model = PB.model(initializers: [PB.externalTensor(name: "w", dims: [2, 3], location: "w.bin")])
        let error = try #require(throws: ModelImportError.self) {
            try ONNXModel(bytes: model, fileName: "m.onnx", externalDataDirectory: dir)
        }
        #expect(error.kind == .externalData)
        #expect(error.message.hasSuffix("tensor 'w': external data 'w.bin' is a FIFO (named pipe), not a regular file"), "\(error)")
    }
}
