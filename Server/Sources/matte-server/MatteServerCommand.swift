import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MatteServer
import MattingKit
import ServiceLifecycle

/// `matte-server`: MattingKit's web page and HTTP API (rembg's `/api/remove`, remove.bg's
/// `/v1.0/removebg`). Loads the model once, then serves until SIGTERM or SIGINT, which
/// finish the requests in flight and refuse new connections.
@main
struct MatteServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matte-server",
        abstract: "Serve MattingKit's page and HTTP API (rembg- and remove.bg-compatible).")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "TCP port (0: any free port; the chosen one is logged).")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require this key in X-Api-Key on every API call (default: $MATTE_SERVER_API_KEY, else none).")
    var apiKey: String?

    @Option(name: .customLong("max-upload-mb"), parsing: .unconditional, help: "Largest request body, in MiB.")
    var maxUploadMB = 50

    @Option(name: .customLong("max-megapixels"), parsing: .unconditional, help: "Largest photo, in millions of pixels (checked from its header).")
    var maxMegapixels = 50.0

    @Option(parsing: .unconditional, help: "Mattes computed at once (each with its own thread pool; they share the model).")
    var jobs = 1

    @Option(parsing: .unconditional, help: "Threads per job (default: the cores available divided by --jobs).")
    var threads: Int?

    @Option(name: .customLong("queue"), parsing: .unconditional, help: "Requests that may wait beyond the running ones; more get 429 with Retry-After.")
    var queue = 16

    @Option(name: .customLong("timeout"), parsing: .unconditional, help: "Seconds one request may take before it is cancelled (503).")
    var timeout = 120.0

    @Option(name: .customLong("strips-above"), parsing: .unconditional,
            help: "Uploads of more pixels than this are matted in strips from their bytes (bounded memory; default 16 MiP). One turned by its EXIF orientation spills its upright pixels to an unnamed file in $TMPDIR (3 bytes a pixel); interlaced, pre-enhanced and cropped ones spill their rows there too, to make them once.")
    var stripsAbove: Int = Matter.defaultStripThreshold

    /// Every value is checked here, before anything starts. An out-of-range value is one
    /// line and exit status 1, like the matting programs' (ArgumentParser reports errors other
    /// than `ValidationError` without the usage text).
    func validate() throws {
        guard (0...65535).contains(port) else { throw OptionFailure("--port must be 0…65535, got \(port)") }
        guard (1...ThreadPool.maximumThreadCount).contains(jobs) else {
            throw OptionFailure("--jobs must be 1…\(ThreadPool.maximumThreadCount), got \(jobs)")
        }
        if let threads, !(1...ThreadPool.maximumThreadCount).contains(threads) {
            throw OptionFailure("--threads must be 1…\(ThreadPool.maximumThreadCount), got \(threads)")
        }
        // The byte count is maxUploadMB << 20: bounded so that it cannot overflow.
        guard (1...Self.largestUploadMB).contains(maxUploadMB) else {
            throw OptionFailure("--max-upload-mb must be 1…\(Self.largestUploadMB), got \(maxUploadMB)")
        }
        // Photos larger than the decoders' own limit are refused by them anyway.
        let largestMegapixels = Double(DecodingOptions().maximumPixelCount) / 1_000_000
        guard maxMegapixels > 0, maxMegapixels <= largestMegapixels else {
            throw OptionFailure("--max-megapixels must be above 0 and at most \(largestMegapixels), got \(maxMegapixels)")
        }
        guard stripsAbove >= 0 else { throw OptionFailure("--strips-above must be at least 0, got \(stripsAbove)") }
        guard queue >= 0 else { throw OptionFailure("--queue must be at least 0, got \(queue)") }
        guard timeout > 0, timeout.isFinite else { throw OptionFailure("--timeout must be a positive number of seconds, got \(timeout)") }
        if let apiKey, apiKey.isEmpty { throw OptionFailure("--api-key must not be empty") }
    }

    /// The largest `--max-upload-mb`: 1 TiB.
    static let largestUploadMB = 1 << 20

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "matte-server")
        let key = apiKey ?? ProcessInfo.processInfo.environment["MATTE_SERVER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        var configured = MatteServerConfiguration(
            host: host, port: port, apiKey: key, maximumUploadBytes: maxUploadMB * 1024 * 1024,
            maximumPixels: Int(maxMegapixels * 1_000_000), jobs: jobs,
            threadsPerJob: threads ?? max(1, Matter.defaultThreadCount / jobs), queueLength: queue,
            requestTimeoutSeconds: timeout)
        configured.stripsAbove = stripsAbove
        let configuration = configured

        let segmenter: ModelSegmenter
        do {
            segmenter = try ModelSegmenter.defaultModel()
        } catch {
            FileHandle.standardError.write(Data("matte-server: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let service = MatteService(configuration: configuration, segmenter: segmenter)
        let app = Application(
            router: MatteServerRoutes.router(service: service, logger: logger),
            server: MatteServerRoutes.server,
            configuration: .init(address: .hostname(host, port: port), serverName: "matte-server"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                logger.info("listening on http://\(address) (jobs \(configuration.jobs), threads per job \(configuration.threadsPerJob), API key \(key == nil ? "off" : "on"))")
            },
            logger: logger)
        let services = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
        logger.info("stopped")
    }
}

/// A command-line value out of range.
struct OptionFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
