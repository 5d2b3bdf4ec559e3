import Foundation

/// An element-wise activation a producing kernel applies to each output value (fused).
public enum Activation: Sendable, Hashable, CustomStringConvertible {
    /// `x`.
    case identity
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `min(max(x, min), max)`.
    case clip(min: Float, max: Float)
    /// `x ≥ 0 ? x : alpha · x`.
    case leakyRelu(alpha: Float)
    /// `x · relu6(x + 3) / 6` (MobileNetV3).
    case hardSwish
    /// `max(0, min(1, alpha · x + beta))` (ONNX HardSigmoid; TFLite-style is alpha 1/6, beta 0.5).
    case hardSigmoid(alpha: Float, beta: Float)
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// `tanh(x)`.
    case tanh

    /// Applies the activation to one value (the reference definition every kernel matches).
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return Swift.max(x, 0)
        case .relu6: return Swift.min(Swift.max(x, 0), 6)
        case let .clip(lo, hi): return Swift.min(Swift.max(x, lo), hi)
        case let .leakyRelu(alpha): return x >= 0 ? x : alpha * x
        case .hardSwish: return x * Swift.min(Swift.max(x + 3, 0), 6) * (1 / 6)
        case let .hardSigmoid(alpha, beta): return Swift.max(0, Swift.min(1, alpha * x + beta))
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        }
    }

    public var description: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .relu6: "relu6"
        case let .clip(lo, hi): "clip(\(lo), \(hi))"
        case let .leakyRelu(alpha): "leakyRelu(\(alpha))"
        case .hardSwish: "hardSwish"
        case let .hardSigmoid(alpha, beta): "hardSigmoid(\(alpha), \(beta))"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        }
    }
}
