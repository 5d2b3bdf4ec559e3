import MattingThreads
import MattingImage

/// One post-processing step on a matte: threshold, erosion, dilation, feathering or a
/// guided filter.
///
/// A matte is a single-channel `FloatImage` (`.gray`) with values in 0…1 (0 transparent,
/// 1 opaque). Steps are plain data — `Hashable` and `Codable` — so a list of them
/// (``MatteOperations``) can be compared, stored in a settings file or sent over the wire.
/// Every case with a zero parameter is the identity.
public enum MatteOperation: Sendable, Hashable, Codable {
    /// Alpha below `threshold` on the 0…255 scale becomes 0; the rest is kept as it is.
    ///
    /// Exact boundary: a value `a` becomes 0 when `a · 255 < threshold − 0.5`, that is, when
    /// `a` rounded to 8 bits is below `threshold` (so an 8-bit mask value equal to the
    /// threshold is kept, one below is cleared, whether it came as `v/255` or `v·(1/255)`).
    /// Range 0…50 (the user-facing parameter); 0 is the identity.
    case threshold(Int)
    /// Erosion by `radius` pixels (0…5 in the user interface; any radius ≥ 0 works): the
    /// minimum over the `(2·radius+1)²` square, see `eroded(radius:)`.
    case erode(radius: Int)
    /// Dilation by `radius` pixels: the maximum over the `(2·radius+1)²` square.
    case dilate(radius: Int)
    /// Gaussian feathering with standard deviation `sigma` pixels (0 is the identity).
    ///
    /// A hard edge becomes a ramp whose 10–90 % width is `2 · 1.2816 · σ`; the default
    /// ``MatteOperation/defaultFeatherSigma`` (1.5 px) gives 3.84 px, inside DESIGN.md's
    /// "about 3–5 px". The kernel has radius `ceil(3σ)`, is normalised, and replicates the
    /// border pixels.
    case feather(sigma: Float)
    /// A guided filter of the matte following the photo (see ``GuidedFilter``), then clamped
    /// to 0…1. The guide is the picture passed to ``applied(to:guide:pool:)`` — in the
    /// pipeline, the photo being matted.
    case guidedFilter(radius: Int, epsilon: Float)

    /// The feathering σ used by the presets' "feather on": 1.5 px (10–90 % width 3.84 px).
    public static let defaultFeatherSigma: Float = 1.5

    /// "Feathering on" as the presets mean it.
    public static var feather: MatteOperation { .feather(sigma: defaultFeatherSigma) }

    /// The step applied to a single-channel matte (see each case for the exact meaning).
    ///
    /// - Parameters:
    ///   - matte: single-channel, values 0…1.
    ///   - guide: the picture a ``guidedFilter(radius:epsilon:)`` follows (same size, gray or
    ///     colour); other steps ignore it.
    ///   - pool: the threads to work on (the result does not depend on their number).
    /// - Throws: `ImageError.invalidArgument` for a non-gray matte, an out-of-range
    ///   parameter, or a guided filter without a guide.
    public func applied(to matte: FloatImage, guide: FloatImage? = nil, pool: ThreadPool = .serial) throws -> FloatImage {
        try requireMatte(matte)
        switch self {
        case let .threshold(t):
            guard (0...255).contains(t) else {
                throw ImageError.invalidArgument("alpha threshold \(t) is outside 0…255 (the UI offers 0…50)")
            }
            return thresholded(matte, t)
        case let .erode(radius):
            return try matte.eroded(radius: radius)
        case let .dilate(radius):
            return try matte.dilated(radius: radius)
        case let .feather(sigma):
            guard sigma >= 0, sigma.isFinite, sigma <= 100 else {
                throw ImageError.invalidArgument("feather sigma \(sigma) is outside 0…100 px")
            }
            return sigma == 0 ? matte : GaussianKernel.blurred(matte, sigma: sigma, pool: pool)
        case let .guidedFilter(radius, epsilon):
            guard let guide else {
                throw ImageError.invalidArgument("a guided filter step needs the photo as its guide")
            }
            let filtered = try GuidedFilter(radius: radius, epsilon: epsilon).filtered(matte, guide: guide, pool: pool)
            return clampedToUnit(filtered)
        }
    }

    private func thresholded(_ matte: FloatImage, _ t: Int) -> FloatImage {
        if t == 0 { return matte }
        let limit = (Float(t) - 0.5) / 255
        var out = matte
        let w = matte.width, h = matte.height
        out.withUnsafeMutableBufferPointer { p, stride in
            for y in 0..<h {
                let row = p + y * stride
                for x in 0..<w where row[x] < limit { row[x] = 0 }
            }
        }
        return out
    }
}

/// `matte` with every value clamped to 0…1 (NaN becomes 0).
func clampedToUnit(_ matte: FloatImage) -> FloatImage {
    var out = matte
    let n = matte.rowLength, h = matte.height
    out.withUnsafeMutableBufferPointer { p, stride in
        for y in 0..<h {
            let row = p + y * stride
            for x in 0..<n {
                let v = row[x]
                row[x] = v > 0 ? min(v, 1) : 0
            }
        }
    }
    return out
}

/// An ordered list of matte steps, applied first to last. Presets are values of this type:
/// plain data (`Hashable`, `Codable`) whose parameters read back (``threshold``,
/// ``erosion``, ``featherSigma``). Compose by value:
///
/// ```swift
/// let mine = MatteOperations.portrait.appending(.guidedFilter(radius: 8, epsilon: 1e-4))
/// print(MatteOperations.portrait.threshold)          // 12
/// let alpha = try mine.applied(to: matte, guide: photo)
/// ```
///
/// It encodes as the JSON array of its steps.
public struct MatteOperations: Sendable, Hashable, Codable, ExpressibleByArrayLiteral {
    /// The steps, in application order.
    public var steps: [MatteOperation]

    /// A list of steps applied first to last (empty: the identity).
    public init(_ steps: [MatteOperation] = []) {
        self.steps = steps
    }

    public init(arrayLiteral steps: MatteOperation...) {
        self.init(steps)
    }

    /// The user-facing parameters (DESIGN.md), in the fixed order threshold → erosion →
    /// feathering. Zero threshold, zero erosion and `feather: false` add no step.
    ///
    /// - Parameters:
    ///   - threshold: 0…50 on the 0…255 scale.
    ///   - feather: Gaussian feathering with σ = ``MatteOperation/defaultFeatherSigma``.
    ///   - erosion: 0…5 px.
    /// - Throws: `ImageError.invalidArgument` outside those ranges.
    public init(threshold: Int, feather: Bool, erosion: Int) throws {
        guard (0...50).contains(threshold) else {
            throw ImageError.invalidArgument("alpha threshold \(threshold) is outside 0…50")
        }
        guard (0...5).contains(erosion) else {
            throw ImageError.invalidArgument("edge erosion \(erosion) px is outside 0…5")
        }
        self.init(Self.steps(threshold: threshold, feather: feather, erosion: erosion))
    }

    private static func steps(threshold: Int, feather: Bool, erosion: Int) -> [MatteOperation] {
        var steps: [MatteOperation] = []
        if threshold > 0 { steps.append(.threshold(threshold)) }
        if erosion > 0 { steps.append(.erode(radius: erosion)) }
        if feather { steps.append(.feather) }
        return steps
    }

    /// ID photos, portraits: threshold 12, erosion 1 px, feathering on.
    public static let portrait = MatteOperations(steps(threshold: 12, feather: true, erosion: 1))
    /// E-commerce (lace, chains, lashes; keep every fine structure): threshold 8, no erosion, feathering on.
    public static let product = MatteOperations(steps(threshold: 8, feather: true, erosion: 0))
    /// Back-lit windows, dappled shade: threshold 22, erosion 2 px, feathering on.
    public static let complexBackground = MatteOperations(steps(threshold: 22, feather: true, erosion: 2))
    /// No step: the identity (the `none` preset). Named so that it cannot be mistaken for
    /// `Optional.none` where an optional list is expected.
    public static let identity = MatteOperations()

    /// The named presets, as programs and settings files spell them.
    public static let presets: [(name: String, operations: MatteOperations)] = [
        ("portrait", .portrait), ("product", .product), ("complexBackground", .complexBackground), ("none", .identity),
    ]

    /// The preset called `name` (``presets``; case-insensitive), or nil.
    public static func preset(named name: String) -> MatteOperations? {
        presets.first { $0.name.lowercased() == name.lowercased() }?.operations
    }

    /// The threshold of the first threshold step (0…255 scale), 0 if there is none.
    public var threshold: Int {
        for case let .threshold(t) in steps { return t }
        return 0
    }

    /// The radius of the first erosion step in pixels, 0 if there is none.
    public var erosion: Int {
        for case let .erode(radius) in steps { return radius }
        return 0
    }

    /// The σ of the first feathering step in pixels, 0 if there is none.
    public var featherSigma: Float {
        for case let .feather(sigma) in steps { return sigma }
        return 0
    }

    /// Whether a feathering step with σ > 0 is in the list.
    public var feathers: Bool { featherSigma > 0 }

    /// This list with `step` added at the end.
    public func appending(_ step: MatteOperation) -> MatteOperations {
        MatteOperations(steps + [step])
    }

    /// Every step applied in order.
    ///
    /// - Parameters:
    ///   - matte: single-channel, values 0…1.
    ///   - guide: the photo a guided-filter step follows (same size).
    ///   - pool: the threads to work on (the result does not depend on their number).
    /// - Throws: the first step's error; `ImageError.invalidArgument` for a non-gray matte.
    public func applied(to matte: FloatImage, guide: FloatImage? = nil, pool: ThreadPool = .serial) throws -> FloatImage {
        try requireMatte(matte)
        var result = matte
        for step in steps {
            try pool.checkCancellation()
            result = try step.applied(to: result, guide: guide, pool: pool)
        }
        return result
    }

    public init(from decoder: any Decoder) throws {
        steps = try decoder.singleValueContainer().decode([MatteOperation].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(steps)
    }
}
