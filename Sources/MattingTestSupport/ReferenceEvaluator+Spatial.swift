import Foundation
import MattingEngine

extension ReferenceEvaluator {
    /// (before, after, output) for one axis, straight from TensorFlow's SAME/VALID definition.
    func window(_ padding: Padding, axis: Int, input: Int, kernel: Int, stride: Int, dilation: Int) -> (Int, Int, Int) {
        let k = (kernel - 1) * dilation + 1
        switch padding {
        case .valid: return (0, 0, (input - k) / stride + 1)
        case .same, .sameLower:
            let out = Int((Double(input) / Double(stride)).rounded(.up))
            let total = max(0, (out - 1) * stride + k - input)
            return padding == .same ? (total / 2, total - total / 2, out) : (total - total / 2, total / 2, out)
        case let .explicit(t, l, b, r):
            let (before, after) = axis == 0 ? (t, b) : (l, r)
            return (before, after, (input + before + after - k) / stride + 1)
        }
    }

    func convolution(_ x: [ReferenceTensor], _ p: Conv2DParameters) -> ReferenceTensor {
        let input = x[0], w = x[1]
        let (n, h, wd, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oc, kh, kw, icg) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ocg = oc / p.groups
        let (top, _, oh) = window(p.padding, axis: 0, input: h, kernel: kh, stride: p.strideHeight, dilation: p.dilationHeight)
        let (left, _, ow) = window(p.padding, axis: 1, input: wd, kernel: kw, stride: p.strideWidth, dilation: p.dilationWidth)
        _ = c
        var y = ReferenceTensor(zeros: [n, oh, ow, oc])
        forEachIndex([n, oh, ow, oc]) { i in
            let (b, oy, ox, o) = (i[0], i[1], i[2], i[3])
            var s = x.count > 2 ? x[2].data[o] : 0
            let g = o / ocg
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let iy = oy * p.strideHeight - top + ky * p.dilationHeight
                    let ix = ox * p.strideWidth - left + kx * p.dilationWidth
                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                    for k in 0..<icg { s += input[[b, iy, ix, g * icg + k]] * w[[o, ky, kx, k]] }
                }
            }
            y[i] = activate(p.activation, s)
        }
        return y
    }

    /// Scatter form: every input pixel adds its weighted kernel into the output.
    func transposedConvolution(_ x: [ReferenceTensor], _ p: TransposedConv2DParameters) -> ReferenceTensor {
        let input = x[0], w = x[1]
        let (n, h, wd) = (input.shape[0], input.shape[1], input.shape[2])
        let (oc, kh, kw, icg) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ocg = oc / p.groups
        func axis(_ i: Int, _ k: Int, _ s: Int, _ d: Int, _ a: Int, _ extra: Int) -> (Int, Int) {
            let full = (i - 1) * s + (k - 1) * d + 1
            switch p.padding {
            case .valid: return (0, full + extra)
            case let .explicit(t, l, b, r):
                return a == 0 ? (t, full - t - b + extra) : (l, full - l - r + extra)
            case .same, .sameLower:
                let total = full - i * s
                if total < 0 { return (0, i * s + extra) }
                return (p.padding == .same ? total / 2 : total - total / 2, i * s + extra)
            }
        }
        let (top, oh) = axis(h, kh, p.strideHeight, p.dilationHeight, 0, p.outputPaddingHeight)
        let (left, ow) = axis(wd, kw, p.strideWidth, p.dilationWidth, 1, p.outputPaddingWidth)
        var y = ReferenceTensor(zeros: [n, oh, ow, oc])
        forEachIndex([n, h, wd]) { i in
            for o in 0..<oc {
                let g = o / ocg
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let oy = i[1] * p.strideHeight + ky * p.dilationHeight - top
                        let ox = i[2] * p.strideWidth + kx * p.dilationWidth - left
                        guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                        for k in 0..<icg { y[[i[0], oy, ox, o]] += input[[i[0], i[1], i[2], g * icg + k]] * w[[o, ky, kx, k]] }
                    }
                }
            }
        }
        forEachIndex(y.shape) { i in
            y[i] = activate(p.activation, y[i] + (x.count > 2 ? x[2].data[i[3]] : 0))
        }
        return y
    }

    func pool(_ x: ReferenceTensor, _ p: PoolParameters) -> ReferenceTensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var (top, bottom, oh) = window(p.padding, axis: 0, input: h, kernel: p.kernelHeight, stride: p.strideHeight, dilation: 1)
        var (left, right, ow) = window(p.padding, axis: 1, input: w, kernel: p.kernelWidth, stride: p.strideWidth, dilation: 1)
        if p.ceilMode {
            // PyTorch: out = ceil((in + pads − k) / s) + 1, minus one if the last window starts past in + padBefore.
            func ceilOut(_ i: Int, _ b: Int, _ a: Int, _ k: Int, _ s: Int) -> Int {
                var o = Int((Double(i + b + a - k) / Double(s)).rounded(.up)) + 1
                if (o - 1) * s >= i + b { o -= 1 }
                return o
            }
            oh = ceilOut(h, top, bottom, p.kernelHeight, p.strideHeight)
            ow = ceilOut(w, left, right, p.kernelWidth, p.strideWidth)
        }
        var y = ReferenceTensor(zeros: [n, oh, ow, c])
        forEachIndex(y.shape) { i in
            var values: [Double] = []
            var windowArea = 0  // window clipped to the padded input
            for ky in 0..<p.kernelHeight {
                for kx in 0..<p.kernelWidth {
                    let iy = i[1] * p.strideHeight - top + ky, ix = i[2] * p.strideWidth - left + kx
                    if iy < h + bottom && ix < w + right { windowArea += 1 }
                }
            }
            for ky in 0..<p.kernelHeight {
                for kx in 0..<p.kernelWidth {
                    let iy = i[1] * p.strideHeight - top + ky, ix = i[2] * p.strideWidth - left + kx
                    if iy >= 0, iy < h, ix >= 0, ix < w { values.append(x[[i[0], iy, ix, i[3]]]) }
                }
            }
            if values.isEmpty { return }
            switch p.kind {
            case .max: y[i] = values.max()!
            case .average:
                y[i] = values.reduce(0, +) / Double(p.countIncludesPadding ? windowArea : values.count)
            }
        }
        return y
    }

    /// ONNX Resize (and TFLite RESIZE_*), evaluated per output pixel.
    func resize(_ x: ReferenceTensor, _ p: ResizeParameters) -> ReferenceTensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func axis(_ a: Int, _ length: Int) -> (Int, Double) {
            switch p.target {
            case let .scales(sh, sw):
                let s = Double(a == 0 ? sh : sw)
                return (Int((Double(length) * s).rounded(.down)), s)
            case let .size(oh, ow):
                let o = a == 0 ? oh : ow
                return (o, Double(o) / Double(length))
            case .sizeFromInput, .scalesFromInput:
                fatalError("resolved by the caller")
            }
        }
        let (oh, sy) = axis(0, h), (ow, sx) = axis(1, w)
        func source(_ o: Int, _ scale: Double, _ inLength: Int, _ outLength: Int) -> Double {
            let o = Double(o)
            switch p.coordinateTransform {
            case .halfPixel: return (o + 0.5) / scale - 0.5
            case .alignCorners: return outLength == 1 ? 0 : o * Double(inLength - 1) / Double(outLength - 1)
            case .asymmetric: return o / scale
            case .pytorchHalfPixel: return outLength > 1 ? (o + 0.5) / scale - 0.5 : 0
            case .tfHalfPixelForNearest: return (o + 0.5) / scale
            }
        }
        var y = ReferenceTensor(zeros: [n, oh, ow, c])
        forEachIndex(y.shape) { i in
            let fy = source(i[1], sy, h, oh), fx = source(i[2], sx, w, ow)
            switch p.mode {
            case let .nearest(rounding):
                func pick(_ v: Double, _ length: Int) -> Int {
                    let r: Double
                    switch rounding {
                    case .roundPreferFloor: r = v - v.rounded(.down) == 0.5 ? v.rounded(.down) : v.rounded()
                    case .roundPreferCeil: r = v - v.rounded(.down) == 0.5 ? v.rounded(.up) : v.rounded()
                    case .floor: r = v.rounded(.down)
                    case .ceil: r = v.rounded(.up)
                    }
                    return min(max(Int(r), 0), length - 1)
                }
                y[i] = x[[i[0], pick(fy, h), pick(fx, w), i[3]]]
            case .bilinear:
                let cy = min(max(fy, 0), Double(h - 1)), cx = min(max(fx, 0), Double(w - 1))
                let y0 = Int(cy.rounded(.down)), x0 = Int(cx.rounded(.down))
                let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                let dy = cy - Double(y0), dx = cx - Double(x0)
                let v00 = x[[i[0], y0, x0, i[3]]], v01 = x[[i[0], y0, x1, i[3]]]
                let v10 = x[[i[0], y1, x0, i[3]]], v11 = x[[i[0], y1, x1, i[3]]]
                y[i] = v00 * (1 - dy) * (1 - dx) + v01 * (1 - dy) * dx + v10 * dy * (1 - dx) + v11 * dy * dx
            }
        }
        return y
    }
}
