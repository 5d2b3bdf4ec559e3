// codec-timer: times MattingKit's codecs on the codec benchmark's files, for
// Scripts/bench-codecs.py, which interleaves it with Pillow and OpenCV so that a shared,
// noisy machine slows every library alike. Build: swift build -c release --product codec-timer
//
//   codec-timer FOLDER RUNS   → one line per operation: "<operation> <seconds> <seconds> …"
//
// FOLDER holds photo-q95.jpg and photo-rgba.png (written by the Codec benchmarks).
// Decodes are from memory, encodes to memory, with the benchmark's settings.
import Foundation
import MattingKit

let arguments = CommandLine.arguments
guard arguments.count == 3, let runs = Int(arguments[2]), runs > 0 else {
    FileHandle.standardError.write(Data("usage: codec-timer FOLDER RUNS\n".utf8))
    exit(2)
}
let folder = arguments[1]

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func measure(_ name: String, _ body: () throws -> Void) throws {
    try body()  // warm-up
    var times = [Double]()
    for _ in 0..<runs { times.append(try seconds(body)) }
    print(name, times.map { String($0) }.joined(separator: " "))
}

do {
    let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/photo-q95.jpg")))
    let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/photo-rgba.png")))
    let rgba = try Image(decoding: png)
    let rgb = rgba.converted(to: .rgb)
    try measure("decode-jpeg-q95") { _ = try Image(decoding: jpeg) }
    try measure("encode-jpeg-q95") { _ = try rgb.encoded(as: .jpeg, options: .init(jpegQuality: 95)) }
    try measure("decode-png-rgba") { _ = try Image(decoding: png) }
    try measure("encode-png-rgba") { _ = try rgba.encoded(as: .png) }
} catch {
    FileHandle.standardError.write(Data("codec-timer: \(error)\n".utf8))
    exit(1)
}
