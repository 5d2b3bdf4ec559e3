import Foundation

/// Applies `activation` to `count` floats from `source` to `destination` (which may be equal).
///
/// Piecewise-linear activations run eight lanes at a time; sigmoid runs on the path's vector
/// kernel (`KernelISA.sigmoidMicrokernel`: gates and full-resolution heads), tanh calls libm
/// per element.
func applyActivation(
    _ activation: Activation, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
    count: Int
) {
    switch activation {
    case .identity:
        if UnsafeRawPointer(source) != UnsafeRawPointer(destination) { destination.update(from: source, count: count) }
    case .relu:
        simdMap(source, destination, count) { $0.replacing(with: 0, where: $0 .< 0) }
    case .relu6:
        simdMap(source, destination, count) { $0.clamped(lowerBound: .zero, upperBound: SIMD8(repeating: 6)) }
    case let .clip(lo, hi):
        simdMap(source, destination, count) { $0.clamped(lowerBound: SIMD8(repeating: lo), upperBound: SIMD8(repeating: hi)) }
    case let .leakyRelu(alpha):
        simdMap(source, destination, count) { $0.replacing(with: $0 * alpha, where: $0 .< 0) }
    case .hardSwish:
        simdMap(source, destination, count) { x in
            let t = (x + 3).clamped(lowerBound: .zero, upperBound: SIMD8(repeating: 6))
            return x * t * (1 / 6)
        }
    case let .hardSigmoid(alpha, beta):
        simdMap(source, destination, count) { x in
            (x * alpha + beta).clamped(lowerBound: .zero, upperBound: SIMD8(repeating: 1))
        }
    case .sigmoid:
        KernelISA.current.sigmoidMicrokernel(count, source, destination)
    case .tanh:
        for i in 0..<count { destination[i] = Foundation.tanh(source[i]) }
    }
}

/// Maps eight lanes at a time, then the tail through the same closure on a padded vector.
@inline(__always)
func simdMap(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, _ count: Int,
    _ f: (SIMD8<Float>) -> SIMD8<Float>
) {
    var i = 0
    let s = UnsafeRawPointer(source), d = UnsafeMutableRawPointer(destination)
    while i + 8 <= count {
        let v = s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        d.storeBytes(of: f(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    if i < count {
        var v = SIMD8<Float>(repeating: 0)
        for j in 0..<(count - i) { v[j] = source[i + j] }
        let r = f(v)
        for j in 0..<(count - i) { destination[i + j] = r[j] }
    }
}

/// A standalone activation node.
struct ActivationOperator: CompiledOperator {
    let activation: Activation
    let count: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        parallelChunks(count, pool: pool) { r in
            applyActivation(activation, x + r.lowerBound, y + r.lowerBound, count: r.count)
        }
    }
}

/// Element-wise functions that are not fusable activations (GELU, exp, …); scalar libm calls,
/// except exact GELU, which runs on the path's vector kernel (`KernelISA.geluMicrokernel`):
/// transformer MLPs apply it to four times the model width per token.
struct UnaryOperator: CompiledOperator {
    let function: UnaryFunction
    let count: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let f = function, gelu = KernelISA.current.geluMicrokernel
        parallelChunks(count, pool: pool) { r in
            if f == .gelu {
                gelu(r.count, x + r.lowerBound, y + r.lowerBound)
                return
            }
            for i in r {
                let v = x[i]
                switch f {
                case .gelu: y[i] = 0.5 * v * (1 + Foundation.erf(v * 0.70710678118654752))
                case .geluTanh:
                    let u = 0.79788456080286536 * (v + 0.044715 * v * v * v)
                    y[i] = 0.5 * v * (1 + Foundation.tanh(u))
                case .exp: y[i] = Foundation.exp(v)
                case .log: y[i] = Foundation.log(v)
                case .sqrt: y[i] = v.squareRoot()
                case .reciprocal: y[i] = 1 / v
                case .negate: y[i] = -v
                case .abs: y[i] = Swift.abs(v)
                case .erf: y[i] = Foundation.erf(v)
                case .floor: y[i] = v.rounded(.down)
                case .ceil: y[i] = v.rounded(.up)
                case .round: y[i] = v.rounded(.toNearestOrEven)
                }
            }
        }
    }
}

/// `y[..., c] = activation(x[..., c] · scale[c] + shift[c])`: a standalone batch norm.
struct ChannelAffineOperator: CompiledOperator {
    let scale: [Float], shift: [Float]
    let rows: Int
    let activation: Activation
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let c = scale.count
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { b in
                let rowsPerTask = max(1, 4096 / max(c, 1))
                let tasks = (rows + rowsPerTask - 1) / rowsPerTask
                pool.parallelFor(tasks) { t in
                    for row in (t * rowsPerTask)..<min(rows, (t + 1) * rowsPerTask) {
                        let xi = x + row * c, yi = y + row * c
                        for k in 0..<c { yi[k] = xi[k] * s[k] + b[k] }
                        applyActivation(activation, yi, yi, count: c)
                    }
                }
            }
        }
    }
}
