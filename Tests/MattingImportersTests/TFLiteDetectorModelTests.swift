import Foundation
import MattingEngine
import Testing
@testable import MattingImporters
import MattingTestSupport

/// MediaPipe's pose and face detectors (fetched by `Scripts/fetch-models.sh`) against their own
/// runtime: LiteRT's raw outputs on the astronaut photo (`Scripts/make-detector-fixtures.py`).
/// Two of them keep most weights sparse behind DENSIFY, and use DEPTH_TO_SPACE.
@Suite("TFLite detector models vs LiteRT")
struct TFLiteDetectorModelTests {
    static let cases: [(model: String, size: Int, sparseTensors: Int, outputs: [String])] = [
        ("pose_detection", 224, 38, ["Identity", "Identity_1"]),
        ("face_detection_short_range", 128, 0, ["regressors", "classificators"]),
        ("face_detection_full_range_sparse", 192, 46, ["Identity", "Identity_1"]),
    ]

    @Test(arguments: cases.map(\.model), [1, 2])
    func matchesLiteRT(_ name: String, threads: Int) throws {
        let entry = try #require(Self.cases.first { $0.model == name })
        let model = try TFLiteModel(bytes: try SelfieModels.bytes(name + ".tflite"), fileName: name + ".tflite")
        #expect(model.subgraphs[0].tensors.count { $0.sparsity != nil } == entry.sparseTensors)
        let graph = try model.makeGraph()
        let image = try NumpyFile(contentsOf: Fixtures.url("Detectors/\(name).image.npy"))
        #expect(image.shape == [entry.size, entry.size, 3])
        // MediaPipe's detectors take [-1, 1]: level / 127.5 - 1, in float32 as the script does.
        let input = try #require(image.ints).map { Float($0) / 127.5 - 1 }
        let inputName = try #require(graph.inputs.first?.name)
        let compiled = try graph.compile(inputShapes: [inputName: [1, entry.size, entry.size, 3]], threads: threads)
        let outputs = try compiled.makeSession().run([inputName: Tensor(shape: [1, entry.size, entry.size, 3], floats: input)])
        for outputName in entry.outputs {
            let expected = try NumpyFile(contentsOf: Fixtures.url("Detectors/\(name).\(outputName).npy"))
            let ours = try #require(outputs[outputName], "no output \(outputName): \(outputs.keys.sorted())")
            #expect(ours.shape == expected.shape)
            let theirs = expected.floats
            let scale = theirs.map(\.magnitude).max() ?? 0
            let worst = zip(ours.floats, theirs).map { abs($0 - $1) }.max() ?? .infinity
            // Float32 sums in another order over values up to a few hundred: a few 1e-4 at most.
            #expect(worst <= 1e-4 + 1e-5 * scale, "\(name).\(outputName), \(threads) thread(s): max |Δ| \(worst), max |ref| \(scale)")
        }
    }
}

/// Sparse constants expanded to dense, against tensors encoded here from known dense values.
@Suite("TFLite sparse tensors")
struct TFLiteSparsityTests {
    /// A dense array with about two thirds zeros.
    static func sparseValues(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int.random(in: 0..<3, using: &rng) == 0 ? Float.random(in: -2...2, using: &rng) : 0 }
    }

    /// Row-major [rows, columns] encoded with the rows dense and the columns compressed (CSR),
    /// or with traversal order [1, 0] (columns dense, rows compressed: CSC).
    static func compressed(_ dense: [Float], rows: Int, columns: Int, columnMajor: Bool)
        -> (levels: [TFLiteSparsity.Level], stored: [Float]) {
        let (outer, inner) = columnMajor ? (columns, rows) : (rows, columns)
        var segments = [0], indices: [Int] = [], stored: [Float] = []
        for o in 0..<outer {
            for i in 0..<inner {
                let value = columnMajor ? dense[i * columns + o] : dense[o * columns + i]
                if value != 0 { indices.append(i); stored.append(value) }
            }
            segments.append(indices.count)
        }
        return ([.dense(size: outer), .compressed(segments: segments, indices: indices)], stored)
    }

    @Test(arguments: [false, true])
    func compressedLevelsExpandToTheDenseTensor(columnMajor: Bool) throws {
        let rows = 7, columns = 11
        let dense = Self.sparseValues(rows * columns, seed: columnMajor ? 2 : 1)
        let (levels, stored) = Self.compressed(dense, rows: rows, columns: columns, columnMajor: columnMajor)
        let sparsity = try TFLiteSparsity(traversalOrder: columnMajor ? [1, 0] : [0, 1], blockMap: [], levels: levels, shape: [rows, columns])
        #expect(sparsity.storedCount == stored.count && stored.count < dense.count)
        #expect(sparsity.expanded(stored, shape: [rows, columns], zero: 0) == dense)
    }

    /// The models' layout: [O, 1, 1, I] with three dense levels and a CSR last level.
    @Test func convolutionWeightsLayout() throws {
        let o = 6, i = 9
        let dense = Self.sparseValues(o * i, seed: 3)
        let (levels, stored) = Self.compressed(dense, rows: o, columns: i, columnMajor: false)
        let sparsity = try TFLiteSparsity(traversalOrder: [0, 1, 2, 3], blockMap: [],
                                          levels: [levels[0], .dense(size: 1), .dense(size: 1), levels[1]], shape: [o, 1, 1, i])
        #expect(sparsity.expanded(stored, shape: [o, 1, 1, i], zero: 0) == dense)
    }

    /// Block sparsity: [4, 6] with dimension 1 in blocks of 2, whole blocks stored or not.
    @Test func blocksExpandToTheDenseTensor() throws {
        let rows = 4, columns = 6, block = 2
        var dense = [Float](repeating: 0, count: rows * columns)
        var segments = [0], indices: [Int] = [], stored: [Float] = []
        var rng = SeededGenerator(seed: 4)
        for r in 0..<rows {
            for b in 0..<(columns / block) where Bool.random(using: &rng) {
                indices.append(b)
                for k in 0..<block {
                    let value = Float.random(in: 1...2, using: &rng)
                    dense[r * columns + b * block + k] = value
                    stored.append(value)
                }
            }
            segments.append(indices.count)
        }
        let sparsity = try TFLiteSparsity(
            traversalOrder: [0, 1, 2], blockMap: [1],
            levels: [.dense(size: rows), .compressed(segments: segments, indices: indices), .dense(size: block)],
            shape: [rows, columns])
        #expect(sparsity.storedCount == stored.count)
        #expect(sparsity.expanded(stored, shape: [rows, columns], zero: 0) == dense)
    }

    @Test func malformedParametersAreRejected() {
        let csr: TFLiteSparsity.Level = .compressed(segments: [0, 1, 2], indices: [0, 1])
        let bad: [(String, () throws -> TFLiteSparsity)] = [
            ("order not a permutation", { try TFLiteSparsity(traversalOrder: [0, 0], blockMap: [], levels: [.dense(size: 2), csr], shape: [2, 3]) }),
            ("level count", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 2)], shape: [2, 3]) }),
            ("dense size", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 3), csr], shape: [2, 3]) }),
            ("index out of range", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 2), .compressed(segments: [0, 1, 2], indices: [0, 3])], shape: [2, 3]) }),
            ("segments decrease", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 2), .compressed(segments: [0, 2, 1], indices: [0, 1])], shape: [2, 3]) }),
            ("segment count", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 2), .compressed(segments: [0, 2], indices: [0, 1])], shape: [2, 3]) }),
            ("last segment", { try TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], levels: [.dense(size: 2), .compressed(segments: [0, 1, 1], indices: [0, 1])], shape: [2, 3]) }),
            ("block map", { try TFLiteSparsity(traversalOrder: [0, 1, 2], blockMap: [2], levels: [.dense(size: 2), csr, .dense(size: 1)], shape: [2, 3]) }),
            ("block size", { try TFLiteSparsity(traversalOrder: [0, 1, 2], blockMap: [1], levels: [.dense(size: 2), csr, .dense(size: 2)], shape: [2, 3]) }),
        ]
        for (what, make) in bad {
            #expect(throws: FormatViolation.self, "\(what)") { _ = try make() }
        }
    }
}
