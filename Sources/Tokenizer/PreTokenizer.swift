/// The pre-tokenizers: split text into the pieces that BPE runs on.
///
/// Each reproduces a regex (leftmost alternative wins, runs are greedy) by hand
/// over Unicode scalars, because a general regex engine is several times slower
/// and Foundation's has subtly different `\s`. Classes follow the Unicode
/// properties that Python's `regex`, Rust's `regex` and Oniguruma (Hugging Face
/// `tokenizers`) use: `\s` = White_Space, `\p{L}` = general category L*,
/// `\p{N}` = N*.
///
/// - ``Kind/gpt2``: GPT-2's
///   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
/// - ``Kind/gpt2Digits``: every `\p{N}` alone, then GPT-2's regex on each
///   stretch between them (HF `Digits(individual_digits)` + `ByteLevel`;
///   SmolLM2, llama.cpp's `smollm`).
/// - ``Kind/qwen2`` and ``Kind/llama3``: the family
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
///   with k = 1 (Qwen2) or 3 (Llama 3).
///
/// Bytes that are not part of a well-formed UTF-8 sequence count as one
/// character each of the "other" class (neither letter, number nor
/// whitespace), exactly as if the text had been decoded with Python's
/// `surrogateescape` (lone surrogates are category Cs). So an invalid byte
/// joins a neighbouring punctuation run and may take a leading space.
enum PreTokenizer {
    /// Which split pattern to reproduce (see the type's documentation).
    enum Kind: Sendable, Equatable {
        case gpt2, gpt2Digits, qwen2, llama3
    }

    enum CharClass: UInt8 { case letter, number, whitespace, other }

    /// Marker scalar value for a byte that is not valid UTF-8.
    static let invalidByte: UInt32 = 0xFFFF_FFFF

    private static let asciiClass: [CharClass] = (0..<128).map { value -> CharClass in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }

    @inline(__always)
    static func classify(_ value: UInt32) -> CharClass {
        if value < 128 { return asciiClass[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }


    /// Calls `body` with the byte range of each piece of `bytes`, in order.
    /// The ranges exactly tile `0..<bytes.count`.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, kind: Kind = .gpt2, _ body: (Range<Int>) -> Void) {
        let text = Scalars(decoding: bytes)
        switch kind {
        case .gpt2:
            splitGPT2(text, 0..<text.count, body)
        case .gpt2Digits:
            var stretchStart = 0
            for index in 0..<text.count where text.classes[index] == .number {
                splitGPT2(text, stretchStart..<index, body)
                body(text.starts[index]..<text.starts[index + 1])
                stretchStart = index + 1
            }
            splitGPT2(text, stretchStart..<text.count, body)
        case .qwen2:
            splitLlama3Family(text, maximumDigits: 1, body)
        case .llama3:
            splitLlama3Family(text, maximumDigits: 3, body)
        }
    }

    /// Text decoded once into parallel arrays: where each character starts,
    /// its scalar value and its class. `starts` has one extra entry, the end.
    struct Scalars {
        var starts: [Int] = []
        var scalars: [UInt32] = []
        var classes: [CharClass] = []
        var count: Int { scalars.count }

        init(decoding bytes: UnsafeBufferPointer<UInt8>) {
            starts.reserveCapacity(bytes.count + 1)
            scalars.reserveCapacity(bytes.count)
            classes.reserveCapacity(bytes.count)
            var offset = 0
            while offset < bytes.count {
                let (valid, needed) = UTF8Scanning.scan(bytes, at: offset)
                starts.append(offset)
                if needed > 0 && valid == needed {
                    let value = UTF8Scanning.decode(bytes, at: offset, length: needed)
                    scalars.append(value)
                    classes.append(classify(value))
                    offset += needed
                } else {
                    // Each byte outside a well-formed sequence stands alone; a
                    // continuation byte can never start a sequence, so resuming
                    // at the next byte matches Python's maximal-subpart decoding.
                    scalars.append(invalidByte)
                    classes.append(.other)
                    offset += 1
                }
            }
            starts.append(bytes.count)
        }
    }

    private static let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20

    /// GPT-2's regex on the characters `range`, whose end counts as the end
    /// of the text (as when HF runs it on each stretch between digits).
    @inline(__always)
    private static func splitGPT2(_ text: Scalars, _ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        let scalars = text.scalars, classes = text.classes, starts = text.starts
        let count = range.upperBound
        var index = range.lowerBound
        while index < count {
            let first = scalars[index]
            // 's 't 'm 'd 're 've 'll (lowercase only, as in GPT-2).
            if first == apostrophe, let length = contractionLength(scalars, index, count, ignoringCase: false) {
                body(starts[index]..<starts[index + length])
                index += length
                continue
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single
            // space followed by a run of one non-whitespace class.
            var runStart = index
            if first == space, index + 1 < count, classes[index + 1] != .whitespace {
                runStart = index + 1
            }
            let runClass = classes[runStart]
            var end = runStart + 1
            if runClass != .whitespace {
                while end < count, classes[end] == runClass { end += 1 }
                body(starts[index]..<starts[end])
                index = end
                continue
            }
            // `\s+(?!\S)|\s+`: a whitespace run, minus its last character when
            // a non-space follows and the run is longer than one, so that the
            // last space can prefix the next word.
            while end < count, classes[end] == .whitespace { end += 1 }
            if end < count, end - index >= 2 { end -= 1 }
            body(starts[index]..<starts[end])
            index = end
        }
    }

    /// Length (2 or 3) of the contraction `'s 't 'm 'd 're 've 'll` at
    /// `index` (which holds an apostrophe), or nil. `ignoringCase` is
    /// `(?i:…)`, which Oniguruma also applies to U+017F (ſ, folds to s).
    @inline(__always)
    private static func contractionLength(_ scalars: [UInt32], _ index: Int, _ count: Int, ignoringCase: Bool)
        -> Int?
    {
        guard index + 1 < count else { return nil }
        func folded(_ value: UInt32) -> UInt32 {
            guard ignoringCase else { return value }
            if (0x41...0x5A).contains(value) { return value | 0x20 }
            return value == 0x17F ? 0x73 : value
        }
        let second = folded(scalars[index + 1])
        if second == 0x73 || second == 0x74 || second == 0x6D || second == 0x64 { return 2 }  // s t m d
        guard index + 2 < count else { return nil }
        let third = folded(scalars[index + 2])
        if (second == 0x72 && third == 0x65) || (second == 0x76 && third == 0x65)  // re ve
            || (second == 0x6C && third == 0x6C)  // ll
        {
            return 3
        }
        return nil
    }

    @inline(__always)
    private static func isLineBreak(_ value: UInt32) -> Bool { value == 0x0A || value == 0x0D }

    /// Qwen2's (`maximumDigits` 1) and Llama 3's (3) regex:
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}`
    /// `| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    private static func splitLlama3Family(_ text: Scalars, maximumDigits: Int, _ body: (Range<Int>) -> Void) {
        let scalars = text.scalars, classes = text.classes, starts = text.starts
        let count = text.count
        var index = 0

        func letterRunEnd(from start: Int) -> Int {
            var end = start + 1
            while end < count, classes[end] == .letter { end += 1 }
            return end
        }

        while index < count {
            let first = scalars[index]
            let firstClass = classes[index]
            var end: Int
            if first == apostrophe, let length = contractionLength(scalars, index, count, ignoringCase: true) {
                end = index + length
            } else if firstClass == .letter {
                end = letterRunEnd(from: index)
            } else if firstClass != .number, !isLineBreak(first), index + 1 < count, classes[index + 1] == .letter {
                // One leading non-letter, non-digit (a space, a tab, "(", "$"…) joins the word.
                end = letterRunEnd(from: index + 1)
            } else if firstClass == .number {
                end = index + 1
                while end < count, end - index < maximumDigits, classes[end] == .number { end += 1 }
            } else if firstClass == .other || (first == space && index + 1 < count && classes[index + 1] == .other) {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`: punctuation, then any line breaks.
                end = firstClass == .other ? index + 1 : index + 2
                while end < count, classes[end] == .other { end += 1 }
                while end < count, isLineBreak(scalars[end]) { end += 1 }
            } else {
                // A whitespace run.
                var runEnd = index + 1
                while runEnd < count, classes[runEnd] == .whitespace { runEnd += 1 }
                // `\s*[\r\n]+`: up to the run's last line break, if it has one.
                var lastBreak = runEnd - 1
                while lastBreak >= index, !isLineBreak(scalars[lastBreak]) { lastBreak -= 1 }
                if lastBreak >= index {
                    end = lastBreak + 1
                } else if runEnd < count, runEnd - index >= 2 {
                    // `\s+(?!\S)`: leave the last space to prefix what follows.
                    end = runEnd - 1
                } else {
                    end = runEnd
                }
            }
            body(starts[index]..<starts[end])
            index = end
        }
    }
}
