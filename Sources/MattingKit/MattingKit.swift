// The umbrella module: `import MattingKit` brings in the pipeline and every layer under it
// (images and codecs, the engine and its model loader, the refine stages, the thread pool).
@_exported import MattingImage
@_exported import MattingEngine
@_exported import MattingImporters
@_exported import MattingRefine
@_exported import MattingThreads
