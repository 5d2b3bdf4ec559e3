/// How big a picture the network and the refiner may see, and how an input is scaled to it.
///
/// Three sizes matter for one photo:
/// - the **original** size, which results always come back at;
/// - the **working** size, at which the matte is solved: the original scaled down (never up)
///   so its longer side is at most ``maximumSide`` and its shorter side at most
///   ``workingShortSide`` — the 1200–1600 px short side the presets are tuned for;
/// - the **network** size: fixed for models with a fixed input (256×256 for the default
///   model); for models with a free input, the working size scaled so neither side exceeds
///   ``networkMaximumSide``, rounded to multiples of the model's stride.
///
/// Nothing larger than ``maximumSide`` on either side ever enters the network or the solver.
public struct InputPolicy: Sendable, Hashable, Codable {
    /// The largest side the network or the refiner ever sees (default 2048).
    public var maximumSide: Int
    /// The largest short side of the working copy (default 1600).
    public var workingShortSide: Int
    /// The largest side of a free-size network input (default 512).
    public var networkMaximumSide: Int

    /// - Parameters:
    ///   - maximumSide: hard cap on either side, ≥ 16.
    ///   - workingShortSide: cap on the working copy's short side, ≥ 16.
    ///   - networkMaximumSide: cap on a free-size network input's sides, ≥ 16.
    public init(maximumSide: Int = 2048, workingShortSide: Int = 1600, networkMaximumSide: Int = 512) {
        self.maximumSide = max(16, maximumSide)
        self.workingShortSide = max(16, workingShortSide)
        self.networkMaximumSide = max(16, min(networkMaximumSide, self.maximumSide))
    }

    /// The working size for an original of `width × height` (aspect ratio kept, each side
    /// rounded to nearest and at least 1; the original size when it already fits).
    public func workingSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let longer = max(width, height), shorter = min(width, height)
        guard longer > 0 else { return (width, height) }
        let scale = min(1, Double(maximumSide) / Double(longer), Double(workingShortSide) / Double(shorter))
        if scale >= 1 { return (width, height) }
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// The input size for a model that accepts any size divisible by `stride`: the working
    /// size scaled down to fit ``networkMaximumSide``, each side rounded to the nearest
    /// multiple of `stride` (at least one stride).
    public func networkSize(workingWidth: Int, workingHeight: Int, stride: Int) -> (width: Int, height: Int) {
        let stride = max(1, stride)
        let longer = max(workingWidth, workingHeight)
        let scale = longer > networkMaximumSide ? Double(networkMaximumSide) / Double(longer) : 1
        func round(_ side: Int) -> Int {
            let scaled = Double(side) * scale / Double(stride)
            // Rounding must not push a side past the cap.
            var multiple = max(1, Int(scaled.rounded()))
            while multiple > 1 && multiple * stride > networkMaximumSide { multiple -= 1 }
            return multiple * stride
        }
        return (round(workingWidth), round(workingHeight))
    }
}
