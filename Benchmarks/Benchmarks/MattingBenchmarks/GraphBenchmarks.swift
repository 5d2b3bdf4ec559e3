import Benchmark
import MattingKit

// Engine benchmarks: a small MobileNetV3-style UNet (the shape of MediaPipe's selfie
// segmenter, narrower) compiled for 256×256 and 512×512, run on 1 and 2 threads. Compile
// time (weight packing, planning) is outside the measurement; each iteration is one
// `Session.run`. Register with `registerGraphBenchmarks()` from MattingBenchmarks.swift.
func registerGraphBenchmarks() {
    for size in [256, 512] {
        for threads in [1, 2] {
            Benchmark(
                "graph/unet \(size)x\(size) \(threads) thread\(threads == 1 ? "" : "s")",
                configuration: .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
                                     maxDuration: .seconds(10), maxIterations: 200)
            ) { benchmark in
                let graph = try benchmarkUNet(width: 16)
                let compiled = try graph.compile(inputShapes: ["input": [1, size, size, 3]], threads: threads)
                let session = compiled.makeSession()
                let input = Tensor(shape: [1, size, size, 3],
                                   floats: (0..<(size * size * 3)).map { Float(($0 * 7919) % 256) / 255 })
                var outputs: [String: Tensor] = [:]
                try session.run(["input": input], outputs: &outputs)  // warm: outputs allocated once
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    try session.run(["input": input], outputs: &outputs)
                    blackHole(outputs)
                }
            }
        }
    }
}

/// The test suite's `SmallUNet`, rebuilt here because benchmarks cannot depend on the
/// test-support target. Weights come from a fixed linear congruential sequence.
private func benchmarkUNet(width: Int) throws -> Graph {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func random() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    func w(_ o: Int, _ kh: Int, _ kw: Int, _ i: Int) -> Tensor {
        let scale = 1.7 / Float(kh * kw * i).squareRoot()
        return Tensor(shape: [o, kh, kw, i], floats: (0..<(o * kh * kw * i)).map { _ in random() * scale })
    }
    func bias(_ n: Int) -> [Float] { (0..<n).map { _ in random() * 0.1 } }
    var b = GraphBuilder()
    let c1 = width, c2 = 2 * width, c3 = 3 * width
    let x = b.input("input", shape: [1, nil, nil, 3])
    let e1 = b.depthwiseConv2d(
        b.conv2d(x, weights: w(c1, 3, 3, 3), bias: bias(c1), stride: 2, activation: .hardSwish),
        weights: w(c1, 3, 3, 1), bias: bias(c1), activation: .relu)
    let e = b.conv2d(e1, weights: w(c2, 1, 1, c1), bias: bias(c2), activation: .hardSwish)
    var e2 = b.depthwiseConv2d(e, weights: w(c2, 3, 3, 1), bias: bias(c2), stride: 2, activation: .relu)
    let squeezed = b.conv2d(b.globalAveragePool(e2), weights: w(4, 1, 1, c2), bias: bias(4), activation: .relu)
    let gate = b.conv2d(squeezed, weights: w(c2, 1, 1, 4), bias: bias(c2), activation: .hardSigmoid(alpha: 1.0 / 6, beta: 0.5))
    e2 = b.multiply(e2, gate)
    var e3 = b.depthwiseConv2d(e2, weights: w(c2, 5, 5, 1), bias: bias(c2), stride: 2, activation: .hardSwish)
    e3 = b.conv2d(e3, weights: w(c3, 1, 1, c2), bias: bias(c3), activation: .hardSwish)
    let d2 = b.add(b.transposedConv2d(e3, weights: w(c2, 2, 2, c3), bias: bias(c2), stride: 2), e2, activation: .relu)
    let h1 = b.node(.resize(ResizeParameters(mode: .bilinear, coordinateTransform: .halfPixel,
                                             target: .scales(height: 2, width: 2))), d2)
    var d1 = b.conv2d(b.concat([h1, e1], axis: -1), weights: w(c1, 3, 3, c2 + c1), bias: bias(c1), activation: .relu)
    d1 = b.averagePool(d1, size: 3, stride: 1, padding: .same)
    let mask = b.transposedConv2d(d1, weights: w(1, 2, 2, c1), bias: bias(1), stride: 2, activation: .sigmoid)
    return try b.build(outputs: ["mask": mask])
}
