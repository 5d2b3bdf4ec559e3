extension Tensor {
    /// A tensor from raw little-endian bytes as stored in model files.
    /// - Precondition: `bytes.count == elementCount(shape) × dataType.byteCount`.
    public init(shape: [Int], dataType: DataType, bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == elementCount(shape) * dataType.byteCount,
                     "\(bytes.count) bytes for \(dataType) shape \(shape)")
        self.init(zeros: shape, dataType: dataType)
        if let base = bytes.baseAddress { storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// A `float32` tensor from IEEE half-precision bit patterns (TFLite fp16 weights,
    /// dequantised once at load time). Handles subnormals, infinities and NaN.
    /// - Precondition: `bits.count` equals the product of `shape`.
    public init(shape: [Int], float16Bits bits: [UInt16]) {
        self.init(shape: shape, floats: bits.map(floatFromHalf))
    }
}

/// Converts an IEEE 754 binary16 bit pattern to `Float` without relying on `Float16`.
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    let bits: UInt32
    switch exponent {
    case 0:
        if mantissa == 0 { bits = sign } else {
            // Subnormal: value = mantissa · 2^-24.
            return Float(sign == 0 ? 1 : -1) * Float(mantissa) * 0x1p-24
        }
    case 31:
        bits = sign | 0x7F80_0000 | (mantissa << 13)
    default:
        bits = sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13)
    }
    return Float(bitPattern: bits)
}
