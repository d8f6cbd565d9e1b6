import Synchronization

/// GPT-2 byte-level BPE tokenizer: encodes text to token ids and back.
///
/// Load one with ``init(tokenizerJSON:)``, ``init(vocabJSON:merges:specialTokens:)``,
/// ``init(tiktokenRanks:specialTokens:)``, ``load(directory:)`` or, from a
/// GGUF file's metadata, ``init(ggufModel:tokens:tokenTypes:merges:pre:bosTokenID:eosTokenID:addBOS:source:)``. Instances
/// are immutable apart from an internal, lock-protected cache of merged
/// pieces, so one tokenizer can be shared across tasks.
///
/// Encoding splits the input on special tokens (``encode(_:)`` only), then
/// into pieces with a pre-tokenizer (GPT-2's regex unless a GGUF file names
/// another), then merges each piece's bytes by rank. Ids are `Int` for convenience at call sites.
public final class BPETokenizer: Sendable {
    /// Everything a loader extracts from a file, before validation.
    struct Parts {
        /// Bytes of every ordinary (non-special) token, by id.
        var tokenBytes: [Int: [UInt8]] = [:]
        /// Token spellings as used in the file (byte-level form, e.g. "Ġthe").
        var tokenStrings: [String: Int] = [:]
        var merges = MergeTable()
        /// Special/added tokens, matched as whole strings by `encode(_:)`.
        var specialTokens: [String: Int] = [:]
        /// tiktoken and HF `ignore_merges`: a piece that is itself a token is
        /// not merged byte by byte.
        var ignoreMerges = false
        var addPrefixSpace = false
        var useRegex = true
        var preTokenizer = PreTokenizer.Kind.gpt2
        var bosTokenID: Int?
        /// Defaults to the id of "<|endoftext|>" when the format has no setting.
        var eosTokenID: Int?
        var addsBOS = false
        /// GGUF vocabularies may lack some single-byte tokens (SmolLM2 has no
        /// token for 0x04 or 0xFF); such bytes then encode to nothing.
        var allowsMissingBytes = false
        /// File the parts came from, for error messages.
        var source: String
    }

    /// Largest id accepted from a file; guards against absurd allocations.
    static let maximumID = 16_777_215

    private let tokenBytesByID: [[UInt8]?]
    private let idByBytes: [[UInt8]: Int32]
    private let idByTokenString: [String: Int]
    /// Id of each single-byte token; `missingByte` where the vocabulary has none.
    private let byteIDs: [Int32]
    private let hasMissingBytes: Bool
    private static let missingByte: Int32 = -1
    private let merges: MergeTable
    /// Special tokens as UTF-8, longest first so the longest match wins.
    private let specials: [(bytes: [UInt8], id: Int)]
    private let specialFirstBytes: [Bool]
    private let ignoreMerges: Bool
    private let addPrefixSpace: Bool
    private let useRegex: Bool
    private let preTokenizer: PreTokenizer.Kind
    private let cache = Mutex<[[UInt8]: [Int32]]>([:])

    /// Special tokens recognised by ``encode(_:)``, content → id.
    public let specialTokens: [String: Int]

    /// Beginning-of-sequence token, where the file names one (GGUF).
    public let bosTokenID: Int?
    /// End-of-sequence token: the file's (GGUF), else "<|endoftext|>" if the
    /// vocabulary has it. Completion stops when the model emits it.
    public let eosTokenID: Int?
    /// Whether prompts should start with ``bosTokenID``. ``encode(_:)`` never
    /// adds it; the caller does.
    public let addsBOS: Bool
    /// Name of the file the vocabulary was read from (tokenizer.json, vocab.json, a .gguf), for
    /// messages about it.
    public let sourceFile: String

    init(parts: Parts) throws {
        var idByBytes: [[UInt8]: Int32] = [:]
        var maxID = -1
        for (id, bytes) in parts.tokenBytes {
            guard id >= 0, id <= Self.maximumID else {
                throw TokenizerError("token id \(id) is out of range 0...\(Self.maximumID)", file: parts.source)
            }
            maxID = max(maxID, id)
            // Two spellings with the same bytes: keep the lower id, deterministically.
            if let existing = idByBytes[bytes], Int(existing) < id { continue }
            idByBytes[bytes] = Int32(id)
        }
        for (content, id) in parts.specialTokens {
            guard id >= 0, id <= Self.maximumID else {
                throw TokenizerError("special token \(content) has id \(id), out of range 0...\(Self.maximumID)",
                                     file: parts.source)
            }
            guard !content.isEmpty else {
                throw TokenizerError("special token with id \(id) has empty content", file: parts.source)
            }
            maxID = max(maxID, id)
        }
        // Without all 256 single-byte tokens some byte strings could not be
        // encoded, and decode(encode(x)) == x would not hold.
        var byteIDs = [Int32](repeating: Self.missingByte, count: 256)
        for byte in 0..<256 {
            guard let id = idByBytes[[UInt8(byte)]] else {
                if parts.allowsMissingBytes { continue }
                let spelling = ByteLevel.string(forBytes: [UInt8(byte)])
                throw TokenizerError(
                    "vocabulary has no token for byte 0x\(String(byte, radix: 16)) (\"\(spelling)\"); "
                        + "a byte-level BPE vocabulary needs all 256", file: parts.source)
            }
            byteIDs[byte] = id
        }

        var table = [[UInt8]?](repeating: nil, count: maxID + 1)
        for (id, bytes) in parts.tokenBytes { table[id] = bytes }
        // One id must decode to one string, or decode(encode(x)) == x breaks (and, with two
        // specials on one id, which string wins would depend on dictionary order).
        var specialByID: [Int: String] = [:]
        for (content, id) in parts.specialTokens.sorted(by: { $0.key < $1.key }) {
            if let other = specialByID[id] {
                throw TokenizerError("special tokens \(Self.debugQuoted(other)) and \(Self.debugQuoted(content)) both have id \(id)",
                                     file: parts.source)
            }
            specialByID[id] = content
        }
        for (id, content) in specialByID.sorted(by: { $0.key < $1.key }) {
            if let bytes = table[id], bytes != Array(content.utf8) {
                let spelling = parts.tokenStrings.first { $0.value == id }?.key ?? ByteLevel.string(forBytes: bytes)
                throw TokenizerError("special token \(Self.debugQuoted(content)) has id \(id), which already stands for "
                                         + "\(Self.debugQuoted(spelling)); one id cannot decode to two strings",
                                     file: parts.source)
            }
            table[id] = Array(content.utf8)
        }
        var firstBytes = [Bool](repeating: false, count: 256)
        for content in parts.specialTokens.keys { firstBytes[Int(content.utf8.first ?? 0)] = true }

        self.tokenBytesByID = table
        self.idByBytes = idByBytes
        self.idByTokenString = parts.tokenStrings
        self.byteIDs = byteIDs
        self.hasMissingBytes = byteIDs.contains(Self.missingByte)
        self.merges = parts.merges
        self.specials = parts.specialTokens
            .map { (Array($0.key.utf8), $0.value) }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1 }
        self.specialFirstBytes = firstBytes
        self.specialTokens = parts.specialTokens
        self.sourceFile = parts.source.split(separator: "/").last.map(String.init) ?? parts.source
        self.ignoreMerges = parts.ignoreMerges
        self.addPrefixSpace = parts.addPrefixSpace
        self.useRegex = parts.useRegex
        self.preTokenizer = parts.preTokenizer
        self.bosTokenID = parts.bosTokenID
        self.eosTokenID = parts.eosTokenID ?? parts.specialTokens["<|endoftext|>"]
        self.addsBOS = parts.addsBOS
    }

    // MARK: Vocabulary

    /// One past the largest token id (GPT-2: 50257), i.e. the logits width.
    public var vocabularySize: Int { tokenBytesByID.count }

    /// Id of `<|endoftext|>`, if the vocabulary has it.
    public var endOfTextID: Int? { id(forToken: "<|endoftext|>") }

    /// Raw bytes of one token (a special token's UTF-8 content), or nil for an unknown id.
    public func tokenBytes(_ id: Int) -> [UInt8]? {
        guard id >= 0, id < tokenBytesByID.count else { return nil }
        return tokenBytesByID[id]
    }

    /// Id of a token given its vocabulary spelling: the byte-level form used
    /// in vocab.json (e.g. "Ġworld" for " world"), or a special token's content.
    public func id(forToken token: String) -> Int? {
        if let id = specialTokens[token] { return id }
        return idByTokenString[token]
    }

    /// GPT-2's vocabulary spelling of raw bytes, e.g. " world" → "Ġworld".
    public static func byteLevelSpelling(_ bytes: [UInt8]) -> String {
        ByteLevel.string(forBytes: bytes)
    }

    // MARK: Encoding

    /// Encodes text, recognising special tokens (e.g. "<|endoftext|>") as
    /// single ids wherever their exact text appears, like Hugging Face does.
    public func encode(_ text: String) -> [Int] {
        let bytes = Array(text.utf8)
        var result: [Int] = []
        result.reserveCapacity(bytes.count / 3 + 1)
        bytes.withUnsafeBufferPointer { all in
            guard !specials.isEmpty else {
                encodeOrdinary(all, into: &result)
                return
            }
            var segmentStart = 0
            var index = 0
            while index < all.count {
                if specialFirstBytes[Int(all[index])], let (length, id) = special(at: index, in: all) {
                    encodeOrdinary(UnsafeBufferPointer(rebasing: all[segmentStart..<index]), into: &result)
                    result.append(id)
                    index += length
                    segmentStart = index
                } else {
                    index += 1
                }
            }
            encodeOrdinary(UnsafeBufferPointer(rebasing: all[segmentStart..<all.count]), into: &result)
        }
        return result
    }

    /// Encodes text without special-token matching: "<|endoftext|>" becomes
    /// ordinary pieces. Use for untrusted text (e.g. file contents).
    public func encodeOrdinary(_ text: String) -> [Int] {
        encode(bytes: Array(text.utf8))
    }

    /// Encodes arbitrary bytes, which need not be valid UTF-8; special
    /// tokens are not matched. For valid UTF-8 the result equals
    /// ``encodeOrdinary(_:)`` (and ``encode(_:)`` when no special-token text
    /// occurs). Each byte that is not part of a well-formed UTF-8 sequence is
    /// pre-tokenized as a punctuation-like character (as with Python's
    /// `surrogateescape`), so it joins neighbouring punctuation; its piece is
    /// then merged on raw bytes. `decode(encode(bytes: x)) == x` always.
    public func encode(bytes: [UInt8]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(bytes.count / 3 + 1)
        bytes.withUnsafeBufferPointer { encodeOrdinary($0, into: &result) }
        return result
    }

    /// Longest special token starting at `index`, as (byte length, id).
    private func special(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        candidates: for (content, id) in specials where content.count <= bytes.count - index {
            for offset in 0..<content.count where bytes[index + offset] != content[offset] {
                continue candidates
            }
            return (content.count, id)
        }
        return nil
    }

    private func encodeOrdinary(_ segment: UnsafeBufferPointer<UInt8>, into result: inout [Int]) {
        guard !segment.isEmpty else { return }
        if addPrefixSpace, segment[0] != 0x20 {
            // Hugging Face's ByteLevel(add_prefix_space: true) prepends one
            // space to every segment that does not start with one.
            var prefixed: [UInt8] = [0x20]
            prefixed.append(contentsOf: segment)
            prefixed.withUnsafeBufferPointer { encodeSegment($0, into: &result) }
        } else {
            encodeSegment(segment, into: &result)
        }
    }

    private func encodeSegment(_ segment: UnsafeBufferPointer<UInt8>, into result: inout [Int]) {
        if useRegex {
            PreTokenizer.split(segment, kind: preTokenizer) { range in
                appendPiece(UnsafeBufferPointer(rebasing: segment[range]), to: &result)
            }
        } else {
            appendPiece(segment, to: &result)
        }
    }

    /// Pieces at most this long are cached; longer ones rarely repeat.
    private static let cacheablePieceLength = 128
    /// The cache is emptied when it grows past this many pieces.
    private static let cacheCapacity = 50_000

    private func appendPiece(_ piece: UnsafeBufferPointer<UInt8>, to result: inout [Int]) {
        if piece.count == 1 {
            let id = byteIDs[Int(piece[0])]
            if id != Self.missingByte { result.append(Int(id)) }
            return
        }
        let key = Array(piece)
        if ignoreMerges, let id = idByBytes[key] {
            result.append(Int(id))
            return
        }
        let cacheable = key.count <= Self.cacheablePieceLength
        if cacheable, let cached = cache.withLock({ $0[key] }) {
            for id in cached { result.append(Int(id)) }
            return
        }
        var merged = merges.merge(key.map { byteIDs[Int($0)] })
        // A missing byte has no merges, so it stays alone and is dropped here,
        // after merging: like HF and llama.cpp, its neighbours do not merge across it.
        if hasMissingBytes { merged.removeAll { $0 == Self.missingByte } }
        for id in merged { result.append(Int(id)) }
        if cacheable {
            cache.withLock { cache in
                if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
                cache[key] = merged
            }
        }
    }

    // MARK: Decoding

    /// Concatenated bytes of `ids`. Unknown ids are skipped (never a crash),
    /// so a model that emits an id past the vocabulary yields no text for it.
    public func decode(_ ids: [Int]) -> [UInt8] {
        var result: [UInt8] = []
        for id in ids {
            if let bytes = tokenBytes(id) { result.append(contentsOf: bytes) }
        }
        return result
    }

    /// ``decode(_:)`` as text; invalid UTF-8 becomes U+FFFD.
    public func decodeText(_ ids: [Int]) -> String {
        String(decoding: decode(ids), as: UTF8.self)
    }

    // MARK: Testing hooks

    /// Merges one piece with the scan or, if `forceHeap`, the heap loop, so
    /// tests can check that both agree.
    @_spi(Testing)
    public func mergePiece(_ bytes: [UInt8], forceHeap: Bool) -> [Int] {
        merges.merge(bytes.map { byteIDs[Int($0)] }, forceHeap: forceHeap).map { Int($0) }
    }

    /// This tokenizer's pre-tokenizer pieces of `bytes` (no special tokens).
    @_spi(Testing)
    public func pieces(of bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        bytes.withUnsafeBufferPointer { buffer in
            PreTokenizer.split(buffer, kind: preTokenizer) { pieces.append(Array(buffer[$0])) }
        }
        return pieces
    }

    /// GPT-2's pre-tokenizer pieces of `bytes`.
    @_spi(Testing)
    public static func pieces(of bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        bytes.withUnsafeBufferPointer { buffer in
            PreTokenizer.split(buffer) { pieces.append(Array(buffer[$0])) }
        }
        return pieces
    }
}
