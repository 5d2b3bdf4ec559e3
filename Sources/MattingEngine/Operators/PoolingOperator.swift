/// Resolves `Padding` for one spatial axis of a convolution-like window.
/// Returns (before, after, output size).
func resolvePadding(
    _ padding: Padding, axis: Int, input: Int, kernel: Int, stride: Int, dilation: Int, ceilMode: Bool = false
) -> (before: Int, after: Int, output: Int) {
    let effective = dilation * (kernel - 1) + 1
    if ceilMode, case let .explicit(top, left, bottom, right) = padding {
        let (b, a) = axis == 0 ? (top, bottom) : (left, right)
        let span = input + b + a - effective
        if span < 0 { return (b, a, 0) }
        var out = (span + stride - 1) / stride + 1
        // The last window must start inside the input or its leading padding.
        if (out - 1) * stride >= input + b { out -= 1 }
        return (b, a, out)
    }
    if ceilMode, padding == .valid {
        return resolvePadding(.explicit(top: 0, left: 0, bottom: 0, right: 0), axis: axis, input: input,
                              kernel: kernel, stride: stride, dilation: dilation, ceilMode: true)
    }
    switch padding {
    case .valid:
        return (0, 0, input >= effective ? (input - effective) / stride + 1 : 0)
    case .same, .sameLower:
        let out = (input + stride - 1) / stride
        let total = max(0, (out - 1) * stride + effective - input)
        let small = total / 2, large = total - small
        return padding == .same ? (small, large, out) : (large, small, out)
    case let .explicit(top, left, bottom, right):
        let (b, a) = axis == 0 ? (top, bottom) : (left, right)
        let padded = input + b + a
        return (b, a, padded >= effective ? (padded - effective) / stride + 1 : 0)
    }
}

/// Max or average pooling over NHWC; one task per output row, channels eight at a time.
struct PoolOperator: CompiledOperator {
    let parameters: PoolParameters
    let batch: Int, inputHeight: Int, inputWidth: Int, channels: Int
    let outputHeight: Int, outputWidth: Int
    let padTop: Int, padLeft: Int
    let padBottom: Int, padRight: Int

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let p = parameters, c = channels
        parallelRowRuns(batch * outputHeight, pool: pool) { rows in
          for row in rows {
            let n = row / outputHeight, oy = row % outputHeight
            let y0 = oy * p.strideHeight - padTop
            let ky0 = max(0, -y0), ky1 = min(p.kernelHeight, inputHeight - y0)
            for ox in 0..<outputWidth {
                let x0 = ox * p.strideWidth - padLeft
                let kx0 = max(0, -x0), kx1 = min(p.kernelWidth, inputWidth - x0)
                let out = y + ((n * outputHeight + oy) * outputWidth + ox) * c
                let inside = max(0, ky1 - ky0) * max(0, kx1 - kx0)
                if inside == 0 {
                    out.update(repeating: 0, count: c)
                    continue
                }
                let isMax = p.kind == .max
                // Accumulate eight channels in a register over the whole window, store once.
                // The maximum is a compare and blend (one `vmaxps`-like step): `pointwiseMax`'s
                // IEEE rules compile to far more. A NaN in the window is then kept only where
                // it comes first; finite inputs give the same results.
                let rowBase = x + (n * inputHeight + y0) * inputWidth * c + x0 * c
                var ch = 0
                if isMax {
                    while ch + 8 <= c {
                        var acc = SIMD8<Float>(repeating: -.infinity)
                        for ky in ky0..<ky1 {
                            for kx in kx0..<kx1 {
                                let v = UnsafeRawPointer(rowBase + (ky * inputWidth + kx) * c + ch).loadUnaligned(as: SIMD8<Float>.self)
                                acc.replace(with: v, where: v .> acc)
                            }
                        }
                        UnsafeMutableRawPointer(out + ch).storeBytes(of: acc, as: SIMD8<Float>.self)
                        ch += 8
                    }
                }
                while !isMax && ch + 8 <= c {
                    var acc = SIMD8<Float>(repeating: 0)
                    for ky in ky0..<ky1 {
                        for kx in kx0..<kx1 {
                            acc += UnsafeRawPointer(rowBase + (ky * inputWidth + kx) * c + ch).loadUnaligned(as: SIMD8<Float>.self)
                        }
                    }
                    UnsafeMutableRawPointer(out + ch).storeBytes(of: acc, as: SIMD8<Float>.self)
                    ch += 8
                }
                while ch < c {
                    var acc: Float = isMax ? -.infinity : 0
                    for ky in ky0..<ky1 {
                        for kx in kx0..<kx1 {
                            let v = rowBase[(ky * inputWidth + kx) * c + ch]
                            acc = isMax ? Swift.max(acc, v) : acc + v
                        }
                    }
                    out[ch] = acc
                    ch += 1
                }
                if !isMax {
                    let divisor = p.countIncludesPadding
                        ? (Swift.min(y0 + p.kernelHeight, inputHeight + padBottom) - y0)
                            * (Swift.min(x0 + p.kernelWidth, inputWidth + padRight) - x0)
                        : inside
                    let scale = 1 / Float(divisor)
                    for ch in 0..<c { out[ch] *= scale }
                }
            }
          }
        }
    }
}

/// Mean over H and W of NHWC (`[n, h, w, c] → [n, 1, 1, c]`); one task per (batch, channel block).
struct GlobalAveragePoolOperator: CompiledOperator {
    let batch: Int, pixels: Int, channels: Int
    static let block = 64

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let c = channels, blocks = (c + Self.block - 1) / Self.block
        let scale = 1 / Float(pixels)
        pool.parallelFor(batch * blocks) { task in
            let n = task / blocks, c0 = (task % blocks) * Self.block, c1 = min(c, c0 + Self.block)
            let out = y + n * c
            for ch in c0..<c1 { out[ch] = 0 }
            for p in 0..<pixels {
                let src = x + (n * pixels + p) * c
                for ch in c0..<c1 { out[ch] += src[ch] }
            }
            for ch in c0..<c1 { out[ch] *= scale }
        }
    }
}
