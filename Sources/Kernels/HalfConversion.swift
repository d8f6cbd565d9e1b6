/// Widens `count` little-endian IEEE half-precision values (GGUF/safetensors F16) to `Float`.
/// Exact: every half is representable as a float.
public func convertHalf(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(count >= 0 && bytes.count / 2 >= count, "convertHalf: \(bytes.count) bytes for \(count) values")
    for i in 0..<count {
        out[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
    }
}

/// Widens `count` little-endian bfloat16 values to `Float` (a bfloat16 is a float's upper 16 bits). Exact.
public func convertBFloat16(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(count >= 0 && bytes.count / 2 >= count, "convertBFloat16: \(bytes.count) bytes for \(count) values")
    for i in 0..<count {
        let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        out[i] = Float(bitPattern: UInt32(bits) << 16)
    }
}
