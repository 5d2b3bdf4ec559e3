import MattingImage

extension ModelSegmenter {
    /// How a ``ModelSegmenter`` turns a photo into the model's input tensor and the model's
    /// output into a coarse alpha.
    ///
    /// Every field is a plain value, so a configuration can be copied, compared and adjusted:
    ///
    /// ```swift
    /// var configuration = ModelSegmenter.Configuration.modnet
    /// configuration.inputSize = .shortSide(384, multipleOf: 32)   // faster, coarser
    /// let segmenter = try ModelSegmenter(contentsOf: modnetURL, configuration: configuration)
    /// ```
    ///
    /// The presets (``modnet``, ``u2net``, ``isnet``, ``bshm``, ``selfie``) reproduce what each
    /// model's reference code does; `Docs/BringYourOwnModel.md` lists the sources.
    ///
    /// The input tensor is, for tensor channel `c` of pixel value `v` (0…255):
    /// `(v · s − mean[c]) / std[c]`, where `s` is ``Normalization/scale`` (a constant, or
    /// 1 / the largest value in the resized image), computed in double precision and
    /// rounded once to `Float`.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The network input size for a photo.
        ///
        /// A model that declares a static height and width in its file always runs at that
        /// size (a ``fixed(width:height:)`` policy must then name the same size); the policy
        /// chooses the size only for models with free (symbolic) height and width.
        public enum InputSize: Sendable, Hashable, Codable {
            /// Exactly `width × height`; the photo is stretched unless
            /// ``Configuration/keepsAspectRatio`` letterboxes it.
            case fixed(width: Int, height: Int)
            /// The shorter side scaled to `target` (up or down), the other side in proportion
            /// (truncated), each side then rounded down to a multiple of `multipleOf` (at
            /// least one multiple).
            case shortSide(Int, multipleOf: Int)
            /// The longer side scaled to `target`, the other in proportion, both rounded down
            /// to a multiple of `multipleOf` (at least one multiple).
            case longSide(Int, multipleOf: Int)
            /// MODNet's reference rule: if the longer side is below `target` or the shorter
            /// side above it, the shorter side is scaled to `target` (as ``shortSide(_:multipleOf:)``);
            /// otherwise the size is kept. Then each side is rounded down to a multiple of
            /// `multipleOf`.
            case reference(Int, multipleOf: Int)

            /// The input size for a `width × height` photo (each side at least 1).
            public func size(forWidth width: Int, height: Int) -> (width: Int, height: Int) {
                let width = max(1, width), height = max(1, height)
                func floored(_ side: Int, _ multiple: Int) -> Int {
                    let m = max(1, multiple)
                    return max(m, side - side % m)
                }
                // Proportional side truncated, as the reference scripts do with `int(...)`.
                func scaledShort(_ target: Int) -> (Int, Int) {
                    width <= height
                        ? (target, Int(Double(height) / Double(width) * Double(target)))
                        : (Int(Double(width) / Double(height) * Double(target)), target)
                }
                switch self {
                case let .fixed(w, h):
                    return (max(1, w), max(1, h))
                case let .shortSide(target, multiple):
                    let (w, h) = scaledShort(max(1, target))
                    return (floored(w, multiple), floored(h, multiple))
                case let .longSide(target, multiple):
                    let t = max(1, target)
                    let (w, h) = width >= height
                        ? (t, Int(Double(height) / Double(width) * Double(t)))
                        : (Int(Double(width) / Double(height) * Double(t)), t)
                    return (floored(w, multiple), floored(h, multiple))
                case let .reference(target, multiple):
                    let t = max(1, target)
                    var (w, h) = (width, height)
                    if max(width, height) < t || min(width, height) > t { (w, h) = scaledShort(t) }
                    return (floored(w, multiple), floored(h, multiple))
                }
            }
        }

        /// How the input tensor is laid out.
        public enum TensorLayout: Sendable, Hashable, Codable {
            /// `1 × 3 × H × W` (ONNX exports from PyTorch).
            case nchw
            /// `1 × H × W × 3` (TensorFlow, TFLite).
            case nhwc
            /// `H × W × 3`, no batch axis (some TensorFlow exports, e.g. BSHM's).
            case hwc

            var rank: Int { self == .hwc ? 3 : 4 }
            var channelsFirst: Bool { self == .nchw }
        }

        /// The order of the colour channels in the tensor.
        public enum ChannelOrder: Sendable, Hashable, Codable {
            case rgb
            /// Blue, green, red: what OpenCV's `imread` gives a Python script.
            case bgr
        }

        /// How 8-bit pixel values become tensor values: `(v · scale − mean[c]) / std[c]`.
        public struct Normalization: Sendable, Hashable, Codable {
            /// The factor applied to 0…255 pixel values before mean and std.
            public enum Scale: Sendable, Hashable, Codable {
                /// A constant factor: `1/255` for 0…1 inputs, `1` for 0…255.
                case constant(Double)
                /// `1 / max` where `max` is the largest component (any channel) of the resized
                /// image, as U²-Net's `ToTensorLab` does (an all-black image uses `1/1`).
                case imageMaximum
            }

            /// The factor applied to pixel values.
            public var scale: Scale
            /// Subtracted per tensor channel, after scaling (three values, tensor channel order).
            public var mean: [Double]
            /// Divides per tensor channel, after subtracting the mean (three non-zero values).
            public var std: [Double]

            /// - Parameters:
            ///   - scale: the factor on 0…255 values.
            ///   - mean: three per-channel means in tensor channel order (default zeros).
            ///   - std: three per-channel standard deviations (default ones).
            public init(scale: Scale, mean: [Double] = [0, 0, 0], std: [Double] = [1, 1, 1]) {
                self.scale = scale
                self.mean = mean
                self.std = std
            }

            /// 0…1 (`v / 255`).
            public static let unit = Normalization(scale: .constant(1.0 / 255))
            /// −1…1 (`(v / 255 − 0.5) / 0.5`, i.e. `(v − 127.5) / 127.5`): MODNet.
            public static let symmetric = Normalization(scale: .constant(1.0 / 255), mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
            /// 0…255 unchanged.
            public static let raw = Normalization(scale: .constant(1))
            /// ImageNet mean and std on `v / 255`.
            public static let imageNet = Normalization(
                scale: .constant(1.0 / 255), mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        }

        /// Which of the model's outputs is the alpha.
        public enum OutputSelector: Sendable, Hashable, Codable {
            /// The output with this name.
            case name(String)
            /// The output at this position in the order the file declares them (what
            /// onnxruntime's `session.get_outputs()` lists).
            case index(Int)
        }

        /// What is applied to the chosen output channel before it is clamped to 0…1.
        public enum PostProcessing: Sendable, Hashable, Codable {
            /// The output is already an alpha in 0…1.
            case none
            /// The output is a logit: `1 / (1 + e^−x)`.
            case sigmoid
            /// `(x − min) / (max − min)` over the whole output plane (U²-Net's `normPRED`);
            /// a constant plane becomes 0.
            case minMaxNormalized
            /// `x · factor` (e.g. `1/255` for a model that outputs 0…255).
            case scaled(by: Double)
        }

        /// The network input size policy.
        public var inputSize: InputSize
        /// The filter that resizes the photo to the input size.
        public var resamplingFilter: ResamplingFilter
        /// For ``InputSize/fixed(width:height:)`` only: `true` letterboxes the photo (scaled to
        /// fit, centred on black, the output cropped back); `false` stretches it.
        public var keepsAspectRatio: Bool
        /// The input tensor's layout.
        public var layout: TensorLayout
        /// The tensor's colour channel order.
        public var channelOrder: ChannelOrder
        /// Pixel value normalisation.
        public var normalization: Normalization
        /// The output that holds the alpha.
        public var output: OutputSelector
        /// The channel of that output holding the alpha (0 for single-channel outputs).
        public var outputChannel: Int
        /// What turns the output into alpha.
        public var postProcessing: PostProcessing
        /// How many compiled input sizes the segmenter keeps (at least 1; the least recently
        /// used is dropped). Each holds the model's packed weights and its sessions.
        public var maximumCachedSizes: Int

        /// A configuration; the defaults describe an NCHW RGB model with 0…1 inputs whose
        /// first output is an alpha in 0…1, run with the longer side at 512 (multiple of 32).
        public init(
            inputSize: InputSize = .longSide(512, multipleOf: 32),
            resamplingFilter: ResamplingFilter = .area,
            keepsAspectRatio: Bool = false,
            layout: TensorLayout = .nchw,
            channelOrder: ChannelOrder = .rgb,
            normalization: Normalization = .unit,
            output: OutputSelector = .index(0),
            outputChannel: Int = 0,
            postProcessing: PostProcessing = .none,
            maximumCachedSizes: Int = 4
        ) {
            self.inputSize = inputSize
            self.resamplingFilter = resamplingFilter
            self.keepsAspectRatio = keepsAspectRatio
            self.layout = layout
            self.channelOrder = channelOrder
            self.normalization = normalization
            self.output = output
            self.outputChannel = outputChannel
            self.postProcessing = postProcessing
            self.maximumCachedSizes = maximumCachedSizes
        }

        /// MODNet (ZHKKKe/MODNet `onnx/inference_onnx.py`): RGB, `(v − 127.5) / 127.5`,
        /// NCHW with free height and width, the reference-size rule with 512 and multiples of
        /// 32, OpenCV `INTER_AREA` resizing; the single output `1×1×H×W` is already a sigmoid.
        public static let modnet = Configuration(
            inputSize: .reference(512, multipleOf: 32), resamplingFilter: .area, layout: .nchw,
            normalization: .symmetric, output: .index(0), postProcessing: .none)

        /// U²-Net and U²-Netp (xuebinqin/U-2-Net `data_loader.py`, `u2net_test.py`): stretched
        /// to 320×320, divided by the image's largest value, ImageNet mean/std; of the seven
        /// sigmoid outputs the first (the fused `d0`) is used, min-max normalised (`normPRED`).
        /// The reference resizes with scikit-image (bilinear with antialiasing); Lanczos is the
        /// nearest antialiased filter here.
        public static let u2net = Configuration(
            inputSize: .fixed(width: 320, height: 320), resamplingFilter: .lanczos3, layout: .nchw,
            normalization: Normalization(scale: .imageMaximum, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
            output: .index(0), postProcessing: .minMaxNormalized)

        /// IS-Net / DIS (xuebinqin/DIS `IS-Net/Inference.py`): stretched to 1024×1024 with
        /// bilinear interpolation (no antialiasing), `v / 255 − 0.5` (mean 0.5, std 1); the first
        /// of the six sigmoid outputs, min-max normalised.
        public static let isnet = Configuration(
            inputSize: .fixed(width: 1024, height: 1024), resamplingFilter: .bilinear, layout: .nchw,
            normalization: Normalization(scale: .constant(1.0 / 255), mean: [0.5, 0.5, 0.5], std: [1, 1, 1]),
            output: .index(0), postProcessing: .minMaxNormalized)

        /// BiRefNet and RMBG-2.0 (Swin-transformer backbones), as rembg runs their ONNX exports:
        /// stretched to 1024×1024 with Lanczos resampling, divided by the image's largest value,
        /// ImageNet mean/std; the first output is a logit map, turned into alpha by a sigmoid.
        /// (rembg then also min-max normalises the sigmoid; for a matte that reaches both 0 and
        /// 1, as a real photo's does, that changes nothing visible.)
        public static let birefnet = Configuration(
            inputSize: .fixed(width: 1024, height: 1024), resamplingFilter: .lanczos3, layout: .nchw,
            normalization: Normalization(scale: .imageMaximum, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
            output: .index(0), postProcessing: .sigmoid)

        /// BSHM as exported from ModelScope's `cv_unet_image-matting` TensorFlow graph to ONNX:
        /// one `H×W×3` input of raw 0…255 BGR values (the graph normalises and resizes inside),
        /// one float mask in 0…255 at the input size. The photo is given with its longer side
        /// at 1024, a multiple of 32 (the network's stride).
        public static let bshm = Configuration(
            inputSize: .longSide(1024, multipleOf: 32), resamplingFilter: .area, layout: .hwc, channelOrder: .bgr,
            normalization: .raw, output: .index(0), postProcessing: .scaled(by: 1.0 / 255))

        /// MediaPipe Selfie Segmentation (the default model) through the general segmenter:
        /// 256×256 stretched, NHWC, 0…1, sigmoid output: the default model (``ModelSegmenter/defaultModel()``).
        public static let selfie = Configuration(
            inputSize: .fixed(width: 256, height: 256), resamplingFilter: .area, layout: .nhwc,
            normalization: .unit, output: .index(0), postProcessing: .none)

        /// MediaPipe's landscape selfie model: as ``selfie`` with a 256×144 input (16:9),
        /// the ``ModelSegmenter/wideVariant`` of ``ModelSegmenter/defaultModel()``.
        public static let selfieLandscape = Configuration(
            inputSize: .fixed(width: 256, height: 144), resamplingFilter: .area, layout: .nhwc,
            normalization: .unit, output: .index(0), postProcessing: .none)
    }
}
