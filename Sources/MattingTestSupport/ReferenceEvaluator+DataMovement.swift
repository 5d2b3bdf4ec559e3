import MattingEngine

extension ReferenceEvaluator {
    func evaluateDataMovement(_ op: MattingEngine.Operation, _ x: [ReferenceTensor]) throws -> [ReferenceTensor] {
        let a = x[0], s = a.shape
        func ax(_ v: Int, _ rank: Int) -> Int { v < 0 ? v + rank : v }
        switch op {
        case let .concat(axis):
            let k = ax(axis, s.count)
            var out = s
            out[k] = x.map { $0.shape[k] }.reduce(0, +)
            var y = ReferenceTensor(zeros: out, dataType: a.dataType)
            forEachIndex(out) { i in
                var j = i, t = 0
                while j[k] >= x[t].shape[k] { j[k] -= x[t].shape[k]; t += 1 }
                y[i] = x[t][j]
            }
            return [y]
        case let .split(axis, sizes):
            let k = ax(axis, s.count)
            var start = 0
            return sizes.map { size in
                var out = s
                out[k] = size
                var y = ReferenceTensor(zeros: out, dataType: a.dataType)
                forEachIndex(out) { i in var j = i; j[k] += start; y[i] = a[j] }
                start += size
                return y
            }
        case let .slice(p):
            var ranges = s.map { Array(0..<$0) }
            for t in p.axes.indices {
                let k = ax(p.axes[t], s.count), d = s[k], step = p.steps[t]
                var b = p.starts[t], e = p.ends[t]
                if b < 0 { b += d }
                if e < 0 { e += d }
                var list: [Int] = []
                if step > 0 {
                    var i = max(b, 0)
                    while i < min(e, d) { list.append(i); i += step }
                } else {
                    var i = min(b, d - 1)
                    while i > max(e, -1) { list.append(i); i += step }
                }
                ranges[k] = list
            }
            var y = ReferenceTensor(zeros: ranges.map(\.count), dataType: a.dataType)
            forEachIndex(y.shape) { i in y[i] = a[zip(i, ranges).map { $1[$0] }] }
            return [y]
        case let .pad(before, after, mode):
            let out = s.indices.map { s[$0] + before[$0] + after[$0] }
            var y = ReferenceTensor(zeros: out)
            forEachIndex(out) { i in
                var j: [Int] = []
                for (d, o) in i.enumerated() {
                    var v = o - before[d]
                    if v < 0 || v >= s[d] {
                        switch mode {
                        case let .constant(c): y[i] = Double(c); return
                        case .edge: v = min(max(v, 0), s[d] - 1)
                        case .reflect:
                            while v < 0 || v >= s[d] { v = v < 0 ? -v : 2 * (s[d] - 1) - v }
                        }
                    }
                    j.append(v)
                }
                y[i] = a[j]
            }
            return [y]
        case let .transpose(perm):
            var y = ReferenceTensor(zeros: perm.map { s[$0] }, dataType: a.dataType)
            forEachIndex(y.shape) { i in
                var j = [Int](repeating: 0, count: s.count)
                for (o, p) in perm.enumerated() { j[p] = i[o] }
                y[i] = a[j]
            }
            return [y]
        case let .reshape(shape):
            var target = shape ?? x[1].data.map { Int($0) }
            for i in target.indices where target[i] == 0 { target[i] = s[i] }
            if let u = target.firstIndex(of: -1) { target[u] = a.count / target.filter { $0 != -1 }.reduce(1, *) }
            return [ReferenceTensor(shape: target, data: a.data, dataType: a.dataType)]
        case let .flatten(axis):
            let k = ax(axis, s.count)
            return [ReferenceTensor(shape: [s[..<k].reduce(1, *), s[k...].reduce(1, *)], data: a.data, dataType: a.dataType)]
        case let .squeeze(axes):
            let drop = Set(axes.isEmpty ? s.indices.filter { s[$0] == 1 } : axes.map { ax($0, s.count) })
            return [ReferenceTensor(shape: s.indices.filter { !drop.contains($0) }.map { s[$0] }, data: a.data, dataType: a.dataType)]
        case let .unsqueeze(axes):
            var out = s
            for k in axes.map({ ax($0, s.count + axes.count) }).sorted() { out.insert(1, at: k) }
            return [ReferenceTensor(shape: out, data: a.data, dataType: a.dataType)]
        case .shape:
            return [ReferenceTensor(shape: [s.count], data: s.map(Double.init), dataType: .int64)]
        case let .gather(axis):
            let k = ax(axis, s.count), idx = x[1]
            let out = Array(s[..<k]) + idx.shape + Array(s[(k + 1)...])
            var y = ReferenceTensor(zeros: out, dataType: a.dataType)
            forEachIndex(out) { i in
                let ii = Array(i[k..<(k + idx.shape.count)])
                var v = Int(idx[ii])
                if v < 0 { v += s[k] }
                y[i] = a[Array(i[..<k]) + [v] + Array(i[(k + idx.shape.count)...])]
            }
            return [y]
        case let .cast(to):
            var y = a
            y.dataType = to
            if to == .int64 { y.data = a.data.map { $0.rounded(.towardZero) } }
            return [y]
        case let .depthToSpace(b):
            let c = s[3] / (b * b)
            var y = ReferenceTensor(zeros: [s[0], s[1] * b, s[2] * b, c])
            forEachIndex(y.shape) { i in
                y[i] = a[[i[0], i[1] / b, i[2] / b, ((i[1] % b) * b + i[2] % b) * c + i[3]]]
            }
            return [y]
        case .expand:
            let target = x[1].data.map { Int($0) }
            let rank = max(s.count, target.count)
            let ps = Array(repeating: 1, count: rank - s.count) + s
            let pt = Array(repeating: 1, count: rank - target.count) + target
            let out = zip(ps, pt).map { max($0, $1) }
            let src = ReferenceTensor(shape: ps, data: a.data, dataType: a.dataType)
            var y = ReferenceTensor(zeros: out, dataType: a.dataType)
            forEachIndex(out) { i in y[i] = src[zip(i, ps).map { $1 == 1 ? 0 : $0 }] }
            return [y]
        case let .constantOfShape(value, dataType):
            let out = a.data.map { Int($0) }
            return [ReferenceTensor(shape: out, data: Array(repeating: value, count: out.reduce(1, *)), dataType: dataType)]
        case .range:
            let (start, limit, delta) = (x[0].data[0], x[1].data[0], x[2].data[0])
            var values: [Double] = []
            var v = start
            while delta > 0 ? v < limit : v > limit { values.append(v); v += delta }
            return [ReferenceTensor(shape: [values.count], data: values, dataType: a.dataType)]
        default:
            throw Failure.unsupported("\(op)")
        }
    }
}
