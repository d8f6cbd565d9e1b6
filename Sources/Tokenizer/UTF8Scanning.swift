/// Minimal UTF-8 validation shared by the pre-tokenizer and the streaming
/// decoder. Both must agree exactly on which bytes form a character, so the
/// rules (Unicode Table 3-7: no overlongs, no surrogates, nothing above
/// U+10FFFF) live in one place.
enum UTF8Scanning {
    /// Number of bytes a sequence starting with `lead` needs, or 0 if `lead`
    /// can never start a well-formed sequence.
    @inline(__always)
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// Allowed range of the second byte, which depends on the lead byte.
    @inline(__always)
    static func secondByteRange(lead: UInt8) -> ClosedRange<UInt8> {
        switch lead {
        case 0xE0: return 0xA0...0xBF  // no overlong 3-byte forms
        case 0xED: return 0x80...0x9F  // no surrogates
        case 0xF0: return 0x90...0xBF  // no overlong 4-byte forms
        case 0xF4: return 0x80...0x8F  // nothing above U+10FFFF
        default: return 0x80...0xBF
        }
    }

    /// How many bytes starting at `index` are consistent with one well-formed
    /// sequence (`valid`), and how many such a sequence needs (`needed`, 0
    /// for an impossible lead byte). The sequence is complete when
    /// `valid == needed`; a shorter `valid` that reaches the end of `bytes`
    /// is a viable but incomplete prefix.
    @inline(__always)
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (valid: Int, needed: Int) {
        let lead = bytes[index]
        let needed = sequenceLength(lead: lead)
        if needed <= 1 { return (needed, needed) }
        var valid = 1
        while valid < needed, index + valid < bytes.count {
            let byte = bytes[index + valid]
            let range: ClosedRange<UInt8> = valid == 1 ? secondByteRange(lead: lead) : 0x80...0xBF
            guard range.contains(byte) else { break }
            valid += 1
        }
        return (valid, needed)
    }

    /// Decodes the complete sequence of `length` bytes at `index` (already validated).
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, length: Int) -> UInt32 {
        let lead = UInt32(bytes[index])
        switch length {
        case 1: return lead
        case 2: return (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
        case 3:
            return (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6
                | UInt32(bytes[index + 2] & 0x3F)
        default:
            return (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F)
        }
    }
}
