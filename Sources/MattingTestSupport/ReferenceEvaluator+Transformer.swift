import Foundation
import MattingEngine

/// Double-precision twins of the transformer-era operators: batched matrix products with
/// broadcast batch dimensions, attention, `where`, comparisons, tile and gatherElements.
extension ReferenceEvaluator {
    func evaluateTransformer(_ op: MattingEngine.Operation, _ x: [ReferenceTensor]) throws -> [ReferenceTensor] {
        switch op {
        case let .matMul(activation):
            var y = batchedProduct(x[0], x[1], transposeB: false)
            if x.count > 2 {
                let n = y.shape.last!
                for i in 0..<y.count { y.data[i] += x[2].data[i % n] }
            }
            y.data = y.data.map { activate(activation, $0) }
            return [y]
        case let .channelMix(activation):
            let s = x[0].shape, o = x[1].shape[0], pixels = s[2...].reduce(1, *)
            var y = ReferenceTensor(zeros: [s[0], o] + Array(s[2...]))
            for n in 0..<s[0] {
                for oc in 0..<o {
                    for p in 0..<pixels {
                        var sum = x.count > 2 ? x[2].data[oc] : 0
                        for c in 0..<s[1] { sum += x[1].data[oc * s[1] + c] * x[0].data[(n * s[1] + c) * pixels + p] }
                        y.data[(n * o + oc) * pixels + p] = activate(activation, sum)
                    }
                }
            }
            return [y]
        case let .attention(scale, keyTransposed):
            var scores = batchedProduct(x[0], x[1], transposeB: !keyTransposed)
            scores.data = scores.data.map { $0 * Double(scale) }
            return [batchedProduct(softmax(scores, axis: -1), x[2], transposeB: false)]
        case .where:
            let shape = broadcastShapes([x[0].shape, x[1].shape, x[2].shape])
            var y = ReferenceTensor(zeros: shape, dataType: x[1].dataType)
            forEachIndex(shape) { i in
                y[i] = element(x[0], i) != 0 ? element(x[1], i) : element(x[2], i)
            }
            return [y]
        case let .compare(c):
            let shape = broadcastShapes([x[0].shape, x[1].shape])
            var y = ReferenceTensor(zeros: shape, dataType: .int64)
            forEachIndex(shape) { i in
                let (u, v) = (element(x[0], i), element(x[1], i))
                let r: Bool
                switch c {
                case .equal: r = u == v
                case .less: r = u < v
                case .greater: r = u > v
                case .lessOrEqual: r = u <= v
                case .greaterOrEqual: r = u >= v
                }
                y[i] = r ? 1 : 0
            }
            return [y]
        case .tile:
            let a = x[0], reps = x[1].data.map { Int($0) }
            let out = zip(a.shape, reps).map { $0 * $1 }
            var y = ReferenceTensor(zeros: out, dataType: a.dataType)
            forEachIndex(out) { i in y[i] = a[zip(i, a.shape).map { $0 % $1 }] }
            return [y]
        case let .gatherElements(axis):
            let a = x[0], idx = x[1], k = axis < 0 ? axis + a.shape.count : axis
            var y = ReferenceTensor(zeros: idx.shape, dataType: a.dataType)
            forEachIndex(idx.shape) { i in
                var j = i
                let v = Int(idx[i])
                j[k] = v < 0 ? v + a.shape[k] : v
                y[i] = a[j]
            }
            return [y]
        default:
            return try evaluateDataMovement(op, x)
        }
    }

    /// `a · b` (or `a · bᵀ`) over the last two axes, batch axes broadcast numpy-style.
    func batchedProduct(_ a: ReferenceTensor, _ b: ReferenceTensor, transposeB: Bool) -> ReferenceTensor {
        let m = a.shape[a.shape.count - 2], k = a.shape.last!
        let n = transposeB ? b.shape[b.shape.count - 2] : b.shape.last!
        let batch = broadcastShapes([Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))])
        var y = ReferenceTensor(zeros: batch + [m, n])
        forEachIndex(batch + [m, n]) { i in
            let bi = Array(i.dropLast(2)), r = i[i.count - 2], c = i[i.count - 1]
            var s = 0.0
            for t in 0..<k {
                let bv = transposeB ? element(b, bi + [c, t]) : element(b, bi + [t, c])
                s += element(a, bi + [r, t]) * bv
            }
            y[i] = s
        }
        return y
    }

    /// The numpy broadcast of several shapes (the caller has checked they broadcast).
    func broadcastShapes(_ shapes: [[Int]]) -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        return (0..<rank).map { axis in
            shapes.map { s in axis - (rank - s.count) >= 0 ? s[axis - (rank - s.count)] : 1 }.max() ?? 1
        }
    }

    /// The element of `t` that a broadcast index of higher or equal rank reads.
    func element(_ t: ReferenceTensor, _ index: [Int]) -> Double {
        let lead = index.count - t.shape.count
        return t[t.shape.indices.map { t.shape[$0] == 1 ? 0 : index[lead + $0] }]
    }
}
