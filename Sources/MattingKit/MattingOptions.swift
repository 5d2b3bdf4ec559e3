import MattingImage
import MattingRefine

/// Everything the one-call pipeline can be told; every field has the default users expect.
///
/// Plain data: `Equatable` and `Codable`, so options can be compared, stored in a settings
/// file or received as JSON:
///
/// ```swift
/// var options = MattingOptions()                     // presets by input (below)
/// options.operations = .product                      // this preset on every path
/// options.background = try RGBColor(parsing: "#f5f0e6")
/// let json = try JSONEncoder().encode(options)
/// ```
public struct MattingOptions: Sendable, Hashable, Codable {
    /// Post-processing of the matte, applied in order to the full-resolution matte. Presets
    /// are `MatteOperations` values: `.portrait`, `.product`, `.complexBackground`, `.none`.
    ///
    /// `nil` (the default) chooses by input, because the presets were tuned for the
    /// network's mattes and degrade a solver's alpha from a caller's trimap: the automatic
    /// path (``Matter/matte(_:options:)``) gets `.portrait`; a caller's trimap or coarse mask
    /// gets none (the solver's alpha as it is); the studio path gets `.product`. Set it to
    /// ask for post-processing on any path.
    public var operations: MatteOperations?
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
    /// On the automatic (model) path, keep only the parts of the network's mask that belong
    /// to a person MediaPipe's detectors find in the photo (the pose detector, and the
    /// full-range face detector, each face standing for a body below it): a separate statue,
    /// flag or bush the network took for part of someone is cleared before refinement. Parts
    /// joined to a person stay (the filter works on connected regions). With no person or
    /// face detected, or without the detectors' model files (`Scripts/fetch-models.sh`
    /// installs them), the mask is used as it is. Other paths ignore it.
    /// Default off: on the project's people photos it changed no IoU (their mistakes are joined
    /// to a person); a person neither detector finds (turned away, cut by the frame) is
    /// cleared, which happens on one of them; and it costs eight detector runs per wide or tall
    /// photo (figures in Docs/Quality.md).
    public var peopleOnly: Bool

    /// Model path: the selfie model runs again on a head-and-shoulders square (three face
    /// heights wide) around each face the full-range face detector finds, and each crop's mask
    /// raises the whole-photo mask inside its square, its weight falling to zero toward the
    /// square's edges (so no seam); alpha is only raised, and only where the whole-photo mask
    /// is below 0.95 (an undetected person keeps the whole-photo mask, and so does everything
    /// outside the squares). With no face found, or without the detector's model file
    /// (`Scripts/fetch-models.sh` installs it), the mask is used as it is. Other paths ignore
    /// it. Default off: on the project's twelve people photos it raised the mean IoU only from
    /// 0.9158 to 0.9171 (a woman half-missed at the back of a group is filled in) while three
    /// photos and the single portraits scored lower, and it costs four face detector runs and a
    /// selfie run per face (figures in Docs/Quality.md, "Person crops" and "More people").
    public var personCrops: Bool = MattingOptions.defaultPersonCrops

    /// How far the alpha solver goes: ``SolverAccuracy/fast`` runs ``refiner``'s `solver` as it
    /// is (by default Jacobi-preconditioned, stopped at a relative residual of 1e-3);
    /// ``SolverAccuracy/exact`` runs it to the exact minimiser of the closed-form energy
    /// (`ClosedFormMatting.solvedExactly`: multigrid, 1e-6), a little more CPU time than
    /// `.fast` on a trimap's band and much more on a wide, soft one (figures: Docs/Benchmarks.md).
    ///
    /// `nil` (the default) chooses by input: a caller's trimap gets `.exact` (its unknown band
    /// is the caller's, often wide, and on real photos with real ground truth the exact
    /// minimiser is the more accurate matte: Docs/Quality.md); the automatic model path, a
    /// coarse mask and the studio path get `.fast` (their band is a narrow one drawn around a
    /// mask, where the early stop costs little and speed matters).
    public var solverAccuracy: SolverAccuracy?

    /// On the model path, widen the trimap's unknown band where the edge looks like hair
    /// (the network's alpha soft over a broad zone, or high-frequency texture along the
    /// foreground side of the edge) and keep it narrow along smooth edges: shorthand for
    /// `refiner.trimapOptions.hairBand` (`HairBand`, its settings there). Setting it `true`
    /// keeps existing `HairBand` settings or installs the defaults; `false` removes them.
    /// A caller's trimap and the studio path are unaffected.
    /// Default off (figures in Docs/Quality.md, "Hair-aware trimap").
    public var hairAwareTrimap: Bool {
        get { refiner.trimapOptions.hairBand != nil }
        set {
            if !newValue {
                refiner.trimapOptions.hairBand = nil
            } else if refiner.trimapOptions.hairBand == nil {
                refiner.trimapOptions.hairBand = HairBand()
            }
        }
    }

    /// The defaults (presets by input, white background, foreground estimation on), or any
    /// field set.
    public init(
        operations: MatteOperations? = nil, background: RGBColor = .white, enhance: Bool = false,
        estimatesForeground: Bool = true, inputPolicy: InputPolicy = InputPolicy(), refiner: Refiner = Refiner(),
        peopleOnly: Bool = MattingOptions.defaultPeopleOnly, solverAccuracy: SolverAccuracy? = nil
    ) {
        self.solverAccuracy = solverAccuracy
        self.operations = operations
        self.background = background
        self.enhance = enhance
        self.estimatesForeground = estimatesForeground
        self.inputPolicy = inputPolicy
        self.refiner = refiner
        self.peopleOnly = peopleOnly
    }

    /// The information-flow terms (`InformationFlow`, Aksoy et al. 2017) the alpha solver adds
    /// to the closed-form energy, on every path; `nil` (the default) solves the closed form
    /// alone. Another name for ``refiner``'s `solver.informationFlow`: setting either sets both.
    ///
    /// On the project's items with a true alpha — two composites with generated alphas and four
    /// made from real cut-outs (a group of children, a tree) — the terms lowered SAD, MSE and
    /// gradient error against the exact closed form (thin strands and holes the closed form
    /// fills come back), but the solve costs many times the CPU time of the default one with a
    /// trimap, most of it finding each unknown pixel's nearest neighbours (figures in
    /// Docs/Quality.md). Off by default for that cost.
    ///
    /// ```swift
    /// var options = MattingOptions()
    /// options.informationFlow = InformationFlow()   // the paper's weights
    /// ```
    public var informationFlow: InformationFlow? {
        get { refiner.solver.informationFlow }
        set { refiner.solver.informationFlow = newValue }
    }

    /// The default of ``peopleOnly``.
    public static let defaultPeopleOnly = false

    /// The default of ``personCrops``.
    public static let defaultPersonCrops = false

    private enum CodingKeys: String, CodingKey {
        case operations, background, enhance, estimatesForeground, inputPolicy, refiner, peopleOnly, solverAccuracy, personCrops
    }

    /// Decodes options; fields added since a form was stored (``peopleOnly``,
    /// ``solverAccuracy``, ``personCrops``) take their
    /// defaults when absent, so older JSON still decodes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        operations = try c.decodeIfPresent(MatteOperations.self, forKey: .operations)
        background = try c.decode(RGBColor.self, forKey: .background)
        enhance = try c.decode(Bool.self, forKey: .enhance)
        estimatesForeground = try c.decode(Bool.self, forKey: .estimatesForeground)
        inputPolicy = try c.decode(InputPolicy.self, forKey: .inputPolicy)
        refiner = try c.decode(Refiner.self, forKey: .refiner)
        peopleOnly = try c.decodeIfPresent(Bool.self, forKey: .peopleOnly) ?? Self.defaultPeopleOnly
        solverAccuracy = try c.decodeIfPresent(SolverAccuracy.self, forKey: .solverAccuracy)
        personCrops = try c.decodeIfPresent(Bool.self, forKey: .personCrops) ?? Self.defaultPersonCrops
    }

    /// The refine stage on a path whose solver accuracy defaults to `pathDefault`: ``refiner``,
    /// its solver run to the exact minimiser when ``solverAccuracy`` (or, if nil,
    /// `pathDefault`) is ``SolverAccuracy/exact``.
    public func refiner(default pathDefault: SolverAccuracy) -> Refiner {
        var refiner = self.refiner
        if (solverAccuracy ?? pathDefault) == .exact { refiner.solver = refiner.solver.solvedExactly }
        return refiner
    }

    /// The post-processing that runs on a path whose default is `pathDefault`:
    /// ``operations`` when set, else `pathDefault`.
    public func operations(default pathDefault: MatteOperations) -> MatteOperations {
        operations ?? pathDefault
    }
}

/// How far the alpha solver goes (``MattingOptions/solverAccuracy``).
public enum SolverAccuracy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The refiner's solver as it is (by default stopped at a relative residual of 1e-3).
    case fast
    /// The exact minimiser of the closed-form energy (`ClosedFormMatting.solvedExactly`).
    case exact
}
