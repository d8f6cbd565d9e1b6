/// Turns token ids, pushed one at a time, into text as soon as it is
/// complete, for showing a completion while it is generated (ghost text).
///
/// A token may end in the middle of a multi-byte UTF-8 character (GPT-2
/// splits most emoji and CJK characters across tokens), so the bytes of an
/// unfinished character are held back until the next token completes them.
/// Bytes that can never become valid are emitted as U+FFFD right away. The
/// concatenation of every `push` and the final `finish()` equals
/// `tokenizer.decodeText(ids)`. Characters here are Unicode scalars: an emoji
/// ZWJ sequence may arrive one scalar at a time.
public struct StreamingDecoder: Sendable {
    private let tokenizer: BPETokenizer
    /// Bytes of an incomplete trailing character (at most 3).
    private var pending: [UInt8] = []

    public init(tokenizer: BPETokenizer) {
        self.tokenizer = tokenizer
    }

    /// Adds one token and returns the text it completed (possibly empty).
    /// Unknown ids add nothing, as in ``BPETokenizer/decode(_:)``.
    public mutating func push(_ id: Int) -> String {
        guard let bytes = tokenizer.tokenBytes(id) else { return "" }
        pending.append(contentsOf: bytes)
        let cut = pending.withUnsafeBufferPointer(Self.incompleteSuffixStart)
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeSubrange(..<cut)
        return text
    }

    /// Returns whatever is still held back (an unfinished character becomes
    /// U+FFFD) and resets the decoder for reuse.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Start of a trailing sequence that is a viable but incomplete UTF-8
    /// character, or `bytes.count` if there is none. Everything before that
    /// point decodes the same now as it would with more bytes appended,
    /// because the held-back sequence starts with a lead byte, which no
    /// earlier sequence can extend.
    static func incompleteSuffixStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var start = bytes.count - 1
        let lowest = max(0, bytes.count - 3)
        // Find the last non-continuation byte among the final three.
        while start >= lowest, (0x80...0xBF).contains(bytes[start]) { start -= 1 }
        guard start >= lowest else { return bytes.count }
        let (valid, needed) = UTF8Scanning.scan(bytes, at: start)
        let incomplete = needed > 1 && valid < needed && start + valid == bytes.count
        return incomplete ? start : bytes.count
    }
}
