import CMattingKernels

extension Activation {
    /// The transform microkernels fuse into their store, and whether a scalar post-pass must
    /// then apply the real activation (sigmoid and tanh: the kernel stores identity).
    var microkernelParameters: (parameters: mk_activation, needsPostPass: Bool) {
        func clamp(_ lo: Float, _ hi: Float) -> mk_activation {
            mk_activation(kind: Int32(MK_ACT_CLAMP.rawValue), lo: lo, hi: hi, alpha: 0, beta: 0)
        }
        switch self {
        case .identity: return (clamp(-.infinity, .infinity), false)
        case .relu: return (clamp(0, .infinity), false)
        case .relu6: return (clamp(0, 6), false)
        case let .clip(lo, hi): return (clamp(lo, hi), false)
        case .hardSwish:
            return (mk_activation(kind: Int32(MK_ACT_HARDSWISH.rawValue), lo: 0, hi: 0, alpha: 0, beta: 0), false)
        case let .leakyRelu(alpha):
            return (mk_activation(kind: Int32(MK_ACT_LEAKY_RELU.rawValue), lo: 0, hi: 0, alpha: alpha, beta: 0), false)
        case let .hardSigmoid(alpha, beta):
            return (mk_activation(kind: Int32(MK_ACT_HARD_SIGMOID.rawValue), lo: 0, hi: 0, alpha: alpha, beta: beta), false)
        case .sigmoid, .tanh: return (clamp(-.infinity, .infinity), true)
        }
    }
}

extension Activation {
    /// Applies the activation in place to `count` values, on `isa`'s vectorised kernel when it
    /// has one for this activation (sigmoid), else element by element.
    func applyPostPass(_ values: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA) {
        if case .sigmoid = self {
            isa.sigmoidMicrokernel(count, values, values)
            return
        }
        for i in 0..<count { values[i] = apply(values[i]) }
    }
}
