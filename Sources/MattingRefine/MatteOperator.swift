import MattingImage

/// A step that turns a matte into another matte: threshold, erosion, feathering, …
///
/// A matte is a single-channel ``FloatImage`` (`.gray`) with values in 0…1 (0 transparent,
/// 1 opaque). Conform your own types to add steps to a ``MatteOperations`` list:
///
/// ```swift
/// struct Gamma: MatteOperator {
///     var exponent: Float
///     func applied(to matte: FloatImage) throws -> FloatImage { ... }
/// }
/// let ops = MatteOperations.portrait.appending(Gamma(exponent: 0.8))
/// ```
public protocol MatteOperator: Sendable {
    /// The operator applied to `matte` (single-channel, values in 0…1); returns a matte of
    /// the same size.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for out-of-range parameters or a matte
    ///   that is not single-channel.
    func applied(to matte: FloatImage) throws -> FloatImage
}

/// The built-in matte operators. Every case with a zero parameter is the identity.
public enum MatteOperation: MatteOperator, Equatable {
    /// Alpha below `threshold` on the 0…255 scale becomes 0; the rest is kept as it is.
    ///
    /// Exact boundary: a value `a` becomes 0 when `a · 255 < threshold − 0.5`, that is, when
    /// `a` rounded to 8 bits is below `threshold` (so an 8-bit mask value equal to the
    /// threshold is kept, one below is cleared, whether it came as `v/255` or `v·(1/255)`).
    /// Range 0…50 (the user-facing parameter); 0 is the identity.
    case threshold(Int)
    /// Erosion by `radius` pixels (0…5 in the user interface; any radius ≥ 0 works): the
    /// minimum over the `(2·radius+1)²` square, see ``FloatImage/eroded(radius:)``.
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
    /// A guided filter of the matte following `guide` (same size; gray or colour), then
    /// clamped to 0…1. See ``GuidedFilter``.
    case guidedFilter(radius: Int, epsilon: Float, guide: FloatImage)

    /// The feathering σ used by the presets' "feather on": 1.5 px (10–90 % width 3.84 px).
    public static let defaultFeatherSigma: Float = 1.5

    /// "Feathering on" as the presets mean it.
    public static var feather: MatteOperation { .feather(sigma: defaultFeatherSigma) }

    /// The operator applied to a single-channel matte (see each case for the exact meaning).
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for a non-gray matte or an out-of-range parameter.
    public func applied(to matte: FloatImage) throws -> FloatImage {
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
            return sigma == 0 ? matte : GaussianKernel.blurred(matte, sigma: sigma)
        case let .guidedFilter(radius, epsilon, guide):
            let filtered = try GuidedFilter(radius: radius, epsilon: epsilon).filtered(matte, guide: guide)
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

/// An ordered list of matte operators, applied first to last. Presets are values of this
/// type; compose by value:
///
/// ```swift
/// let mine = MatteOperations.portrait.appending(MatteOperation.guidedFilter(radius: 8, epsilon: 1e-4, guide: photo))
/// let alpha = try mine.applied(to: matte)
/// ```
public struct MatteOperations: MatteOperator {
    /// The steps, in application order.
    public var operators: [any MatteOperator]

    /// A list of steps applied first to last (empty: the identity).
    public init(_ operators: [any MatteOperator] = []) {
        self.operators = operators
    }

    /// The user-facing parameters (DESIGN.md), in the fixed order threshold → erosion →
    /// feathering. Zero threshold, zero erosion and `feather: false` add no step.
    ///
    /// - Parameters:
    ///   - threshold: 0…50 on the 0…255 scale.
    ///   - feather: Gaussian feathering with σ = ``MatteOperation/defaultFeatherSigma``.
    ///   - erosion: 0…5 px.
    /// - Throws: ``ImageError/invalidArgument(_:)`` outside those ranges.
    public init(threshold: Int, feather: Bool, erosion: Int) throws {
        guard (0...50).contains(threshold) else {
            throw ImageError.invalidArgument("alpha threshold \(threshold) is outside 0…50")
        }
        guard (0...5).contains(erosion) else {
            throw ImageError.invalidArgument("edge erosion \(erosion) px is outside 0…5")
        }
        self.init(Self.steps(threshold: threshold, feather: feather, erosion: erosion))
    }

    private static func steps(threshold: Int, feather: Bool, erosion: Int) -> [any MatteOperator] {
        var steps: [any MatteOperator] = []
        if threshold > 0 { steps.append(MatteOperation.threshold(threshold)) }
        if erosion > 0 { steps.append(MatteOperation.erode(radius: erosion)) }
        if feather { steps.append(MatteOperation.feather) }
        return steps
    }

    /// ID photos, portraits: threshold 12, erosion 1 px, feathering on.
    public static let portrait = MatteOperations(steps(threshold: 12, feather: true, erosion: 1))
    /// E-commerce (lace, chains, lashes; keep every fine structure): threshold 8, no erosion, feathering on.
    public static let product = MatteOperations(steps(threshold: 8, feather: true, erosion: 0))
    /// Back-lit windows, dappled shade: threshold 22, erosion 2 px, feathering on.
    public static let complexBackground = MatteOperations(steps(threshold: 22, feather: true, erosion: 2))
    /// No step: the identity.
    public static let none = MatteOperations()

    /// This list with `step` added at the end.
    public func appending(_ step: any MatteOperator) -> MatteOperations {
        MatteOperations(operators + [step])
    }

    /// The built-in steps of the list (custom operators are left out), for inspection.
    public var builtInSteps: [MatteOperation] { operators.compactMap { $0 as? MatteOperation } }

    /// Every step applied in order.
    ///
    /// - Throws: the first step's error; ``ImageError/invalidArgument(_:)`` for a non-gray matte.
    public func applied(to matte: FloatImage) throws -> FloatImage {
        try requireMatte(matte)
        var result = matte
        for step in operators { result = try step.applied(to: result) }
        return result
    }
}
