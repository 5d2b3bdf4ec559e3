import Foundation
import Testing
@testable import MattingImporters
import MattingTestSupport

/// The MediaPipe reference tensors (model input and raw output, from MediaPipe's own graph)
/// agree with the parsed models' signatures and with the documented preprocessing.
@Suite("MediaPipe fixtures")
struct MediaPipeFixtureTests {
    static let cases: [(stem: String, model: String)] = [
        ("astronaut_portrait", SelfieModels.portrait),
        ("synthetic_portrait", SelfieModels.portrait),
        ("astronaut_landscape", SelfieModels.landscape),
    ]

    @Test(arguments: cases.map(\.stem))
    func tensorsMatchTheModelSignature(_ stem: String) throws {
        let modelName = try #require(Self.cases.first { $0.stem == stem }?.model)
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(modelName), fileName: modelName)
        let g = model.subgraphs[0]
        let input = try NumpyFile(contentsOf: Fixtures.url("MediaPipe/\(stem)_input.npy"))
        let output = try NumpyFile(contentsOf: Fixtures.url("MediaPipe/\(stem)_output.npy"))
        #expect(input.shape == g.tensors[g.inputs[0]].shape.map(Int.init))
        #expect(output.shape == g.tensors[g.outputs[0]].shape.map(Int.init))

        // MediaPipe's input is an 8-bit level times Float(1)/Float(255) (not a division by 255).
        let scale = Float(1) / Float(255)
        let values = input.floats
        #expect(values.allSatisfy { v in
            let level = (v * 255).rounded()
            return level >= 0 && level <= 255 && level * scale == v
        })
        // The output is a sigmoid: in [0, 1].
        #expect(output.floats.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func astronautIsMostlyPerson() throws {
        // The photo is a portrait: about half of the mask is foreground in both variants.
        for stem in ["astronaut_portrait", "astronaut_landscape"] {
            let out = try NumpyFile(contentsOf: Fixtures.url("MediaPipe/\(stem)_output.npy")).floats
            let mean = out.reduce(0, +) / Float(out.count)
            #expect(mean > 0.4 && mean < 0.7, "\(stem): mean \(mean)")
        }
    }
}
