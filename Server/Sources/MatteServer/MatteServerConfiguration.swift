import MattingKit

/// Everything `matte-server` can be told at start.
public struct MatteServerConfiguration: Sendable {
    /// The address to listen on (default `127.0.0.1`: this machine only).
    public var host: String
    /// The TCP port (default 8080; 0 picks a free one).
    public var port: Int
    /// When set, every API call needs it in `X-Api-Key` (compared in constant time). The
    /// page, `/health` and `/openapi.yaml` stay open.
    public var apiKey: String?
    /// The largest request body in bytes; larger uploads get 413 as soon as the limit is
    /// passed (or at once, from `Content-Length`).
    public var maximumUploadBytes: Int
    /// The largest photo in pixels (`width × height` from its header, checked before
    /// decoding); larger photos get 413 `resolution_too_high`.
    public var maximumPixels: Int
    /// Mattes computed at once, each on its own pipeline (≥ 1).
    public var jobs: Int
    /// Threads of each pipeline (≥ 1).
    public var threadsPerJob: Int
    /// Requests that may wait for a pipeline beyond the `jobs` running; more get 429 with
    /// `Retry-After`.
    public var queueLength: Int
    /// The longest one request may take from admission to its answer, in seconds; after it
    /// the matte is cancelled and the client gets 503 `timeout`.
    public var requestTimeoutSeconds: Double
    /// Uploads of more pixels than this are matted in strips from their bytes
    /// (`Matter.matte(encoded:…)`): the full-size photo, matte and cut-out are never held, only
    /// the encoded upload and answer. An upload turned or flipped by its EXIF orientation has
    /// its upright pixels spilled to an anonymous temporary file in `TMPDIR` (about 3 bytes a
    /// pixel, no name on disk); a request whose spill fails gets 500 `spill_failed`. An
    /// interlaced PNG's or pre-enhanced rows, and a crop's matte and colours (4 bytes a pixel),
    /// are spilled the same way so that they are made once; if that spill fails they are made
    /// again instead (the same answer, more time). Default
    /// `Matter.defaultStripThreshold` (16 MiP); 0 for every upload not reduced by `size`.
    public var stripsAbove: Int = Matter.defaultStripThreshold

    /// A configuration with the program's defaults.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil,
        maximumUploadBytes: Int = 50 * 1024 * 1024, maximumPixels: Int = 50_000_000,
        jobs: Int = 1, threadsPerJob: Int = 1, queueLength: Int = 16, requestTimeoutSeconds: Double = 120
    ) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maximumUploadBytes = maximumUploadBytes
        self.maximumPixels = maximumPixels
        self.jobs = jobs
        self.threadsPerJob = threadsPerJob
        self.queueLength = queueLength
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }
}
