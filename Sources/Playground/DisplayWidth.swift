/// How many terminal columns text takes, by wcwidth's rules for the characters that matter in
/// code: East Asian Wide and Fullwidth characters (漢, ｶ is narrow, Ａ is wide) and emoji take
/// two columns; combining marks, zero-width spaces and other format characters take none.
///
/// A `Character` is as wide as its first scalar: "é" written as e + U+0301 is one column, as in
/// ncurses, which puts the combining mark in the same cell. (Terminals disagree about emoji
/// sequences joined by U+200D; they are counted as one emoji.)
public enum DisplayWidth {
    /// Columns of one character. ASCII is 1 (control characters are drawn as "·"; tabs are
    /// expanded before text is drawn).
    public static func of(_ character: Character) -> Int {
        if character.isASCII { return 1 }
        guard let first = character.unicodeScalars.first else { return 0 }
        return of(first)
    }

    /// Columns of a string: the sum over its characters.
    public static func of<S: StringProtocol>(_ text: S) -> Int {
        // Most code is ASCII: one column per byte.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
        return text.reduce(0) { $0 + of($1) }
    }

    /// Columns of one scalar: 0, 1 or 2.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return 1 }
        // Hangul medial vowels and final consonants join the syllable before them.
        if (0x1160...0x11FF).contains(v) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if scalar.properties.isEmojiPresentation { return 2 }
        return wideRanges.contains { $0.contains(v) } ? 2 : 1
    }

    /// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth.txt, condensed to blocks;
    /// emoji are found by their `Emoji_Presentation` property instead).
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, // Hangul Jamo initial consonants
        0x2329...0x232A, // angle brackets
        0x2E80...0x303E, // CJK radicals, Kangxi, CJK symbols and punctuation (with the ideographic space)
        0x3041...0x33FF, // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, CJK compatibility
        0x3400...0x4DBF, // CJK extension A
        0x4E00...0x9FFF, // CJK unified ideographs
        0xA000...0xA4CF, // Yi
        0xA960...0xA97F, // Hangul Jamo extended A
        0xAC00...0xD7A3, // Hangul syllables
        0xF900...0xFAFF, // CJK compatibility ideographs
        0xFE10...0xFE19, // vertical forms
        0xFE30...0xFE6F, // CJK compatibility forms, small form variants
        0xFF00...0xFF60, // fullwidth forms
        0xFFE0...0xFFE6, // fullwidth signs
        0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF, // Tangut, Kana supplement
        0x20000...0x2FFFD, // CJK extensions B–F
        0x30000...0x3FFFD, // CJK extension G and later
    ]
}

/// The prefix of `text` that fits in `width` columns, and how many columns it takes.
func prefix(of text: String, fitting width: Int) -> (text: String, width: Int) {
    var out = "", used = 0
    for ch in text {
        let w = DisplayWidth.of(ch)
        if used + w > width { break }
        out.append(ch)
        used += w
    }
    return (out, used)
}
