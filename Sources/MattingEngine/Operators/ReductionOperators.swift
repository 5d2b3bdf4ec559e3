import Foundation

/// A reduction over arbitrary axes: each output element loops over its reduced indices.
struct ReduceOperator: CompiledOperator {
    let kind: ReduceParameters.Kind
    /// Output (kept) dimensions and their input strides.
    let keptDims: [Int], keptStrides: [Int]
    /// Reduced dimensions and their input strides.
    let reducedDims: [Int], reducedStrides: [Int]

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let outCount = elementCount(keptDims), redCount = elementCount(reducedDims)
        parallelChunks(outCount, chunk: 256, pool: pool) { range in
            for o in range {
                var base = 0, r = o
                for a in stride(from: keptDims.count - 1, through: 0, by: -1) {
                    base += (r % keptDims[a]) * keptStrides[a]; r /= keptDims[a]
                }
                var acc: Float = kind == .max ? -.infinity : (kind == .min ? .infinity : 0)
                for k in 0..<redCount {
                    var off = base, q = k
                    for a in stride(from: reducedDims.count - 1, through: 0, by: -1) {
                        off += (q % reducedDims[a]) * reducedStrides[a]; q /= reducedDims[a]
                    }
                    let v = x[off]
                    switch kind {
                    case .mean, .sum: acc += v
                    case .max: acc = Swift.max(acc, v)
                    case .min: acc = Swift.min(acc, v)
                    }
                }
                y[o] = kind == .mean ? acc / Float(redCount) : acc
            }
        }
    }
}

/// Softmax along one axis, as `[outer, axis, inner]`; one task per outer index. Along the
/// last axis (`inner == 1`, what transformers use) rows are contiguous: tasks take runs of
/// rows (about 8192 values each) and each row runs on ``KernelISA/softmaxMicrokernel``, as
/// attention's score rows do.
struct SoftmaxOperator: CompiledOperator {
    let outer: Int, axis: Int, inner: Int
    var isa: KernelISA = .current
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        if inner == 1 {
            let axis = self.axis, outer = self.outer, softmax = isa.softmaxMicrokernel
            let rowsPerTask = max(1, 8192 / max(axis, 1))
            pool.parallelFor((outer + rowsPerTask - 1) / rowsPerTask) { t in
                for o in (t * rowsPerTask)..<min(outer, (t + 1) * rowsPerTask) {
                    let xr = x + o * axis, yr = y + o * axis
                    if xr != UnsafePointer(yr) { yr.update(from: xr, count: axis) }
                    let inverse = 1 / softmax(axis, 1, yr)
                    for k in 0..<axis { yr[k] = yr[k] * inverse }
                }
            }
            return
        }
        pool.parallelFor(outer) { o in
            for i in 0..<inner {
                let base = o * axis * inner + i
                var m = -Float.infinity
                for k in 0..<axis { m = Swift.max(m, x[base + k * inner]) }
                var sum: Float = 0
                for k in 0..<axis {
                    let e = Foundation.exp(x[base + k * inner] - m)
                    y[base + k * inner] = e
                    sum += e
                }
                let s = 1 / sum
                for k in 0..<axis { y[base + k * inner] *= s }
            }
        }
    }
}
