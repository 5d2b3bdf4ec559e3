// swift-tools-version:6.1
//
// MattingKit's benchmarks, in a package of their own so that library users never resolve
// package-benchmark. Run from this folder:
//   swift package --allow-writing-to-package-directory benchmark
// or one group:  swift package --allow-writing-to-package-directory benchmark --filter 'Codec.*'
// See Docs/Benchmarks.md for what each figure means and the reference comparisons.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which is whatever the clone was
// called; read it instead of assuming "MattingKit".
let libraryFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "MattingBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(
            url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1",
            traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MattingBenchmarks",
            dependencies: [
                .product(name: "MattingKit", package: libraryFolder),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/MattingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        // Times MattingKit's codecs for Scripts/bench-codecs.py (interleaved with Pillow/OpenCV).
        .executableTarget(
            name: "codec-timer",
            dependencies: [.product(name: "MattingKit", package: libraryFolder)],
            path: "Tools/codec-timer"),
    ]
)
