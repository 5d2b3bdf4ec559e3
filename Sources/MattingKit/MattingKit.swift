// The umbrella module: `import MattingKit` brings in every public part of the library.
@_exported import MattingImage
@_exported import MattingEngine
@_exported import MattingImporters
@_exported import MattingRefine
