import Foundation
import MattingEngine
import MattingImage
import MattingImporters

/// A segmenter around any single-image model file (ONNX or TFLite) the engine can run:
/// MODNet, U²-Net / U²-Netp, IS-Net, BSHM exports, or your own.
///
/// The default model, MediaPipe Selfie Segmentation, is one configuration of it
/// (``Configuration/selfie``, ``ModelSegmenter/defaultModel()``).
///
/// The model is loaded and checked against its ``Configuration`` once. A ``Matter`` compiles
/// it for its own thread pool, for each network input size on first use (up to
/// ``Configuration/maximumCachedSizes`` sizes), and reuses the compiled graphs and their
/// engine sessions from call to call, so models with free height and width run at the size
/// the policy picks for each photo's aspect ratio with no allocation in the network once warm.
///
/// ```swift
/// let segmenter = try ModelSegmenter(contentsOf: URL(fileURLWithPath: "modnet.onnx"), configuration: .modnet)
/// let matter = Matter(segmenter: segmenter, pool: ThreadPool(threadCount: 2))
/// let result = try await matter.matte(try Image(contentsOf: photoURL), options: MattingOptions())
/// ```
///
/// `ModelSegmenter` is a `Sendable` value: share one between several ``Matter``s (a server
/// with several jobs at once) and the model is parsed once.
public struct ModelSegmenter: Sendable {
    /// The pre- and post-processing in force.
    public let configuration: Configuration
    /// The model file's name, used in error messages.
    public let fileName: String
    /// The model's format (sniffed from the file's bytes).
    public let format: ModelFormat
    /// The tensor the photo is fed to.
    public let inputName: String
    /// The output the alpha is read from.
    public let outputName: String
    /// The input size the model file fixes, if it declares static height and width.
    public let declaredSize: Size?
    let graph: Graph

    /// A second model for wide photos: used instead of this one for a photo at least
    /// ``wideAspectRatio`` times as wide as it is tall; nil (the default) runs this model on
    /// every photo.
    ///
    /// ``defaultModel()`` puts MediaPipe's landscape selfie model here
    /// (``Configuration/selfieLandscape``, a 256×144 input): the square model squeezes a wide
    /// photo into 256×256 and loses people in it, the landscape one sees a 16:9 photo undistorted
    /// (figures in Docs/Quality.md, "The landscape model for wide photos").
    public var wideVariant: ModelSegmenter? {
        get { wideStorage?.segmenter }
        set { wideStorage = newValue.map(WideVariant.init) }
    }
    private var wideStorage: WideVariant?

    /// Width ÷ height from which ``wideVariant`` is used (default 1.6, 16:10: between 3:2, where
    /// the square selfie model is the better one on the development set, and the cut-out's own
    /// 1.62 and 5:3, where the landscape one is better on most items; Docs/Quality.md).
    public var wideAspectRatio = 1.6

    /// The segmenter that handles a photo of this size: ``wideVariant`` for a wide photo,
    /// otherwise this one.
    public func segmenter(forWidth width: Int, height: Int) -> ModelSegmenter {
        usesWideVariant(width: width, height: height) ? wideVariant ?? self : self
    }

    /// Whether a photo of this size goes to ``wideVariant``.
    func usesWideVariant(width: Int, height: Int) -> Bool {
        wideStorage != nil && Double(width) >= wideAspectRatio * Double(height)
    }

    /// Boxes ``wideVariant`` (a struct cannot hold itself).
    private final class WideVariant: Sendable {
        let segmenter: ModelSegmenter
        init(_ segmenter: ModelSegmenter) { self.segmenter = segmenter }
    }

    /// A network input size in pixels.
    public struct Size: Sendable, Hashable, CustomStringConvertible {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) { self.width = width; self.height = height }
        public var description: String { "\(width)×\(height)" }
    }

    /// A segmenter around a model already loaded from `url`.
    init(model: Model, url: URL, configuration: Configuration) throws {
        // Model lists outputs by name; an index selector needs the file's declaration order
        // (read again from the file, parsing only: no graph conversion).
        var declaredOrder = model.outputs.map(\.name)
        if case .index = configuration.output, model.outputs.count > 1 {
            declaredOrder = try Self.declaredOutputOrder(of: url, format: model.format)
        }
        try self.init(model: model, fileName: url.lastPathComponent, declaredOutputOrder: declaredOrder,
                      configuration: configuration)
    }

    init(model: Model, fileName: String, declaredOutputOrder: [String], configuration: Configuration) throws {
        func incompatible(_ reason: String) -> MattingError { .incompatibleModel(file: fileName, reason: reason) }
        let layout = configuration.layout
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw incompatible("has \(model.inputs.count) inputs (\(model.inputs.map(\.name).joined(separator: ", "))); "
                + "a segmenter feeds exactly one image tensor")
        }
        guard input.dataType == .float32 else {
            throw incompatible("input '\(input.name)' is \(input.dataType), not float32")
        }
        guard input.shape.count == layout.rank else {
            throw incompatible("input '\(input.name)' has rank \(input.shape.count) \(Self.format(input.shape)); "
                + "the configuration's layout \(layout) needs rank \(layout.rank)")
        }
        let (batchAxis, channelAxis, heightAxis, widthAxis): (Int?, Int, Int, Int) =
            switch layout {
            case .nchw: (0, 1, 2, 3)
            case .nhwc: (0, 3, 1, 2)
            case .hwc: (nil, 2, 0, 1)
            }
        if let channels = input.shape[channelAxis], channels != 3 {
            throw incompatible("input '\(input.name)' \(Self.format(input.shape)) has \(channels) channels on axis "
                + "\(channelAxis) (layout \(layout)); 3 are needed")
        }
        if let batchAxis, let batch = input.shape[batchAxis], batch != 1 {
            throw incompatible("input '\(input.name)' \(Self.format(input.shape)) has batch size \(batch); 1 is needed")
        }
        var declaredSize: Size?
        if let h = input.shape[heightAxis], let w = input.shape[widthAxis] {
            declaredSize = Size(width: w, height: h)
            if case let .fixed(fw, fh) = configuration.inputSize, fw != w || fh != h {
                throw incompatible("input '\(input.name)' is fixed at \(w)×\(h) but the configuration asks for \(fw)×\(fh)")
            }
        } else if input.shape[heightAxis] != nil || input.shape[widthAxis] != nil {
            throw incompatible("input '\(input.name)' \(Self.format(input.shape)) fixes only one of height and width")
        }

        let available = model.outputs.map(\.name)
        let outputName: String
        switch configuration.output {
        case let .name(name):
            guard available.contains(name) else {
                throw incompatible("has no output '\(name)' (outputs: \(available.joined(separator: ", ")))")
            }
            outputName = name
        case let .index(index):
            guard declaredOutputOrder.indices.contains(index) else {
                throw incompatible("has \(declaredOutputOrder.count) outputs (\(declaredOutputOrder.joined(separator: ", "))); "
                    + "output index \(index) does not exist")
            }
            outputName = declaredOutputOrder[index]
        }
        if let port = model.outputs.first(where: { $0.name == outputName }), !port.shape.isEmpty {
            guard (2...4).contains(port.shape.count) else {
                throw incompatible("output '\(outputName)' has rank \(port.shape.count) \(Self.format(port.shape)); "
                    + "an alpha needs rank 2 (H×W), 3 or 4")
            }
            let channelAxis = Self.outputAxes(rank: port.shape.count, channelsFirst: layout.channelsFirst).channel
            let channels = channelAxis.flatMap { port.shape[$0] } ?? (channelAxis == nil ? 1 : nil)
            if let channels, configuration.outputChannel >= channels || configuration.outputChannel < 0 {
                throw incompatible("output '\(outputName)' \(Self.format(port.shape)) has \(channels) channel(s); "
                    + "channel \(configuration.outputChannel) was asked for")
            }
        }
        guard let value = model.graph.outputs[outputName] else {
            throw incompatible("has no output '\(outputName)' in its graph")
        }
        // Only the chosen output is computed: the compiler drops nodes that feed nothing else
        // (U²-Net's six side outputs, for instance).
        var graph = model.graph
        graph.outputs = [outputName: value]

        self.configuration = configuration
        self.fileName = fileName
        self.format = model.format
        self.inputName = input.name
        self.outputName = outputName
        self.declaredSize = declaredSize
        self.graph = graph
    }

    /// The network input size for a photo of `width × height`: the model's declared size if it
    /// has one, else the configuration's policy.
    public func networkSize(forWidth width: Int, height: Int) -> Size {
        if let declaredSize { return declaredSize }
        let size = configuration.inputSize.size(forWidth: width, height: height)
        return Size(width: size.width, height: size.height)
    }

    /// Where the photo lies inside the network input: the whole input, unless a fixed size
    /// with ``Configuration/keepsAspectRatio`` letterboxes it.
    func contentRect(photoWidth: Int, photoHeight: Int, network: Size) -> ImageRect {
        guard configuration.keepsAspectRatio, case .fixed = configuration.inputSize else {
            return ImageRect(x: 0, y: 0, width: network.width, height: network.height)
        }
        let scale = min(Double(network.width) / Double(photoWidth), Double(network.height) / Double(photoHeight))
        let w = min(network.width, max(1, Int((Double(photoWidth) * scale).rounded())))
        let h = min(network.height, max(1, Int((Double(photoHeight) * scale).rounded())))
        return ImageRect(x: (network.width - w) / 2, y: (network.height - h) / 2, width: w, height: h)
    }

    /// The photo as the network sees it: RGB, resized (and letterboxed) to the network size.
    public func networkImage(for image: Image, pool: ThreadPool = .serial) -> Image {
        let rgb = image.converted(to: .rgb)
        let size = networkSize(forWidth: rgb.width, height: rgb.height)
        let content = contentRect(photoWidth: rgb.width, photoHeight: rgb.height, network: size)
        let resized = rgb.resized(width: content.width, height: content.height, filter: configuration.resamplingFilter, pool: pool)
        if content.width == size.width && content.height == size.height { return resized }
        var canvas = Image(width: size.width, height: size.height, layout: .rgb)
        resized.withUnsafeBufferPointer { src, srcStride in
            canvas.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<content.height {
                    (dst + (content.y + y) * dstStride + content.x * 3)
                        .update(from: src + y * srcStride, count: content.width * 3)
                }
            }
        }
        return canvas
    }

    /// The input tensor for an image already at the network size (see ``networkImage(for:pool:)``),
    /// normalised and laid out as the configuration says.
    public func inputTensor(forNetworkImage image: Image) -> Tensor {
        let rgb = image.converted(to: .rgb)
        let width = rgb.width, height = rgb.height, plane = width * height
        let tables = lookupTables(for: rgb)
        let order = configuration.channelOrder == .rgb ? [0, 1, 2] : [2, 1, 0]
        var values = [Float](repeating: 0, count: plane * 3)
        let channelsFirst = configuration.layout.channelsFirst
        rgb.withUnsafeBufferPointer { src, stride in
            values.withUnsafeMutableBufferPointer { out in
                for c in 0..<3 {
                    let source = order[c]
                    tables[c].withUnsafeBufferPointer { table in
                        for y in 0..<height {
                            let row = src + y * stride
                            for x in 0..<width {
                                let v = table[Int(row[x * 3 + source])]
                                if channelsFirst { out[c * plane + y * width + x] = v } else { out[(y * width + x) * 3 + c] = v }
                            }
                        }
                    }
                }
            }
        }
        let shape: [Int] = switch configuration.layout {
        case .nchw: [1, 3, height, width]
        case .nhwc: [1, height, width, 3]
        case .hwc: [height, width, 3]
        }
        return Tensor(shape: shape, floats: values)
    }

    /// Tensor value of each 8-bit level, per tensor channel, computed in double and rounded
    /// once (as the reference scripts do in numpy's float64 before `astype(float32)`).
    func lookupTables(for image: Image) -> [[Float]] {
        let n = configuration.normalization
        let scale: Double
        switch n.scale {
        case let .constant(s): scale = s
        case .imageMaximum:
            var largest: UInt8 = 0
            image.withUnsafeBufferPointer { p, stride in
                for y in 0..<image.height { for i in 0..<image.rowLength { largest = max(largest, p[y * stride + i]) } }
            }
            scale = 1 / Double(max(largest, 1))
        }
        return (0..<3).map { c in
            let mean = n.mean.indices.contains(c) ? n.mean[c] : 0
            let std = n.std.indices.contains(c) && n.std[c] != 0 ? n.std[c] : 1
            return (0...255).map { Float((Double($0) * scale - mean) / std) }
        }
    }

    /// A coarse alpha for `image` (any layout, any size): single-channel, 0…1, at the model's
    /// output resolution (the letterbox, if any, cropped away).
    ///
    /// A standalone call compiles the model for `pool` each time; a ``Matter`` keeps the
    /// compiled graphs and sessions between calls.
    ///
    /// - Throws: `ImageError.invalidArgument` for an empty image; engine errors;
    ///   ``MattingError/incompatibleModel(file:reason:)`` if the output does not fit.
    public func coarseAlpha(for image: Image, pool: ThreadPool = .serial) throws -> FloatImage {
        try SegmentationRunner(segmenter: self, pool: pool).coarseAlpha(for: image)
    }

    /// The coarse alpha from the network's output for `image` run at `size`.
    func coarseAlpha(for image: Image, output: Tensor, size: Size) throws -> FloatImage {
        var alpha = try alphaPlane(of: output)
        let content = contentRect(photoWidth: image.width, photoHeight: image.height, network: size)
        if content.width != size.width || content.height != size.height {
            // Map the letterbox rectangle onto the output's own resolution.
            let sx = Double(alpha.width) / Double(size.width), sy = Double(alpha.height) / Double(size.height)
            let x0 = Int((Double(content.x) * sx).rounded()), y0 = Int((Double(content.y) * sy).rounded())
            let x1 = max(x0 + 1, Int((Double(content.x + content.width) * sx).rounded()))
            let y1 = max(y0 + 1, Int((Double(content.y + content.height) * sy).rounded()))
            alpha = alpha.cropped(to: ImageRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
                .clamped(toWidth: alpha.width, height: alpha.height))
        }
        return alpha
    }

    /// The configured channel of a model output as a 0…1 single-channel picture, after the
    /// configured post-processing (NaN becomes 0).
    func alphaPlane(of output: Tensor) throws -> FloatImage {
        let shape = output.shape
        guard (2...4).contains(shape.count), !shape.contains(0) else {
            throw MattingError.incompatibleModel(
                file: fileName, reason: "output '\(outputName)' has shape \(shape); an alpha needs rank 2 (H×W), 3 or 4")
        }
        let axes = Self.outputAxes(rank: shape.count, channelsFirst: configuration.layout.channelsFirst)
        if shape.count == 4, shape[0] != 1 {
            throw MattingError.incompatibleModel(file: fileName, reason: "output '\(outputName)' has batch size \(shape[0])")
        }
        let height = shape[axes.height], width = shape[axes.width]
        let channels = axes.channel.map { shape[$0] } ?? 1
        let channel = configuration.outputChannel
        guard channel >= 0, channel < channels else {
            throw MattingError.incompatibleModel(
                file: fileName, reason: "output '\(outputName)' \(shape) has \(channels) channel(s); channel \(channel) was asked for")
        }
        var plane = [Float](repeating: 0, count: width * height)
        output.withUnsafeFloats { values in
            let channelsFirst = axes.channel.map { $0 < axes.height } ?? true
            for i in 0..<plane.count {
                plane[i] = channelsFirst ? values[channel * plane.count + i] : values[i * channels + channel]
            }
        }
        Self.postProcess(&plane, configuration.postProcessing)
        return try FloatImage(width: width, height: height, layout: .gray, components: plane)
    }

    /// Applies `postProcessing` and clamps to 0…1 (NaN → 0).
    static func postProcess(_ plane: inout [Float], _ postProcessing: Configuration.PostProcessing) {
        switch postProcessing {
        case .none: break
        case .sigmoid:
            for i in plane.indices { plane[i] = 1 / (1 + Float(exp(-Double(plane[i])))) }
        case let .scaled(factor):
            let f = Float(factor)
            for i in plane.indices { plane[i] *= f }
        case .minMaxNormalized:
            var lo = Float.infinity, hi = -Float.infinity
            for v in plane where !v.isNaN { lo = min(lo, v); hi = max(hi, v) }
            let range = hi - lo
            for i in plane.indices { plane[i] = range > 0 && range.isFinite ? (plane[i] - lo) / range : 0 }
        }
        for i in plane.indices {
            let v = plane[i]
            plane[i] = v >= 1 ? 1 : (v > 0 ? v : 0)   // NaN fails both tests and becomes 0
        }
    }

    /// Axis positions of an output of `rank` 2 (H, W), 3 (C, H, W or H, W, C) or 4
    /// (N, C, H, W or N, H, W, C): channels first when the input is NCHW.
    static func outputAxes(rank: Int, channelsFirst: Bool) -> (channel: Int?, height: Int, width: Int) {
        switch (rank, channelsFirst) {
        case (2, _): (nil, 0, 1)
        case (3, true): (0, 1, 2)
        case (3, false): (2, 0, 1)
        case (_, true): (1, 2, 3)
        default: (3, 1, 2)
        }
    }

    /// The outputs' names in the order the file declares them.
    static func declaredOutputOrder(of url: URL, format: ModelFormat) throws -> [String] {
        switch format {
        case .onnx:
            return try ONNXModel(contentsOf: url).graph.outputs.map(\.name)
        case .tflite:
            let model = try TFLiteModel(contentsOf: url)
            guard let subgraph = model.subgraphs.first else { return [] }
            return subgraph.outputs.compactMap { subgraph.tensors.indices.contains($0) ? subgraph.tensors[$0].name : nil }
        }
    }

    static func format(_ shape: [Int?]) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }
}

/// A segmenter compiled for one thread pool: compiled graphs by network input size, each with
/// the engine sessions (arena and scratch memory) that ran it, reused from call to call.
///
/// Sessions are checked out for a run and returned after it, so concurrent calls each get
/// their own (a new one only when all are busy); the least recently used size is dropped
/// beyond the configuration's ``ModelSegmenter/Configuration/maximumCachedSizes``.
final class SegmentationRunner: @unchecked Sendable {
    // @unchecked: `entries` and `clock` are only touched under `lock`; a session checked out
    // of the cache is used by one call at a time.
    let segmenter: ModelSegmenter
    let pool: ThreadPool
    /// The runner of ``ModelSegmenter/wideVariant``, if the segmenter has one.
    let wide: SegmentationRunner?
    private let lock = NSLock()
    private var entries: [ModelSegmenter.Size: (graph: CompiledGraph, idle: [Session], lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(segmenter: ModelSegmenter, pool: ThreadPool) {
        self.segmenter = segmenter
        self.pool = pool
        wide = segmenter.wideVariant.map { SegmentationRunner(segmenter: $0, pool: pool) }
    }

    /// The sizes currently compiled.
    var sizes: Set<ModelSegmenter.Size> { lock.withLock { Set(entries.keys) } }

    /// The sessions waiting in the cache (all of them, when no call is running).
    var sessionCount: Int { lock.withLock { entries.values.reduce(0) { $0 + $1.idle.count } } }

    /// ``ModelSegmenter/coarseAlpha(for:pool:)`` with the cached graphs and sessions.
    func coarseAlpha(for image: Image) throws -> FloatImage {
        guard !image.isEmpty else { throw ImageError.invalidArgument("cannot segment an empty image") }
        if let wide, segmenter.usesWideVariant(width: image.width, height: image.height) {
            return try wide.coarseAlpha(for: image)
        }
        let networkImage = segmenter.networkImage(for: image, pool: pool)
        let size = ModelSegmenter.Size(width: networkImage.width, height: networkImage.height)
        let tensor = segmenter.inputTensor(forNetworkImage: networkImage)
        let (graph, session) = try checkOut(size: size, shape: tensor.shape)
        defer { checkIn(session, size: size, graph: graph) }
        let outputs = try session.run([segmenter.inputName: tensor])
        guard let output = outputs[segmenter.outputName] else {
            throw MattingError.incompatibleModel(
                file: segmenter.fileName, reason: "the run produced no output '\(segmenter.outputName)'")
        }
        return try segmenter.coarseAlpha(for: image, output: output, size: size)
    }

    private func checkOut(size: ModelSegmenter.Size, shape: [Int]) throws -> (CompiledGraph, Session) {
        let cached = lock.withLock { () -> (CompiledGraph, Session?)? in
            clock += 1
            guard var entry = entries[size] else { return nil }
            let session = entry.idle.popLast()
            entry.lastUse = clock
            entries[size] = entry
            return (entry.graph, session)
        }
        if let (graph, session) = cached { return (graph, session ?? graph.makeSession()) }
        let graph = try segmenter.graph.compile(inputShapes: [segmenter.inputName: shape], pool: pool)
        return (graph, graph.makeSession())
    }

    private func checkIn(_ session: Session, size: ModelSegmenter.Size, graph: CompiledGraph) {
        lock.withLock {
            clock += 1
            if var entry = entries[size] {
                if entry.graph === graph { entry.idle.append(session) }
                entry.lastUse = clock
                entries[size] = entry
            } else {
                entries[size] = (graph, [session], clock)
            }
            let capacity = max(1, segmenter.configuration.maximumCachedSizes)
            while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                entries[oldest] = nil
            }
        }
    }
}
