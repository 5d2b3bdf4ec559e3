import Foundation

/// Maps output index `x` to an input coordinate, as ONNX `Resize` / TFLite define it.
func resizeSourceCoordinate(
    _ x: Int, transform: CoordinateTransform, scale: Float, inputLength: Int, outputLength: Int
) -> Float {
    let xf = Float(x)
    switch transform {
    case .halfPixel: return (xf + 0.5) / scale - 0.5
    case .alignCorners:
        return outputLength > 1 ? xf * Float(inputLength - 1) / Float(outputLength - 1) : 0
    case .asymmetric: return xf / scale
    case .pytorchHalfPixel: return outputLength > 1 ? (xf + 0.5) / scale - 0.5 : 0
    case .tfHalfPixelForNearest: return (xf + 0.5) / scale
    }
}

/// Output length and the scale the coordinate mapping uses, for one axis.
func resizeAxis(_ target: ResizeParameters.Target, axis: Int, input: Int) -> (output: Int, scale: Float) {
    switch target {
    case let .scales(h, w):
        let s = axis == 0 ? h : w
        return (Int((Float(input) * s).rounded(.down)), s)
    case let .size(h, w):
        let o = axis == 0 ? h : w
        return (o, Float(o) / Float(input))
    case .sizeFromInput, .scalesFromInput:
        // Lowering replaces these with `.size` / `.scales` before building taps.
        preconditionFailure("resize target must be resolved before building taps")
    }
}

/// Per output index along one axis: the two source indices and the weight of the second.
struct ResizeTaps: Sendable {
    var first: [Int] = [], second: [Int] = [], weight: [Float] = []

    init(parameters p: ResizeParameters, axis: Int, input: Int) {
        let (out, scale) = resizeAxis(p.target, axis: axis, input: input)
        for i in 0..<out {
            let c = resizeSourceCoordinate(i, transform: p.coordinateTransform, scale: scale,
                                           inputLength: input, outputLength: out)
            switch p.mode {
            case .bilinear:
                let cc = Swift.min(Swift.max(c, 0), Float(input - 1))
                let i0 = Int(cc.rounded(.down))
                first.append(i0); second.append(Swift.min(i0 + 1, input - 1)); weight.append(cc - Float(i0))
            case let .nearest(rounding):
                let r: Float
                switch rounding {
                case .roundPreferFloor: r = (c - 0.5).rounded(.up)
                case .roundPreferCeil: r = (c + 0.5).rounded(.down)
                case .floor: r = c.rounded(.down)
                case .ceil: r = c.rounded(.up)
                }
                let idx = Swift.min(Swift.max(Int(r), 0), input - 1)
                first.append(idx); second.append(idx); weight.append(0)
            }
        }
    }
}

/// Bilinear or nearest resize over NHWC using precomputed taps; tasks are runs of output rows.
struct ResizeOperator: CompiledOperator {
    let batch: Int, inputHeight: Int, inputWidth: Int, channels: Int
    let rows: ResizeTaps, columns: ResizeTaps
    let bilinear: Bool

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let outH = rows.first.count, outW = columns.first.count, c = channels
        parallelRowRuns(batch * outH, pool: pool) { tasks in
          for task in tasks {
            let n = task / outH, oy = task % outH
            let r0 = x + (n * inputHeight + rows.first[oy]) * inputWidth * c
            let r1 = x + (n * inputHeight + rows.second[oy]) * inputWidth * c
            let wy = rows.weight[oy]
            let outRow = y + (n * outH + oy) * outW * c
            for ox in 0..<outW {
                let out = outRow + ox * c
                let c0 = columns.first[ox] * c
                if !bilinear {
                    out.update(from: r0 + c0, count: c)
                    continue
                }
                let c1 = columns.second[ox] * c, wx = columns.weight[ox]
                let a = r0 + c0, b = r0 + c1, d = r1 + c0, e = r1 + c1
                var ch = 0
                let vwx = SIMD8<Float>(repeating: wx), vwy = SIMD8<Float>(repeating: wy)
                while ch + 8 <= c {
                    let va = UnsafeRawPointer(a + ch).loadUnaligned(as: SIMD8<Float>.self)
                    let vb = UnsafeRawPointer(b + ch).loadUnaligned(as: SIMD8<Float>.self)
                    let vd = UnsafeRawPointer(d + ch).loadUnaligned(as: SIMD8<Float>.self)
                    let ve = UnsafeRawPointer(e + ch).loadUnaligned(as: SIMD8<Float>.self)
                    let top = va + (vb - va) * vwx, bottom = vd + (ve - vd) * vwx
                    UnsafeMutableRawPointer(out + ch).storeBytes(of: top + (bottom - top) * vwy, as: SIMD8<Float>.self)
                    ch += 8
                }
                while ch < c {
                    let top = a[ch] + (b[ch] - a[ch]) * wx, bottom = d[ch] + (e[ch] - d[ch]) * wx
                    out[ch] = top + (bottom - top) * wy
                    ch += 1
                }
            }
          }
        }
    }
}
