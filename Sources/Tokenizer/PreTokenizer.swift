/// GPT-2's pre-tokenizer: splits text into the pieces that BPE runs on.
///
/// It reproduces the regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// (leftmost alternative wins, runs are greedy) by hand over Unicode scalars,
/// because a general regex engine is several times slower and Foundation's
/// has subtly different `\s`. Classes follow the Unicode properties that
/// Python's `regex` and Rust's `regex` use: `\s` = White_Space, `\p{L}` =
/// general category L*, `\p{N}` = N*.
///
/// Bytes that are not part of a well-formed UTF-8 sequence count as one
/// character each of the "other" class (neither letter, number nor
/// whitespace), exactly as if the text had been decoded with Python's
/// `surrogateescape` (lone surrogates are category Cs). So an invalid byte
/// joins a neighbouring punctuation run and may take a leading space.
enum PreTokenizer {
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
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        // Decode once into parallel arrays of (start offset, scalar, class).
        var starts: [Int] = []
        var scalars: [UInt32] = []
        var classes: [CharClass] = []
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

        let count = scalars.count
        let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20
        var index = 0
        while index < count {
            let first = scalars[index]
            // 's 't 'm 'd 're 've 'll (lowercase only, as in GPT-2).
            if first == apostrophe, index + 1 < count {
                let second = scalars[index + 1]
                if second == 0x73 || second == 0x74 || second == 0x6D || second == 0x64 {
                    body(starts[index]..<starts[index + 2])
                    index += 2
                    continue
                }
                if index + 2 < count {
                    let third = scalars[index + 2]
                    if (second == 0x72 && third == 0x65) || (second == 0x76 && third == 0x65)
                        || (second == 0x6C && third == 0x6C)
                    {
                        body(starts[index]..<starts[index + 3])
                        index += 3
                        continue
                    }
                }
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
}
