/// Strict UTF-8 validation (Unicode Table 3-7: no overlongs, no surrogates,
/// nothing above U+10FFFF).
///
/// Written out rather than using the generic `String(validating:as:)`, whose
/// per-call generic metadata lookups were a quarter of the time spent opening
/// a file with ~98k token and merge strings.
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
        // Second-byte range depends on the lead byte; later bytes are 80...BF.
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard length <= n - i else { return false }
        guard (low...high).contains(bytes[i + 1]) else { return false }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return false }
        i += length
    }
    return true
}
