import MattingImage
import MattingRefine

/// Everything the one-call pipeline can be told; every field has the default users expect.
///
/// Plain data: `Equatable` and `Codable`, so options can be compared, stored in a settings
/// file or received as JSON:
///
/// ```swift
/// var options = MattingOptions()                     // the portrait preset
/// options.operations = .product
/// options.background = try RGBColor(parsing: "#f5f0e6")
/// let json = try JSONEncoder().encode(options)
/// ```
public struct MattingOptions: Sendable, Hashable, Codable {
    /// Post-processing of the matte, applied in order to the full-resolution matte; the
    /// default is the `portrait` preset (threshold 12, erosion 1, feathering on). Presets
    /// are `MatteOperations` values: `.portrait`, `.product`, `.complexBackground`.
    public var operations: MatteOperations
    /// Colour for composited output (JPEG, previews). Default white.
    public var background: RGBColor
    /// Run the pre-enhance step (CLAHE on lightness + sharpen) on the photo first; the
    /// cut-out then carries the enhanced colours. Default off.
    public var enhance: Bool
    /// Estimate halo-free foreground colours (Germer et al.) for the cut-out. Default on.
    public var estimatesForeground: Bool
    /// Size limits for the network and the solver.
    public var inputPolicy: InputPolicy
    /// Trimap generation and solver settings.
    public var refiner: Refiner

    /// The portrait defaults, or any field set.
    public init(
        operations: MatteOperations = .portrait, background: RGBColor = .white, enhance: Bool = false,
        estimatesForeground: Bool = true, inputPolicy: InputPolicy = InputPolicy(), refiner: Refiner = Refiner()
    ) {
        self.operations = operations
        self.background = background
        self.enhance = enhance
        self.estimatesForeground = estimatesForeground
        self.inputPolicy = inputPolicy
        self.refiner = refiner
    }
}
