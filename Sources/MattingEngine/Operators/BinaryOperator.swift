import Foundation

/// The numpy-broadcast shape of two shapes, or nil if they do not broadcast.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
    }
    return out
}

/// A broadcast iteration: `rows` rows of `inner` elements; each input advances by its
/// inner step (0 or 1) within a row, and its row offset comes from `rowDims`/strides.
struct BroadcastLayout: Sendable {
    var rowDims: [Int] = []
    var stridesA: [Int] = [], stridesB: [Int] = []
    var inner = 1, innerStepA = 1, innerStepB = 1
    var rows: Int { elementCount(rowDims) }

    init(a: [Int], b: [Int], out: [Int]) {
        let rank = out.count
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        let ca = contiguousStrides(pa), cb = contiguousStrides(pb)
        var dims: [Int] = [], sa: [Int] = [], sb: [Int] = []
        for i in 0..<rank where out[i] != 1 {
            let x = pa[i] == 1 ? 0 : ca[i], y = pb[i] == 1 ? 0 : cb[i]
            // Merge with the previous axis when both inputs walk it contiguously (or both
            // broadcast it), so the inner loop is as long as possible.
            if let last = dims.indices.last,
               (sa[last] == x * out[i]) && (sb[last] == y * out[i]) {
                dims[last] *= out[i]; sa[last] = x; sb[last] = y
            } else {
                dims.append(out[i]); sa.append(x); sb.append(y)
            }
        }
        if let n = dims.popLast() {
            inner = n
            innerStepA = sa.removeLast()
            innerStepB = sb.removeLast()
        }
        rowDims = dims; stridesA = sa; stridesB = sb
    }

    @inline(__always) func offsets(row: Int) -> (Int, Int) {
        var r = row, oa = 0, ob = 0
        var axis = rowDims.count - 1
        while axis >= 0 {
            let i = r % rowDims[axis]
            r /= rowDims[axis]
            oa += i * stridesA[axis]; ob += i * stridesB[axis]
            axis -= 1
        }
        return (oa, ob)
    }
}

/// The element-wise kernels of binary operators and PReLU.
enum BinaryKernel: Sendable {
    case add, subtract, multiply, divide, minimum, maximum, power, prelu

    init(_ op: BinaryOperator) {
        switch op {
        case .add: self = .add
        case .subtract: self = .subtract
        case .multiply: self = .multiply
        case .divide: self = .divide
        case .minimum: self = .minimum
        case .maximum: self = .maximum
        case .power: self = .power
        }
    }
}

/// A broadcast binary operator over float32 (or int64 for shape arithmetic) with a fused activation.
struct BinaryOperatorKernel: CompiledOperator {
    let kernel: BinaryKernel
    let layout: BroadcastLayout
    let activation: Activation
    let dataType: DataType

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        if dataType == .int64 { return executeInt64(io) }
        let a = io.input(0), b = io.input(1), y = io.output(0)
        let l = layout
        // Tasks cover about `chunk` elements: (row, chunk of the inner axis) so one long row
        // still spreads over threads, or a run of whole rows when rows are short (an SE
        // scale `[1,H,W,C] × [1,1,1,C]` is H·W rows of C): one task per row made the two
        // threads fight over the task counter's cache line (2 threads were 5× slower than 1).
        let chunk = 8192
        let chunksPerRow = (l.inner + chunk - 1) / chunk
        let rowsPerTask = chunksPerRow == 1 ? max(1, chunk / max(1, l.inner)) : 1
        let taskCount = chunksPerRow == 1 ? (l.rows + rowsPerTask - 1) / rowsPerTask : l.rows * chunksPerRow
        pool.parallelFor(taskCount) { task in
            if chunksPerRow == 1 {
                runRows(a, b, y, rows: task * rowsPerTask ..< min(l.rows, (task + 1) * rowsPerTask), start: 0, count: l.inner)
            } else {
                let row = task / chunksPerRow, start = (task % chunksPerRow) * chunk
                runRows(a, b, y, rows: row ..< row + 1, start: start, count: min(chunk, l.inner - start))
            }
        }
    }

    /// Elements `start ..< start + count` of output rows `rows`, then the activation. The
    /// operation is chosen once per task, not per row: an SE scale `[1,128,128,16] × [1,1,1,16]`
    /// is 16 384 rows of 16, where a per-row dispatch and offset division cost more than the
    /// multiplications.
    @inline(__always)
    private func runRows(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rows: Range<Int>, start: Int, count n: Int
    ) {
        switch kernel {
        case .add: forRows(a, b, y, rows, start, n) { $0 + $1 } _: { $0 + $1 }
        case .subtract: forRows(a, b, y, rows, start, n) { $0 - $1 } _: { $0 - $1 }
        case .multiply: forRows(a, b, y, rows, start, n) { $0 * $1 } _: { $0 * $1 }
        case .divide: forRows(a, b, y, rows, start, n) { $0 / $1 } _: { $0 / $1 }
        case .minimum: forRows(a, b, y, rows, start, n) { pointwiseMin($0, $1) } _: { Swift.min($0, $1) }
        case .maximum: forRows(a, b, y, rows, start, n) { pointwiseMax($0, $1) } _: { Swift.max($0, $1) }
        case .prelu: forRows(a, b, y, rows, start, n) { $0.replacing(with: $0 * $1, where: $0 .< 0) } _: { $0 < 0 ? $0 * $1 : $0 }
        case .power:
            let l = layout
            for row in rows {
                let (oa, ob) = l.offsets(row: row)
                let pa = a + oa + start * l.innerStepA, pb = b + ob + start * l.innerStepB, py = y + row * l.inner + start
                for i in 0..<n { py[i] = Foundation.pow(pa[i * l.innerStepA], pb[i * l.innerStepB]) }
            }
        }
        if case .identity = activation { return }
        if n == layout.inner {  // whole rows: one contiguous run of the output
            let py = y + rows.lowerBound * n
            applyActivation(activation, py, py, count: rows.count * n)
        } else {
            for row in rows {
                let py = y + row * layout.inner + start
                applyActivation(activation, py, py, count: n)
            }
        }
    }

    /// `run` over each row of `rows`; with one row axis (the common case: every broadcast of
    /// a per-channel or per-row operand) a row's offsets are a multiplication, not divisions.
    @inline(__always)
    private func forRows(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ rows: Range<Int>, _ start: Int, _ n: Int,
        _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>, _ g: (Float, Float) -> Float
    ) {
        let l = layout
        let a = a + start * l.innerStepA, b = b + start * l.innerStepB, y = y + start
        if l.rowDims.count == 1 {
            let sa = l.stridesA[0], sb = l.stridesB[0]
            for row in rows { run(a + row * sa, b + row * sb, y + row * l.inner, n, f, g) }
        } else {
            for row in rows {
                let (oa, ob) = l.offsets(row: row)
                run(a + oa, b + ob, y + row * l.inner, n, f, g)
            }
        }
    }

    @inline(__always)
    private func run(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
        _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>, _ g: (Float, Float) -> Float
    ) {
        let sa = layout.innerStepA, sb = layout.innerStepB
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ry = UnsafeMutableRawPointer(y)
        if sa == 1 && sb == 1 {
            while i + 8 <= n {
                let r = f(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                          rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
                ry.storeBytes(of: r, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
        } else if sa == 1 && sb == 0 {
            let vb = SIMD8<Float>(repeating: b[0])
            while i + 8 <= n {
                ry.storeBytes(of: f(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), vb),
                              toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
        } else if sa == 0 && sb == 1 {
            let va = SIMD8<Float>(repeating: a[0])
            while i + 8 <= n {
                ry.storeBytes(of: f(va, rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)),
                              toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
        }
        while i < n {
            y[i] = g(a[i * sa], b[i * sb])
            i += 1
        }
    }

    private func executeInt64(_ io: OperatorIO) {
        let a = io.inputs[0].assumingMemoryBound(to: Int64.self)
        let b = io.inputs[1].assumingMemoryBound(to: Int64.self)
        let y = io.outputs[0].assumingMemoryBound(to: Int64.self)
        let l = layout
        for row in 0..<l.rows {
            let (oa, ob) = l.offsets(row: row)
            for i in 0..<l.inner {
                let x = a[oa + i * l.innerStepA], z = b[ob + i * l.innerStepB]
                let r: Int64
                switch kernel {
                case .add: r = x &+ z
                case .subtract: r = x &- z
                case .multiply: r = x &* z
                case .divide: r = z == 0 ? 0 : x / z
                case .minimum: r = Swift.min(x, z)
                case .maximum: r = Swift.max(x, z)
                case .power: r = Int64(Foundation.pow(Double(x), Double(z)))
                case .prelu: r = x < 0 ? x &* z : x
                }
                y[row * l.inner + i] = r
            }
        }
    }
}
