// swift-tools-version:6.0
//
// MattingKit: image matting on the CPU, with its own inference engine.
//
// Layers (one way only; see Docs/Architecture.md):
//   CMattingKernels <- MattingThreads (the one thread pool every stage runs on)
//   MattingThreads <- MattingEngine <- MattingImporters
//   CLibPNG, CLibJPEG <- CPNG, CJPEG <- MattingImage <- MattingRefine
//   MattingThreads <- MattingImage, MattingRefine
//   CMattingKernels  <- MattingRefine (the closed-form Laplacian's per-ISA tile kernel)
//   everything <- MattingKit (umbrella product: Matter, options, results, segmenter, errors)
//   MattingKit <- MattingFiles (batches, jobs, output files, previews: the programs' module)
import PackageDescription

let package = Package(
    name: "MattingKit",
    // Synchronization's Mutex and Atomic (the thread pool's jobs, the batch runner) need macOS 15.
    platforms: [.macOS(.v15)],
    products: [
        // The pipeline with every layer re-exported: what most users import.
        .library(name: "MattingKit", targets: ["MattingKit"]),
        // Each layer on its own, for users who need one: pictures and codecs, the inference
        // engine and its model loader, the refine stages, the thread pool.
        .library(name: "MattingImage", targets: ["MattingImage"]),
        .library(name: "MattingEngine", targets: ["MattingEngine", "MattingImporters"]),
        .library(name: "MattingRefine", targets: ["MattingRefine"]),
        .library(name: "MattingThreads", targets: ["MattingThreads"]),
        // Files in, files out: batches, one photo's job, safe output writing, preview sheets.
        .library(name: "MattingFiles", targets: ["MattingFiles"]),
        .executable(name: "convert-image", targets: ["convert-image"]),
        .executable(name: "run-model", targets: ["run-model"]),
        .executable(name: "matte", targets: ["matte"]),
        .executable(name: "matte-batch", targets: ["matte-batch"]),
        .executable(name: "enhance", targets: ["enhance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (DocC); a build-time plugin only, never linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found with pkg-config (Debian: libpng-dev, libjpeg-dev).
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng16",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),

        // Thin C shims that own setjmp/longjmp error handling; not public API.
        // CPNG's threaded encoder calls zlib (libpng's own dependency) directly.
        .target(name: "CPNG", dependencies: ["CLibPNG"], linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CJPEG", dependencies: ["CLibJPEG"]),

        // Per-ISA C microkernels and CPU feature detection; not public API.
        .target(name: "CMattingKernels"),

        // The one thread pool every stage runs on, with cancellation and progress for jobs.
        .target(name: "MattingThreads", dependencies: ["CMattingKernels"]),

        .target(name: "MattingImage", dependencies: ["CPNG", "CJPEG", "MattingThreads"]),
        .target(name: "MattingEngine", dependencies: ["CMattingKernels", "MattingThreads"]),
        .target(name: "MattingImporters", dependencies: ["MattingEngine"]),
        .target(name: "MattingRefine", dependencies: ["MattingImage", "CMattingKernels", "MattingThreads"]),
        .target(
            name: "MattingKit",
            dependencies: ["MattingThreads", "MattingImage", "MattingEngine", "MattingImporters", "MattingRefine"]),

        // Files in, files out: batches, one photo's job, safe output writing, preview sheets;
        // what the programs (and the server) share.
        .target(name: "MattingFiles", dependencies: ["MattingKit"]),

        // Reference implementations, fixtures and seeded RNG for tests; never shipped.
        .target(
            name: "MattingTestSupport",
            dependencies: ["MattingImage", "MattingEngine"],
            path: "Sources/MattingTestSupport"),

        .executableTarget(
            name: "convert-image",
            dependencies: [
                "MattingKit", "MatteCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/convert-image"),
        .executableTarget(
            name: "run-model",
            dependencies: [
                "MattingKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/run-model"),
        // The allocator's own count of bytes in use, for `--timings`; not a product.
        .target(name: "CProcessStats", path: "Examples/CProcessStats"),
        // The options and failure messages the matting programs share; not a product.
        .target(
            name: "MatteCommandLine",
            dependencies: [
                "MattingKit", "MattingFiles", "CProcessStats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/MatteCommandLine"),
        .executableTarget(
            name: "matte",
            dependencies: [
                "MattingKit", "MattingFiles", "MatteCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/matte"),
        .executableTarget(
            name: "matte-batch",
            dependencies: [
                "MattingKit", "MattingFiles", "MatteCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/matte-batch"),
        .executableTarget(
            name: "enhance",
            dependencies: [
                "MattingKit", "MattingFiles", "MatteCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/enhance"),

        // Times the engine's kernels for Scripts/bench-gemm.py; not a product.
        .executableTarget(
            name: "kernel-bench", dependencies: ["MattingEngine"], path: "Examples/kernel-bench"),

        // Measures the refine stage on the files Scripts/bench-refine.py writes; not a product.
        .executableTarget(
            name: "refine-bench",
            dependencies: ["MattingRefine", "MattingThreads", "MattingTestSupport"],
            path: "Examples/refine-bench"),

        .testTarget(
            name: "MattingImageTests",
            dependencies: ["MattingImage", "MattingTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MattingEngineTests",
            dependencies: ["MattingEngine", "MattingTestSupport"]),
        .testTarget(
            name: "MattingImportersTests",
            dependencies: ["MattingImporters", "MattingTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MattingRefineTests",
            dependencies: ["MattingRefine", "MattingThreads", "MattingTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MattingKitTests",
            dependencies: ["MattingKit", "MattingFiles", "MattingTestSupport"],
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
