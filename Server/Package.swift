// swift-tools-version:6.1
//
// matte-server: MattingKit's web page and HTTP API (rembg- and remove.bg-compatible), in a
// package of its own so that library users never resolve Hummingbird, NIO and the rest.
// Run from the repository's root:
//   swift run --package-path Server -c release matte-server --port 8080
// Test:  swift test --package-path Server
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which is whatever the clone was
// called; read it instead of assuming "MattingKit".
let libraryFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "MatteServer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "matte-server", targets: ["matte-server"]),
        .library(name: "MatteServer", targets: ["MatteServer"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Routes, limits, the page and the API's parameter parsing; what the tests drive.
        .target(
            name: "MatteServer",
            dependencies: [
                .product(name: "MattingKit", package: libraryFolder),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The page and the OpenAPI document are compiled into the program: nothing is read
            // from the file system at run time.
            resources: [.embedInCode("Resources/index.html"), .embedInCode("Resources/openapi.yaml")]),
        // The program: arguments, model loading, signals; nothing else.
        .executableTarget(
            name: "matte-server",
            dependencies: [
                "MatteServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "MatteServerTests",
            dependencies: [
                "MatteServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
