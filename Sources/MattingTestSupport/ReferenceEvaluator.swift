import Foundation
import MattingEngine

/// Evaluates a ``Graph`` node by node with naive loops in double precision.
///
/// This is the engine's slow, obviously-correct twin: no fusion, no folding, no planning,
/// no threads. Padding, output sizes and coordinate mappings are re-derived here from the
/// operator definitions (ONNX / TFLite), not shared with the engine.
public struct ReferenceEvaluator: Sendable {
    public init() {}

    public enum Failure: Error { case unsupported(String) }

    /// Evaluates every node and returns the graph outputs.
    public func evaluate(_ graph: Graph, inputs: [String: Tensor]) throws -> [String: Tensor] {
        var values: [String: ReferenceTensor] = [:]
        for (k, v) in inputs { values[k] = ReferenceTensor(v) }
        for (k, v) in graph.constants { values[k] = ReferenceTensor(v) }
        for i in try graph.topologicalOrder() {
            let node = graph.nodes[i]
            let args = node.inputs.map { values[$0]! }
            let results = try evaluate(node.operation, args)
            for (name, r) in zip(node.outputs, results) { values[name] = r }
        }
        return graph.outputs.mapValues { values[$0]!.tensor }
    }

    /// Evaluates one operation.
    public func evaluate(_ op: MattingEngine.Operation, _ x: [ReferenceTensor]) throws -> [ReferenceTensor] {
        switch op {
        case let .conv2d(p): return [convolution(x, p)]
        case let .transposedConv2d(p): return [transposedConvolution(x, p)]
        case let .batchNorm(eps):
            var y = x[0]
            let c = y.shape.last!
            for i in 0..<y.count {
                let k = i % c
                y.data[i] = (y.data[i] - x[3].data[k]) / (x[4].data[k] + Double(eps)).squareRoot() * x[1].data[k] + x[2].data[k]
            }
            return [y]
        case let .instanceNorm(eps):
            return [instanceNormalized(x[0], split: 0, affine: nil, scale: x[1], offset: x[2], epsilon: eps, activation: .identity)]
        case let .splitNorm(split, eps, a):
            return [instanceNormalized(x[0], split: split, affine: (x[1], x[2]), scale: x[3], offset: x[4], epsilon: eps, activation: a)]
        case let .layerNorm(axis, eps):
            let s = x[0].shape, ax = axis < 0 ? axis + s.count : axis
            let inner = s[ax...].reduce(1, *)
            var y = x[0]
            for r in 0..<(x[0].count / inner) {
                let row = Array(x[0].data[(r * inner)..<((r + 1) * inner)])
                let mean = row.reduce(0, +) / Double(inner)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(inner)
                for k in 0..<inner {
                    y.data[r * inner + k] = (row[k] - mean) / (variance + Double(eps)).squareRoot() * x[1].data[k] + x[2].data[k]
                }
            }
            return [y]
        case let .pool(p): return [pool(x[0], p)]
        case .globalAveragePool:
            return [reduce(x[0], ReduceParameters(kind: .mean, axes: [1, 2], keepDimensions: true))]
        case let .reduce(p): return [reduce(x[0], p)]
        case var .resize(p):
            if p.target == .sizeFromInput || p.target == .scalesFromInput {
                let v = x[1].data, (h, w) = v.count == 2 ? (v[0], v[1]) : (v[1], v[2])
                p.target = p.target == .sizeFromInput ? .size(height: Int(h), width: Int(w)) : .scales(height: Float(h), width: Float(w))
            }
            return [resize(x[0], p)]
        case let .binary(o, a):
            return [broadcast(x[0], x[1]) { u, v in
                let r: Double
                switch o {
                case .add: r = u + v
                case .subtract: r = u - v
                case .multiply: r = u * v
                case .divide: r = x[0].dataType == .int64 ? (u / v).rounded(.towardZero) : u / v
                case .minimum: r = min(u, v)
                case .maximum: r = max(u, v)
                case .power: r = Foundation.pow(u, v)
                }
                return activate(a, r)
            }]
        case .prelu: return [broadcast(x[0], x[1]) { u, s in u < 0 ? u * s : u }]
        case let .activation(a): return [map(x[0]) { activate(a, $0) }]
        case let .unary(f):
            return [map(x[0]) { v in
                switch f {
                case .gelu: 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
                case .geluTanh: 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
                case .exp: Foundation.exp(v)
                case .log: Foundation.log(v)
                case .sqrt: v.squareRoot()
                case .reciprocal: 1 / v
                case .negate: -v
                case .abs: Swift.abs(v)
                case .erf: Foundation.erf(v)
                case .floor: Foundation.floor(v)
                case .ceil: Foundation.ceil(v)
                case .round: v - Foundation.floor(v) == 0.5 ? 2 * Foundation.round(v / 2) : Foundation.round(v)
                }
            }]
        case let .softmax(axis): return [softmax(x[0], axis: axis)]
        default: return try evaluateTransformer(op, x)
        }
    }

    /// Instance normalisation of NHWC `x` from channel `split` on (`scale`, `offset` indexed from
    /// `split`); the channels before it through `affine` (scale, shift); then `activation`.
    func instanceNormalized(
        _ x: ReferenceTensor, split: Int, affine: (ReferenceTensor, ReferenceTensor)?, scale: ReferenceTensor,
        offset: ReferenceTensor, epsilon: Float, activation: Activation
    ) -> ReferenceTensor {
        let s = x.shape
        var y = x
        for n in 0..<s[0] {
            for c in 0..<s[3] {
                let (mean, variance) = instanceMoments(x, image: n, channel: c)
                forEachIndex([s[1], s[2]]) { i in
                    let v = x[[n, i[0], i[1], c]]
                    let z = c < split ? v * affine!.0.data[c] + affine!.1.data[c]
                        : (v - mean) / (variance + Double(epsilon)).squareRoot() * scale.data[c - split] + offset.data[c - split]
                    y[[n, i[0], i[1], c]] = activate(activation, z)
                }
            }
        }
        return y
    }

    /// The mean and variance over H and W of one image's channel of NHWC `x`.
    func instanceMoments(_ x: ReferenceTensor, image n: Int, channel c: Int) -> (mean: Double, variance: Double) {
        let s = x.shape
        var values: [Double] = []
        forEachIndex([s[1], s[2]]) { i in values.append(x[[n, i[0], i[1], c]]) }
        let mean = values.reduce(0, +) / Double(values.count)
        return (mean, values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
    }

    func activate(_ a: Activation, _ v: Double) -> Double {
        switch a {
        case .identity: v
        case .relu: max(v, 0)
        case .relu6: min(max(v, 0), 6)
        case let .clip(lo, hi): min(max(v, Double(lo)), Double(hi))
        case let .leakyRelu(alpha): v >= 0 ? v : Double(alpha) * v
        case .hardSwish: v * min(max(v + 3, 0), 6) / 6
        case let .hardSigmoid(alpha, beta): max(0, min(1, Double(alpha) * v + Double(beta)))
        case .sigmoid: 1 / (1 + Foundation.exp(-v))
        case .tanh: Foundation.tanh(v)
        }
    }

    func map(_ x: ReferenceTensor, _ f: (Double) -> Double) -> ReferenceTensor {
        var y = x
        y.data = x.data.map(f)
        return y
    }

    func broadcast(_ a: ReferenceTensor, _ b: ReferenceTensor, _ f: (Double, Double) -> Double) -> ReferenceTensor {
        let rank = max(a.shape.count, b.shape.count)
        let pa = Array(repeating: 1, count: rank - a.shape.count) + a.shape
        let pb = Array(repeating: 1, count: rank - b.shape.count) + b.shape
        let out = zip(pa, pb).map { max($0, $1) }
        let ra = ReferenceTensor(shape: pa, data: a.data), rb = ReferenceTensor(shape: pb, data: b.data)
        var y = ReferenceTensor(zeros: out, dataType: a.dataType)
        forEachIndex(out) { i in
            let ia = zip(i, pa).map { $1 == 1 ? 0 : $0 }, ib = zip(i, pb).map { $1 == 1 ? 0 : $0 }
            y[i] = f(ra[ia], rb[ib])
        }
        return y
    }

    func softmax(_ x: ReferenceTensor, axis: Int) -> ReferenceTensor {
        let ax = axis < 0 ? axis + x.shape.count : axis
        var y = x
        forEachIndex(x.shape) { i in
            guard i[ax] == 0 else { return }
            var j = i
            var values: [Double] = []
            for k in 0..<x.shape[ax] { j[ax] = k; values.append(x[j]) }
            let m = values.max()!
            let e = values.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for k in 0..<x.shape[ax] { j[ax] = k; y[j] = e[k] / s }
        }
        return y
    }

    func reduce(_ x: ReferenceTensor, _ p: ReduceParameters) -> ReferenceTensor {
        let axes = Set(p.axes.isEmpty ? Array(0..<x.shape.count) : p.axes.map { $0 < 0 ? $0 + x.shape.count : $0 })
        let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        var sums = ReferenceTensor(zeros: keptShape)
        var counts = 0
        var first = [Bool](repeating: true, count: sums.count)
        forEachIndex(x.shape) { i in
            let o = sums.offset(i.enumerated().map { axes.contains($0.offset) ? 0 : $0.element })
            if o == 0 { counts += 1 }
            let v = x[i]
            switch p.kind {
            case .mean, .sum: sums.data[o] += v
            case .max: sums.data[o] = first[o] ? v : max(sums.data[o], v)
            case .min: sums.data[o] = first[o] ? v : min(sums.data[o], v)
            }
            first[o] = false
        }
        if p.kind == .mean { sums.data = sums.data.map { $0 / Double(counts) } }
        if !p.keepDimensions { sums.shape = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element) }
        return sums
    }
}
