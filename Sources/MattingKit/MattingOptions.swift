import MattingImage
import MattingRefine

/// Everything the one-call pipeline can be told; every field has the default users expect.
///
/// Presets are ``MatteOperations`` values (`.portrait`, `.product`, `.complexBackground`),
/// applied in their order (threshold → erode → feather) to the full-resolution matte.
public struct MattingOptions: Sendable {
    /// Post-processing of the matte; the default is the `portrait` preset.
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
