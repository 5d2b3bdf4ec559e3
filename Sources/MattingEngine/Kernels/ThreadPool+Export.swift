// The engine's operators run on MattingThreads' `ThreadPool`; re-exported so that engine users
// who pass a pool (`compile(inputShapes:pool:)`) need only `import MattingEngine`.
@_exported import MattingThreads
