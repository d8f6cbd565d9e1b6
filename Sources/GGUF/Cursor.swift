/// Bounds-checked little-endian reads over an untrusted byte buffer.
///
/// Every read checks the bytes left first, so a truncated or lying file fails
/// with a message naming the field instead of reading past the end. Field
/// names are autoclosures: they are only built when something is wrong.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - position }

    func fail(_ field: String, _ reason: String) -> GGUFError {
        GGUFError(file: file, field: field, reason: reason)
    }

    /// Reserves `n` bytes and returns where they start.
    private mutating func take(_ n: Int, _ field: () -> String) throws(GGUFError) -> Int {
        guard n <= remaining else {
            throw fail(field(), "truncated: \(n) bytes needed at offset \(position), but the file is \(bytes.count) bytes")
        }
        defer { position += n }
        return position
    }

    mutating func u8(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt8 {
        bytes[try take(1, field)]
    }

    mutating func u16(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(2, field), as: UInt16.self))
    }

    mutating func u32(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4, field), as: UInt32.self))
    }

    mutating func u64(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8, field), as: UInt64.self))
    }

    /// A GGUF string: u64 byte length, then that many bytes of UTF-8 (no NUL).
    mutating func string(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try u64(field())
        // Compare before converting: a length near 2^64 must fail here, not trap or allocate.
        guard length <= UInt64(remaining) else {
            throw fail(field(), "string length \(length) exceeds the \(remaining) bytes left in the file")
        }
        let n = Int(length)
        let start = try take(n, field)
        guard n > 0, let base = bytes.baseAddress else { return "" }
        let utf8 = UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: n)
        guard isValidUTF8(utf8) else {
            throw fail(field(), "string of \(n) bytes at offset \(start) is not valid UTF-8")
        }
        return String(decoding: utf8, as: UTF8.self) // valid, so nothing is repaired
    }
}
