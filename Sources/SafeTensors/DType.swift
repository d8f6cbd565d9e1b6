/// Element type of a stored tensor, spelled exactly as in the safetensors header.
///
/// All types are recognised so that any well-formed file validates; only
/// `F32`, `F16` and `BF16` can be converted to `[Float]`.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, U16, U32, U64

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// Whether `SafeTensorsFile.floats(_:)` can convert this type.
    public var isFloatConvertible: Bool {
        switch self {
        case .F32, .F16, .BF16: return true
        default: return false
        }
    }
}

/// Scalar conversions between `Float` and the 16-bit storage formats.
enum FloatCodec {
    /// IEEE binary16 → Float (exact; every half value is representable as a Float).
    @inline(__always)
    static func floatFromF16(_ bits: UInt16) -> Float {
        #if arch(x86_64) || arch(arm64)
        return Float(Float16(bitPattern: bits))
        #else
        return softFloatFromF16(bits)
        #endif
    }

    /// bfloat16 is the upper half of a binary32, so widening is a shift.
    @inline(__always)
    static func floatFromBF16(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float → binary16, rounding to nearest-even (the conversion initializer's rule).
    @inline(__always)
    static func f16FromFloat(_ x: Float) -> UInt16 {
        #if arch(x86_64) || arch(arm64)
        return Float16(x).bitPattern
        #else
        return softF16FromFloat(x)
        #endif
    }

    /// Float → bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN
    /// instead of possibly rounding into infinity.
    @inline(__always)
    static func bf16FromFloat(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    #if !(arch(x86_64) || arch(arm64))
    // Portable fallbacks for targets without a native Float16 type.
    static func softFloatFromF16(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(mant) * 0x1p-24
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
    }

    static func softF16FromFloat(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if x.isNaN { return sign | 0x7E00 }
        let a = abs(x)
        if a >= 65520 { return sign | 0x7C00 }
        if a < 0x1p-14 {
            // Subnormal: scale so the unit is 2^-24 and round to nearest-even.
            let q = (a * 0x1p24).rounded(.toNearestOrEven)
            return sign | UInt16(q)
        }
        let e = Int((bits >> 23) & 0xFF) - 127
        var m = bits & 0x7F_FFFF
        let rem = m & 0x1FFF
        m >>= 13
        var h = UInt32((e + 15) << 10) | m
        if rem > 0x1000 || (rem == 0x1000 && (m & 1) == 1) { h += 1 }
        return sign | UInt16(h)
    }
    #endif
}
