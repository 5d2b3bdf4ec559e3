/// A scalar type an ``ImageBuffer`` can store one channel value in.
///
/// Two storage types are supported: `UInt8` (0…255, what files hold) and `Float`
/// (nominally 0…1, what filters and the engine compute in). The protocol is closed in
/// practice: kernels are written for these two concrete types.
public protocol ImageComponent: BitwiseCopyable, Sendable, Equatable {
    /// The value that means "full intensity" or "fully opaque": 255 for `UInt8`, 1 for `Float`.
    static var fullScale: Self { get }
    /// Converts from a nominal 0…1 float, rounding to nearest and clamping where needed.
    init(unitValue: Float)
    /// The value on the nominal 0…1 scale.
    var unitValue: Float { get }
    /// The value as a float in the type's own units (0…255 for `UInt8`); used by filters
    /// that are linear, so they need not scale twice.
    var rawValue: Float { get }
    /// Converts from the type's own units, rounding to nearest and clamping where needed.
    init(rawValue: Float)

    /// Converts `count` values to floats in the type's own units. One call per row keeps
    /// generic image code fast: the loop inside is concrete.
    static func load(_ source: UnsafePointer<Self>, count: Int, into destination: UnsafeMutablePointer<Float>)
    /// Converts `count` floats in the type's own units back, rounding and clamping as
    /// ``init(rawValue:)`` does.
    static func store(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Self>)
}

extension UInt8: ImageComponent {
    @inlinable public static var fullScale: UInt8 { 255 }
    @inlinable public init(unitValue: Float) {
        // NaN compares false both ways and lands on 0.
        let scaled = unitValue * 255 + 0.5
        self = scaled >= 255 ? 255 : (scaled >= 0 ? UInt8(scaled) : 0)
    }
    @inlinable public var unitValue: Float { Float(self) * (1 / 255) }
    @inlinable public var rawValue: Float { Float(self) }
    @inlinable public init(rawValue: Float) {
        let rounded = rawValue + 0.5
        self = rounded >= 255 ? 255 : (rounded >= 0 ? UInt8(rounded) : 0)
    }
    public static func load(_ source: UnsafePointer<UInt8>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count { destination[i] = Float(source[i]) }
    }
    public static func store(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count {
            // Clamp first so the conversion cannot trap; NaN fails both comparisons → 0.
            let v = source[i] + 0.5
            destination[i] = v >= 255 ? 255 : (v >= 0 ? UInt8(unsafeTruncating: v) : 0)
        }
    }
}

extension UInt8 {
    @inline(__always) init(unsafeTruncating value: Float) {
        self = UInt8(truncatingIfNeeded: Int32(value))
    }
}

extension Float: ImageComponent {
    @inlinable public static var fullScale: Float { 1 }
    @inlinable public init(unitValue: Float) { self = unitValue }
    @inlinable public var unitValue: Float { self }
    @inlinable public var rawValue: Float { self }
    @inlinable public init(rawValue: Float) { self = rawValue }
    public static func load(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: source, count: count)
    }
    public static func store(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: source, count: count)
    }
}
