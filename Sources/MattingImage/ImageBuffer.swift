/// A rectangular picture: `width × height` pixels of interleaved channels, with value semantics.
///
/// Pixels are stored row-major, channels interleaved in ``layout`` order, rows `rowStride`
/// components apart (`rowStride ≥ width × channelCount`). A crop (``cropped(to:)``) is a view
/// that shares memory with its source until either is written (copy-on-write), so cropping is
/// O(1). Two storage types exist: ``Image`` (8-bit, 0…255) and ``FloatImage`` (32-bit float,
/// nominally 0…1); `converted(to: FloatImage.self)` and `converted(to: Image.self)` move between them.
///
/// ```swift
/// var image = Image(width: 640, height: 480, layout: .rgb)
/// image[10, 20, 0] = 255                       // x, y, channel
/// let face = image.cropped(to: ImageRect(x: 100, y: 50, width: 200, height: 200))
/// ```
///
/// Values are `Sendable`; copies are cheap until one of them is mutated.
public struct ImageBuffer<Component: ImageComponent>: Sendable {
    /// Width in pixels (≥ 0).
    public let width: Int
    /// Height in pixels (≥ 0).
    public let height: Int
    /// The channel arrangement of each pixel.
    public let layout: PixelLayout
    /// Distance between the starts of two consecutive rows, in components (not bytes).
    public private(set) var rowStride: Int

    /// The ICC profile that says what the pixel values mean as colours, or `nil` (untagged,
    /// which viewers take as sRGB).
    ///
    /// Decoders set it from the file (JPEG APP2, PNG iCCP) and encoders write it back, so
    /// colours survive a decode–process–encode round trip; MattingKit never converts colours
    /// itself. Operations that keep the colour space keep the profile: crops, resizes,
    /// orientation changes, storage conversion (8-bit ↔ float), adding or dropping alpha,
    /// compositing over a background, CLAHE and sharpening. Those that change it drop it:
    /// colour ↔ gray conversion and ``channel(_:)``. Pictures made from scratch (a matte, a
    /// mask) have none. Equality (`==`) compares pixels only, not the profile. See
    /// ``ColorProfile``.
    public var colorProfile: ColorProfile?

    @usableFromInline var storage: ImageStorage<Component>
    /// Index of pixel (0, 0)'s first component in `storage`.
    @usableFromInline var offset: Int

    /// The number of interleaved channels per pixel.
    @inlinable public var channelCount: Int { layout.channelCount }
    /// `width × height`.
    @inlinable public var pixelCount: Int { width * height }
    /// Whether the picture has no pixels.
    @inlinable public var isEmpty: Bool { width == 0 || height == 0 }
    /// The components of one row that hold pixels (`width × channelCount`).
    @inlinable public var rowLength: Int { width * layout.channelCount }

    /// Creates a zero-filled picture (black, and transparent where there is alpha).
    ///
    /// - Precondition: `width ≥ 0`, `height ≥ 0`, and the size fits in memory. Callers
    ///   taking sizes from untrusted data check them first (the decoders do).
    public init(width: Int, height: Int, layout: PixelLayout) {
        self.init(width: width, height: height, layout: layout, zeroFilled: true)
    }

    /// Creates a picture whose components are not initialised: **every component must be
    /// written before the buffer is read.** For decoders and transforms that write their
    /// whole output (rows packed, `rowStride == rowLength`); saves the zero-fill pass.
    ///
    /// - Precondition: as for ``init(width:height:layout:)``.
    package init(uninitializedWidth width: Int, height: Int, layout: PixelLayout) {
        self.init(width: width, height: height, layout: layout, zeroFilled: false)
    }

    private init(width: Int, height: Int, layout: PixelLayout, zeroFilled: Bool) {
        precondition(width >= 0 && height >= 0, "image dimensions must not be negative")
        let (rowLength, o1) = width.multipliedReportingOverflow(by: layout.channelCount)
        let (count, o2) = rowLength.multipliedReportingOverflow(by: height)
        precondition(!o1 && !o2, "image dimensions overflow")
        self.width = width
        self.height = height
        self.layout = layout
        self.rowStride = rowLength
        self.offset = 0
        self.storage = zeroFilled ? ImageStorage(count: count) : ImageStorage(uninitializedCount: count)
    }

    /// Creates a picture with every channel of every pixel set to `value`.
    public init(width: Int, height: Int, layout: PixelLayout, repeating value: Component) {
        self.init(uninitializedWidth: width, height: height, layout: layout)
        storage.base.update(repeating: value, count: storage.count)
    }

    /// Creates a picture whose pixels are given per channel by `body(x, y, channel)`.
    public init(
        width: Int, height: Int, layout: PixelLayout,
        generator body: (_ x: Int, _ y: Int, _ channel: Int) throws -> Component
    ) rethrows {
        // Every component is written below (a throwing generator drops the whole buffer).
        self.init(uninitializedWidth: width, height: height, layout: layout)
        let channels = layout.channelCount
        let base = storage.base
        for y in 0..<height {
            let row = base + y * rowStride
            for x in 0..<width {
                for c in 0..<channels { row[x * channels + c] = try body(x, y, c) }
            }
        }
    }

    /// Creates a picture from tightly packed interleaved components (row-major, no padding).
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` if `components.count` is not
    ///   `width × height × layout.channelCount`.
    public init<C: Collection>(width: Int, height: Int, layout: PixelLayout, components: C) throws
    where C.Element == Component {
        guard width >= 0, height >= 0 else {
            throw ImageError.invalidArgument("negative image size \(width)×\(height)")
        }
        let expected = width.multipliedReportingOverflow(by: height * layout.channelCount)
        guard !expected.overflow, components.count == expected.partialValue else {
            throw ImageError.invalidArgument(
                "\(components.count) components do not make a \(width)×\(height) \(layout) image")
        }
        // `components.count` was checked to be the storage's size: every component is written.
        self.init(uninitializedWidth: width, height: height, layout: layout)
        _ = UnsafeMutableBufferPointer(start: storage.base, count: storage.count)
            .initialize(from: components)
    }

    // MARK: Element access

    /// The value of channel `channel` of the pixel at column `x`, row `y`.
    ///
    /// Bounds are checked with preconditions; use ``withUnsafeBufferPointer(_:)`` in hot loops.
    @inlinable public subscript(x: Int, y: Int, channel: Int) -> Component {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) is outside \(width)×\(height)")
            precondition(channel >= 0 && channel < layout.channelCount, "channel \(channel) is outside \(layout)")
            return storage.base[offset + y * rowStride + x * layout.channelCount + channel]
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) is outside \(width)×\(height)")
            precondition(channel >= 0 && channel < layout.channelCount, "channel \(channel) is outside \(layout)")
            makeUnique()
            storage.base[offset + y * rowStride + x * layout.channelCount + channel] = newValue
        }
    }

    /// All channels of the pixel at (`x`, `y`), in layout order.
    public func pixel(x: Int, y: Int) -> [Component] {
        (0..<channelCount).map { self[x, y, $0] }
    }

    /// Calls `body` with a pointer to pixel (0, 0) and the row stride, for reading.
    ///
    /// The memory covers `(height - 1) × rowStride + rowLength` components; bytes between
    /// `rowLength` and `rowStride` of a row belong to other views and must not be read as
    /// pixels. The pointer must not escape `body`.
    @inlinable
    public func withUnsafeBufferPointer<R>(
        _ body: (_ pixels: UnsafePointer<Component>, _ rowStride: Int) throws -> R
    ) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafePointer(storage.base + offset), rowStride) }
    }

    /// Calls `body` with a mutable pointer to pixel (0, 0) and the row stride.
    ///
    /// Copies the pixels first if the storage is shared (copy-on-write). Only the
    /// `rowLength` components of each row may be written. The pointer must not escape `body`.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (_ pixels: UnsafeMutablePointer<Component>, _ rowStride: Int) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) { try body(storage.base + offset, rowStride) }
    }

    /// The pixels packed row after row with no padding, `width × height × channelCount` values.
    public var packedComponents: [Component] {
        let rowLength = self.rowLength
        return [Component](unsafeUninitializedCapacity: rowLength * height) { buffer, count in
            withUnsafeBufferPointer { source, stride in
                for y in 0..<height {
                    (buffer.baseAddress! + y * rowLength)
                        .initialize(from: source + y * stride, count: rowLength)
                }
            }
            count = rowLength * height
        }
    }

    /// Whether the rows are contiguous in memory (`rowStride == rowLength`).
    @inlinable public var isPacked: Bool { rowStride == rowLength || height <= 1 }

    // MARK: Views

    /// A view of the pixels inside `rect`, sharing memory with this picture (O(1)).
    ///
    /// - Precondition: `rect` lies inside the picture; ``ImageRect/clamped(toWidth:height:)``
    ///   makes any rectangle fit.
    public func cropped(to rect: ImageRect) -> ImageBuffer {
        precondition(
            rect.x >= 0 && rect.y >= 0 && rect.width >= 0 && rect.height >= 0
                && rect.x + rect.width <= width && rect.y + rect.height <= height,
            "crop \(rect) is outside \(width)×\(height)")
        var view = ImageBuffer(
            width: rect.width, height: rect.height, layout: layout, rowStride: rowStride,
            storage: storage, offset: offset + rect.y * rowStride + rect.x * channelCount)
        view.colorProfile = colorProfile
        return view
    }

    @usableFromInline
    init(
        width: Int, height: Int, layout: PixelLayout, rowStride: Int,
        storage: ImageStorage<Component>, offset: Int
    ) {
        self.width = width
        self.height = height
        self.layout = layout
        self.rowStride = rowStride
        self.storage = storage
        self.offset = offset
    }

    /// Makes the storage this value's own before a write, compacting a view to packed rows.
    @usableFromInline
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        // Every row is copied below.
        let copy = ImageStorage<Component>(uninitializedCount: rowLength * height)
        let rowLength = self.rowLength
        for y in 0..<height {
            (copy.base + y * rowLength).update(from: storage.base + offset + y * rowStride, count: rowLength)
        }
        storage = copy
        offset = 0
        rowStride = rowLength
    }
}

extension ImageBuffer: Equatable {
    /// Two pictures are equal when they have the same size, layout and pixel values;
    /// strides and sharing do not matter.
    public static func == (lhs: ImageBuffer, rhs: ImageBuffer) -> Bool {
        guard lhs.width == rhs.width, lhs.height == rhs.height, lhs.layout == rhs.layout else { return false }
        if lhs.storage === rhs.storage && lhs.offset == rhs.offset && lhs.rowStride == rhs.rowStride { return true }
        let rowLength = lhs.rowLength
        return lhs.withUnsafeBufferPointer { a, strideA in
            rhs.withUnsafeBufferPointer { b, strideB in
                for y in 0..<lhs.height {
                    for i in 0..<rowLength where a[y * strideA + i] != b[y * strideB + i] { return false }
                }
                return true
            }
        }
    }
}

extension ImageBuffer: CustomStringConvertible {
    public var description: String {
        "\(Component.self == UInt8.self ? "Image" : "FloatImage")(\(width)×\(height) \(layout))"
    }
}

/// An 8-bit picture: each channel 0…255. What files decode to and encode from.
public typealias Image = ImageBuffer<UInt8>

/// A 32-bit float picture: each channel nominally 0…1 (values outside are kept, not clamped).
public typealias FloatImage = ImageBuffer<Float>

/// An axis-aligned rectangle of whole pixels.
public struct ImageRect: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The part of the rectangle inside a `width × height` picture (possibly empty).
    public func clamped(toWidth imageWidth: Int, height imageHeight: Int) -> ImageRect {
        let x0 = min(max(x, 0), imageWidth), y0 = min(max(y, 0), imageHeight)
        let x1 = min(max(x + width, x0), imageWidth), y1 = min(max(y + height, y0), imageHeight)
        return ImageRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Whether the pixel at column `px`, row `py` lies inside the rectangle.
    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && py >= y && px - x < width && py - y < height
    }

    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}
