extension Tensor {
    /// Converts a 4-D NCHW tensor (`[n, c, h, w]`, PyTorch/ONNX order) to NHWC (`[n, h, w, c]`).
    /// - Precondition: `rank == 4`.
    public func nhwcFromNCHW() -> Tensor { permuted([0, 2, 3, 1]) }

    /// Converts a 4-D NHWC tensor (`[n, h, w, c]`) to NCHW (`[n, c, h, w]`).
    /// - Precondition: `rank == 4`.
    public func nchwFromNHWC() -> Tensor { permuted([0, 3, 1, 2]) }

    /// The tensor with its axes reordered: result axis `i` is this tensor's axis `permutation[i]`.
    /// - Precondition: `permutation` is a permutation of `0..<rank`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "bad permutation \(permutation) for rank \(rank)")
        let outShape = permutation.map { shape[$0] }
        let out = Tensor(zeros: outShape, dataType: dataType)
        let inStrides = contiguousStrides(shape)
        let permutedStrides = permutation.map { inStrides[$0] }
        withUnsafeBytes { src in
            transposeBytes(
                source: src.baseAddress!, destination: out.storage.pointer, shape: outShape,
                sourceStrides: permutedStrides, elementSize: dataType.byteCount)
        }
        return out
    }
}

/// Copies `source` (read with `sourceStrides`, in elements, per output axis) into a dense
/// row-major `destination` of `shape`.
func transposeBytes(
    source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, shape: [Int],
    sourceStrides: [Int], elementSize: Int
) {
    let total = elementCount(shape)
    if total == 0 { return }
    let rank = shape.count
    if rank == 0 {
        destination.copyMemory(from: source, byteCount: elementSize)
        return
    }
    // The odometer lives on the stack: this runs inside Session.run, which must not allocate.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
        index.initialize(repeating: 0)
        let inner = shape[rank - 1], innerStride = sourceStrides[rank - 1]
        var out = destination
        var rows = total / inner
        while rows > 0 {
            var offset = 0
            for a in 0..<(rank - 1) { offset += index[a] * sourceStrides[a] }
            if elementSize == 4 {
                let s = source.assumingMemoryBound(to: UInt32.self) + offset
                let d = out.assumingMemoryBound(to: UInt32.self)
                if innerStride == 1 {
                    d.update(from: s, count: inner)
                } else {
                    for i in 0..<inner { d[i] = s[i * innerStride] }
                }
            } else {
                let s = source.assumingMemoryBound(to: UInt64.self) + offset
                let d = out.assumingMemoryBound(to: UInt64.self)
                for i in 0..<inner { d[i] = s[i * innerStride] }
            }
            out += inner * elementSize
            rows -= 1
            var a = rank - 2
            while a >= 0 {
                index[a] += 1
                if index[a] < shape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
    }
}
