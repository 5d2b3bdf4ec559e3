import CMattingKernels

/// The few-output-channels path shared by ``ConvolutionKernel`` (stride 1) and
/// ``TransposedConvolutionKernel`` (each phase): a segmentation head's 64 → 1 layer, say,
/// where a 16-column GEMM panel would waste 15 of its 16 columns and its per-row packing and
/// masked stores would cost more than the arithmetic.
///
/// Computes `count` output pixels of one row: pixel `j` reads input pixel
/// `(qy + dy[t], qx0 + j + dx[t])` for each tap `t` (taps outside the image are skipped, i.e.
/// zero padding) and writes `bias[oc] + Σ_t Σ_ic input · weights[grp][oc][t][ic]` to
/// `out[j · outPixelStride + grp · ocg + oc]`. Each value is summed in a fixed order for a given
/// geometry, so any thread count gives the same bits. No activation.
///
/// - Parameters:
///   - weights: `[group][oc][tap][ic]`, `groups · ocg · dy.count · icg` values.
///   - ukernel: the path's vectorised kernel, or nil for 8-lane dot products in Swift.
@inline(__always)
func dotConvolutionRow(
    image: UnsafePointer<Float>, params: UnsafePointer<mk_tconv_dot_params>, qy: Int, qx0: Int, count: Int,
    out: UnsafeMutablePointer<Float>, outPixelStride: Int, dy: UnsafeBufferPointer<Int32>, dx: UnsafeBufferPointer<Int32>,
    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, ukernel: mk_f32_tconv_dot_ukernel_fn?
) {
    if let ukernel {
        ukernel(image, params, Int32(qy), Int32(qx0), count, out, outPixelStride, dy.count, dy.baseAddress, dx.baseAddress,
                weights, bias)
        return
    }
    let p = params.pointee
    let inputHeight = Int(p.input_height), inputWidth = Int(p.input_width), C = Int(p.channels)
    let groups = Int(p.groups), icg = Int(p.group_input_channels), ocg = Int(p.group_output_channels)
    let tapCount = dy.count
    for j in 0..<count {
        let qx = qx0 + j
        for grp in 0..<groups {
            for oc in 0..<ocg {
                var sum = bias[grp * ocg + oc]
                for t in 0..<tapCount {
                    let iy = qy + Int(dy[t]), ix = qx + Int(dx[t])
                    if iy < 0 || iy >= inputHeight || ix < 0 || ix >= inputWidth { continue }
                    let a = image + (iy * inputWidth + ix) * C + grp * icg
                    let b = weights + ((grp * ocg + oc) * tapCount + t) * icg
                    sum += dot8(a, b, icg)
                }
                out[j * outPixelStride + grp * ocg + oc] = sum
            }
        }
    }
}

/// `Σ a[i]·b[i]`, 8 lanes at a time, then the tail; a fixed order for a given `count`.
@inline(__always)
private func dot8(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= count {
        acc = acc + ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var sum = acc.sum()
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// A finished row's activation, while it is in cache: `isa`'s vectorised sigmoid, else
/// `applyActivation` (the same per-element definition as the GEMM store).
@inline(__always)
func activateRow(_ activation: Activation, _ row: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA) {
    if case .sigmoid = activation {
        activation.applyPostPass(row, count: count, isa: isa)
    } else {
        applyActivation(activation, row, row, count: count)
    }
}
