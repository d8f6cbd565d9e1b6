/// GPT-2's reversible byte ↔ Unicode mapping.
///
/// GPT-2 vocabularies store tokens as strings in which every byte is shown as
/// a printable character (e.g. the space byte 0x20 is "Ġ", U+0120), so that
/// BPE files never contain raw whitespace or control bytes. Printable Latin-1
/// bytes map to themselves; the other 68 bytes map to U+0100 upwards.
enum ByteLevel {
    /// Scalar value that represents each byte.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar`, indexed by scalar value (all values are < 324).
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 512)
        for (byte, scalar) in byteToScalar.enumerated() {
            table[Int(scalar)] = Int16(byte)
        }
        return table
    }()

    /// The byte-level spelling of raw bytes, e.g. `[0x20, 0x61]` → "Ġa".
    static func string(forBytes bytes: some Sequence<UInt8>) -> String {
        var result = String.UnicodeScalarView()
        for byte in bytes {
            // Every table entry is a valid scalar below U+0200.
            if let scalar = Unicode.Scalar(byteToScalar[Int(byte)]) {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Raw bytes of a byte-level token string, or nil if some character is
    /// outside the 256-character alphabet (as for added tokens such as
    /// "<|im_start|>" written in plain text, which callers then take as UTF-8).
    static func bytes(forString string: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(string.unicodeScalars.count)
        for scalar in string.unicodeScalars {
            let value = Int(scalar.value)
            guard value < scalarToByte.count, scalarToByte[value] >= 0 else { return nil }
            result.append(UInt8(scalarToByte[value]))
        }
        return result
    }
}
