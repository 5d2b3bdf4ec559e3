import Foundation
import MattingEngine
import MattingImage
import MattingImporters
import MattingThreads

/// One person found by MediaPipe's pose detector, in the photo's normalised coordinates
/// (0…1 across its width and down its height).
package struct PersonDetection: Sendable {
    /// The detector's confidence, 0…1.
    package var score: Float
    /// The detector's box, meant for the face (`(x, y)` its top-left corner, then its width and
    /// height); on real photos it sits loosely between the face and the shoulders.
    package var face: (x: Float, y: Float, width: Float, height: Float)
    /// The detector's four keypoints as `(x, y)`: the hips' midpoint, a point on the circle
    /// that holds the whole body around it, the shoulders' midpoint, and a point on the
    /// circle that holds the upper body around that.
    package var keypoints: [(x: Float, y: Float)]

    /// The whole body's circle in pixels of a `width`×`height` photo: around the hips, through
    /// the second keypoint. MediaPipe's own region for the body's landmarks is this circle's
    /// square, 1.25 times as wide.
    package func bodyCircle(width: Int, height: Int) -> (x: Float, y: Float, radius: Float) {
        let w = Float(width), h = Float(height)
        let cx = keypoints[0].x * w, cy = keypoints[0].y * h
        let dx = keypoints[1].x * w - cx, dy = keypoints[1].y * h - cy
        return (cx, cy, (dx * dx + dy * dy).squareRoot())
    }

    /// Whether pixel `(x, y)` of a `width`×`height` photo is within this person's reach: the
    /// whole-body or upper-body circle widened by a quarter (MediaPipe's own margin for the
    /// body's region). The detector's box is not used: on real photos it sits loosely between
    /// the face and the shoulders (MediaPipe's pose pipeline uses the keypoints only).
    package func reaches(x: Float, y: Float, width: Int, height: Int) -> Bool {
        let w = Float(width), h = Float(height)
        func inside(_ centre: (x: Float, y: Float), _ edge: (x: Float, y: Float)) -> Bool {
            let cx = centre.x * w, cy = centre.y * h
            let r2 = ((edge.x * w - cx) * (edge.x * w - cx) + (edge.y * h - cy) * (edge.y * h - cy)) * 1.5625
            return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r2
        }
        return inside(keypoints[0], keypoints[1]) || inside(keypoints[2], keypoints[3])
    }
}

/// Finds the people in a photo with MediaPipe's pose detector (BlazePose's detector, the
/// `pose_detection.tflite` that `Scripts/fetch-models.sh` installs beside the selfie model).
///
/// The photo is letterboxed into the network's 224×224 square (scaled to fit, centred,
/// the rest zero in the network's −1…1 range); the 2254 anchors' raw boxes and scores are
/// decoded as MediaPipe's pose-detection graph decodes them (SSD anchors of strides 8, 16
/// and 32 with fixed size, sigmoid scores clipped at ±100, a minimum score, weighted
/// non-maximum suppression at IoU 0.3) and mapped back to the photo (``SSDDetector``).
package final class PersonDetector: Sendable {
    /// The network's side.
    package static let inputSize = 224
    /// The model file's name in ``DefaultModel/directory``.
    package static let fileName = "pose_detection.tflite"
    /// The anchors: strides 8 and 16 with two anchors a cell, then the three layers of stride
    /// 32 merged, six a cell (MediaPipe's `pose_detection_cpu` graph); four keypoints.
    static let layout = SSDLayout(side: inputSize, groups: [(8, 2), (16, 2), (32, 6)], keypointCount: 4)

    let core: SSDDetector

    /// Loads and compiles the detector. Detections scoring below 0.5 are dropped (MediaPipe's
    /// graph).
    ///
    /// - Throws: ``MattingError/modelMissing(path:)`` if the file is not installed, or
    ///   ``MattingError/modelFailed(file:reason:)`` if it is not the pose detector.
    package init(contentsOf url: URL? = nil, pool: ThreadPool = .serial) throws {
        core = try SSDDetector(
            contentsOf: try url ?? DefaultModel.url(fileName: Self.fileName), layout: Self.layout,
            minimumScore: 0.5, modelName: "MediaPipe's pose detector", pool: pool)
    }

    /// The people in `image`, best first.
    package func people(in image: Image, pool: ThreadPool = .serial) throws -> [PersonDetection] {
        try core.detections(in: image, pool: pool).map(PersonDetection.init)
    }

    /// The people in `image`, looked for in the whole photo and, when it is not square, in
    /// three squares of its short side along its long side (start, middle, end); the
    /// detections are merged by the same weighted suppression, in the photo's coordinates.
    ///
    /// Why: the detector letterboxes the photo into 224×224 and, like MediaPipe's pose graph,
    /// is made to find one main person; in a wide photo of two people it found one (the
    /// touchline photo of the quality set) and found the other in a square around them.
    package func peopleInSquares(of image: Image, pool: ThreadPool = .serial) throws -> [PersonDetection] {
        try core.detectionsInSquares(of: image, pool: pool).map(PersonDetection.init)
    }
}

extension PersonDetection {
    /// A decoded detection read as a person: its box and four keypoints.
    init(_ raw: SSDDetection) {
        self.init(score: raw.score, face: raw.box, keypoints: raw.keypoints)
    }
}

// MARK: MediaPipe's SSD detectors (pose and face): pre- and post-processing

/// One detection of an SSD detector: a box (`(x, y)` its top-left corner, then its width and
/// height) and keypoints, in normalised coordinates (of the network's square while decoding,
/// of the photo once mapped back).
struct SSDDetection: Sendable {
    var score: Float
    var box: (x: Float, y: Float, width: Float, height: Float)
    var keypoints: [(x: Float, y: Float)]
}

/// How an SSD detector's outputs are laid out: the square input's side, the anchors' feature
/// maps and the number of keypoints a detection carries.
struct SSDLayout: Sendable {
    /// The network's input side.
    let side: Int
    /// The feature maps in output order: a stride, and the anchors a cell (layers of equal
    /// stride merged, as MediaPipe's `SsdAnchorsCalculator` does).
    let groups: [(stride: Int, perCell: Int)]
    /// Keypoints a detection carries after its box.
    let keypointCount: Int
    /// The anchors' centres in network-normalised coordinates, in the network's output order:
    /// per feature map, per cell in row order, `perCell` times. The anchors have fixed size
    /// (`fixed_anchor_size`), so only their centres matter.
    let anchors: [(x: Float, y: Float)]

    init(side: Int, groups: [(stride: Int, perCell: Int)], keypointCount: Int) {
        self.side = side
        self.groups = groups
        self.keypointCount = keypointCount
        var anchors: [(x: Float, y: Float)] = []
        for (stride, perCell) in groups {
            let cells = (side + stride - 1) / stride
            for y in 0..<cells {
                for x in 0..<cells {
                    for _ in 0..<perCell { anchors.append(((Float(x) + 0.5) / Float(cells), (Float(y) + 0.5) / Float(cells))) }
                }
            }
        }
        self.anchors = anchors
    }

    /// Values a detection's row holds: centre, size, then the keypoints' `(x, y)`.
    var valuesPerAnchor: Int { 4 + 2 * keypointCount }
}

/// One of MediaPipe's SSD detectors (the pose detector, the face detectors): the model
/// compiled once, the photo letterboxed into its square, the outputs decoded, suppressed and
/// mapped back to the photo, as MediaPipe's detection graphs do.
final class SSDDetector: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`; a session is used by one call at a time.
    let layout: SSDLayout
    let fileName: String
    let graph: CompiledGraph
    let inputName: String
    let boxesName: String, scoresName: String
    /// Detections scoring below this are dropped.
    let minimumScore: Float
    private let lock = NSLock()
    private var idle: [Session] = []

    /// Loads and compiles the model at `url`, checked to have `layout`'s input and outputs.
    ///
    /// - Throws: ``MattingError/modelMissing(path:)`` if the file is not installed, or
    ///   ``MattingError/modelFailed(file:reason:)`` naming `modelName` if it is not that model.
    init(contentsOf url: URL, layout: SSDLayout, minimumScore: Float, modelName: String, pool: ThreadPool) throws {
        let name = url.lastPathComponent
        self.layout = layout
        self.fileName = name
        self.minimumScore = minimumScore
        let side = layout.side
        do {
            let model = try Model(contentsOf: url)
            guard model.inputs.count == 1, model.outputs.count == 2,
                  model.inputs[0].shape == [1, side, side, 3] else {
                throw MattingError.modelFailed(file: name, reason: "not \(modelName) (input \(model.inputs.map(\.shape)))")
            }
            inputName = model.inputs[0].name
            // The boxes [1, anchors, values] and the scores [1, anchors, 1].
            let count = layout.anchors.count
            guard let boxes = model.outputs.first(where: { $0.shape == [1, count, layout.valuesPerAnchor] }),
                  let scores = model.outputs.first(where: { $0.shape == [1, count, 1] }) else {
                throw MattingError.modelFailed(file: name, reason: "not \(modelName) (outputs \(model.outputs.map(\.shape)))")
            }
            boxesName = boxes.name
            scoresName = scores.name
            graph = try model.graph.compile(inputShapes: [inputName: [1, side, side, 3]], pool: pool)
        } catch let error as MattingError {
            throw error
        } catch {
            throw MattingError.modelFailed(file: name, reason: "\(error)")
        }
    }

    /// The detections in `image`, best first, in its normalised coordinates.
    func detections(in image: Image, pool: ThreadPool) throws -> [SSDDetection] {
        guard !image.isEmpty else { return [] }
        let (tensor, letterbox) = Self.inputTensor(for: image, side: layout.side, pool: pool)
        let session = lock.withLock { idle.popLast() } ?? graph.makeSession()
        defer { lock.withLock { idle.append(session) } }
        let outputs = try session.run([inputName: tensor])
        guard let boxes = outputs[boxesName], let scores = outputs[scoresName] else {
            throw MattingError.modelFailed(file: fileName, reason: "the run produced no boxes or scores")
        }
        let raw = Self.decode(boxes: boxes.floats, scores: scores.floats, layout: layout, minimumScore: minimumScore)
        return Self.suppressed(raw).map { letterbox.toPhoto($0) }
    }

    /// The detections in the whole of `image` and, when it is not square, in three squares of
    /// its short side along its long side (start, middle, end), merged by the same weighted
    /// suppression, in the photo's normalised coordinates. The detectors letterbox the photo
    /// into their small square, so a wide photo's people are small in it; a square gives
    /// them the whole input.
    func detectionsInSquares(of image: Image, pool: ThreadPool) throws -> [SSDDetection] {
        var found = try detections(in: image, pool: pool)
        let width = image.width, height = image.height, side = min(width, height)
        guard side > 0, side < max(width, height) else { return found }
        let long = max(width, height)
        for start in Set([0, (long - side) / 2, long - side]).sorted() {
            let rect = width > height
                ? ImageRect(x: start, y: 0, width: side, height: side) : ImageRect(x: 0, y: start, width: side, height: side)
            let w = Float(width), h = Float(height), s = Float(side)
            func toPhoto(_ p: (x: Float, y: Float)) -> (x: Float, y: Float) {
                ((p.x * s + Float(rect.x)) / w, (p.y * s + Float(rect.y)) / h)
            }
            for d in try detections(in: image.cropped(to: rect), pool: pool) {
                let corner = toPhoto((d.box.x, d.box.y))
                found.append(SSDDetection(
                    score: d.score, box: (corner.x, corner.y, d.box.width * s / w, d.box.height * s / h),
                    keypoints: d.keypoints.map(toPhoto)))
            }
        }
        return Self.suppressed(found)
    }

    /// Where the photo sits in the network's square: `scale` network pixels per photo pixel,
    /// offset by `(x, y)` network pixels.
    struct Letterbox {
        var side: Float, scale: Float, x: Float, y: Float, photoWidth: Float, photoHeight: Float

        /// A detection in network-normalised coordinates as photo-normalised ones.
        func toPhoto(_ d: SSDDetection) -> SSDDetection {
            func point(_ p: (x: Float, y: Float)) -> (x: Float, y: Float) {
                ((p.x * side - x) / scale / photoWidth, (p.y * side - y) / scale / photoHeight)
            }
            let corner = point((d.box.x, d.box.y))
            let size = (d.box.width * side / scale / photoWidth, d.box.height * side / scale / photoHeight)
            return SSDDetection(score: d.score, box: (corner.x, corner.y, size.0, size.1), keypoints: d.keypoints.map(point))
        }
    }

    /// The network's input: the photo scaled to fit `side`×`side` (area filter), centred, as
    /// level / 127.5 − 1, and zero around it (MediaPipe's `keep_aspect_ratio`, `BORDER_ZERO`,
    /// range −1…1).
    static func inputTensor(for image: Image, side: Int, pool: ThreadPool) -> (Tensor, Letterbox) {
        let rgb = image.converted(to: .rgb)
        let scale = Float(side) / Float(max(rgb.width, rgb.height))
        let w = max(1, min(side, Int((Float(rgb.width) * scale).rounded())))
        let h = max(1, min(side, Int((Float(rgb.height) * scale).rounded())))
        let x0 = (side - w) / 2, y0 = (side - h) / 2
        let small = rgb.resized(width: w, height: h, filter: .area, pool: pool)
        var values = [Float](repeating: 0, count: side * side * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { values[((y0 + y) * side + x0 + x) * 3 + c] = Float(small[x, y, c]) / 127.5 - 1 }
            }
        }
        let letterbox = Letterbox(
            side: Float(side), scale: scale, x: Float(x0), y: Float(y0), photoWidth: Float(rgb.width), photoHeight: Float(rgb.height))
        return (Tensor(shape: [1, side, side, 3], floats: values), letterbox)
    }

    /// Raw outputs to detections in network-normalised coordinates: per anchor, the box's
    /// centre offset, width and height, then the keypoints' offsets, all in network pixels
    /// (MediaPipe's `reverse_output_order`, scales = the side), and one score logit (sigmoid,
    /// clipped at ±100).
    static func decode(boxes: [Float], scores: [Float], layout: SSDLayout, minimumScore: Float) -> [SSDDetection] {
        let count = layout.anchors.count, stride = layout.valuesPerAnchor
        guard boxes.count == count * stride, scores.count == count else { return [] }
        let side = Float(layout.side)
        var result: [SSDDetection] = []
        for i in 0..<count {
            let logit = min(max(scores[i], -100), 100)
            let score = 1 / (1 + Float(Foundation.exp(Double(-logit))))
            guard score >= minimumScore else { continue }
            let r = boxes[(i * stride)..<(i * stride + stride)].map { $0 / side }
            let base = r.startIndex, anchor = layout.anchors[i]
            let cx = r[base] + anchor.x, cy = r[base + 1] + anchor.y, w = r[base + 2], h = r[base + 3]
            let keypoints = (0..<layout.keypointCount).map { k in (x: r[base + 4 + 2 * k] + anchor.x, y: r[base + 5 + 2 * k] + anchor.y) }
            result.append(SSDDetection(score: score, box: (cx - w / 2, cy - h / 2, w, h), keypoints: keypoints))
        }
        return result
    }

    /// Weighted non-maximum suppression (MediaPipe's `WEIGHTED`): the best remaining detection
    /// and every other one overlapping its box by IoU > 0.3 are averaged, weighted by score,
    /// into one that keeps the best score.
    static func suppressed(_ detections: [SSDDetection], threshold: Float = 0.3) -> [SSDDetection] {
        var remaining = detections.sorted { $0.score > $1.score }
        var result: [SSDDetection] = []
        while let best = remaining.first {
            let cluster = remaining.filter { iou(best.box, $0.box) > threshold }
            remaining.removeAll { iou(best.box, $0.box) > threshold }
            if cluster.isEmpty { remaining.removeFirst(); result.append(best); continue }
            let total = cluster.reduce(0) { $0 + $1.score }
            func mean(_ value: (SSDDetection) -> Float) -> Float { cluster.reduce(0) { $0 + value($1) * $1.score } / total }
            let box = (mean { $0.box.x }, mean { $0.box.y }, mean { $0.box.width }, mean { $0.box.height })
            let keypoints = best.keypoints.indices.map { k in (x: mean { $0.keypoints[k].x }, y: mean { $0.keypoints[k].y }) }
            result.append(SSDDetection(score: best.score, box: box, keypoints: keypoints))
        }
        return result
    }

    static func iou(_ a: (x: Float, y: Float, width: Float, height: Float), _ b: (x: Float, y: Float, width: Float, height: Float)) -> Float {
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        guard w > 0, h > 0 else { return 0 }
        let intersection = w * h
        return intersection / (a.width * a.height + b.width * b.height - intersection)
    }
}

extension PersonDetector {
    /// `alpha` with every region that belongs to no detected person cleared.
    ///
    /// Regions are the 8-connected components of `alpha > 0.1` (so a region's soft rim goes
    /// with it). A region is kept when at least half of its confident pixels (`alpha ≥ 0.5`)
    /// are within some person's reach (``PersonDetection/reaches(x:y:width:height:)``, or the
    /// body a detected face implies, ``FaceDetection/reaches(x:y:width:height:)``), and
    /// cleared otherwise, with the faint rim around it (three pixels): a statue, a flag or a
    /// bush beside the people that the segmenter took for part of them, as long as it is not
    /// joined to them. With no people and no faces, `alpha` is returned unchanged.
    ///
    /// `alpha` may be stretched over the photo (a network's 256×256 output of a 1200×1800
    /// photo): `photoWidth` and `photoHeight` (default: the alpha's own) give the photo's
    /// proportions, so that reach is measured in the photo's pixels.
    package static func keepingPeople(
        _ alpha: FloatImage, people: [PersonDetection], faces: [FaceDetection] = [], photoWidth: Int? = nil,
        photoHeight: Int? = nil
    ) -> FloatImage {
        guard !people.isEmpty || !faces.isEmpty, !alpha.isEmpty else { return alpha }
        let width = alpha.width, height = alpha.height
        let photoWidth = photoWidth ?? width, photoHeight = photoHeight ?? height
        let sx = Float(photoWidth) / Float(width), sy = Float(photoHeight) / Float(height)
        var label = [Int32](repeating: -1, count: width * height)
        var confident: [Int] = [], reached: [Int] = []
        var stack: [Int] = []
        for start in 0..<(width * height) where label[start] < 0 && alpha[start % width, start / width, 0] > 0.1 {
            let id = Int32(confident.count)
            confident.append(0)
            reached.append(0)
            label[start] = id
            stack.append(start)
            while let p = stack.popLast() {
                let x = p % width, y = p / width
                let value = alpha[x, y, 0]
                if value >= 0.5 {
                    confident[Int(id)] += 1
                    let (fx, fy) = ((Float(x) + 0.5) * sx, (Float(y) + 0.5) * sy)
                    if people.contains(where: { $0.reaches(x: fx, y: fy, width: photoWidth, height: photoHeight) })
                        || faces.contains(where: { $0.reaches(x: fx, y: fy, width: photoWidth, height: photoHeight) }) {
                        reached[Int(id)] += 1
                    }
                }
                for dy in -1...1 {
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < width, ny < height else { continue }
                        let q = ny * width + nx
                        if label[q] < 0 && alpha[nx, ny, 0] > 0.1 {
                            label[q] = id
                            stack.append(q)
                        }
                    }
                }
            }
        }
        let keep = zip(confident, reached).map { $1 * 2 >= $0 }
        guard keep.contains(false) else { return alpha }
        var result = alpha
        // Clear the dropped regions, then their faint rim (alpha ≤ 0.1, outside every region)
        // up to `rim` pixels out, breadth first, so no ghost of them is left.
        let rim = 3
        var front: [Int] = []
        var reachedRim = [Bool](repeating: false, count: width * height)
        for p in 0..<(width * height) where label[p] >= 0 && !keep[Int(label[p])] {
            result[p % width, p / width, 0] = 0
            front.append(p)
            reachedRim[p] = true
        }
        for _ in 0..<rim {
            var next: [Int] = []
            for p in front {
                let x = p % width, y = p / width
                for dy in -1...1 {
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < width, ny < height else { continue }
                        let q = ny * width + nx
                        guard !reachedRim[q], label[q] < 0 else { continue }
                        reachedRim[q] = true
                        result[nx, ny, 0] = 0
                        next.append(q)
                    }
                }
            }
            front = next
        }
        return result
    }
}
