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
}

extension UInt8: ImageComponent {
    @inlinable public static var fullScale: UInt8 { 255 }
    @inlinable public init(unitValue: Float) {
        // NaN compares false both ways and lands on 0.
        let scaled = unitValue * 255 + 0.5
        self = scaled >= 255 ? 255 : (scaled >= 0 ? UInt8(scaled) : 0)
    }
    @inlinable public var unitValue: Float { Float(self) * (1 / 255) }
}

extension Float: ImageComponent {
    @inlinable public static var fullScale: Float { 1 }
    @inlinable public init(unitValue: Float) { self = unitValue }
    @inlinable public var unitValue: Float { self }
}
