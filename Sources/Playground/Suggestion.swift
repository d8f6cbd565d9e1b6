import Completion
import EarlyExit

/// A run of ghost text from one token, with the layer that token exited at.
public struct GhostPiece: Sendable, Equatable {
    public var text: String
    public var layer: Int
    /// Index into `Suggestion.tokens`.
    public var tokenIndex: Int
}

/// Where a suggestion was asked for: what shapes where it starts and ends.
public struct SuggestionContext: Sendable, Equatable {
    /// The cursor's line before and after the cursor.
    public var lineBefore: String
    public var lineAfter: String
    /// Most lines a suggestion may span.
    public var maxLines: Int

    public init(lineBefore: String = "", lineAfter: String = "", maxLines: Int = 8) {
        self.lineBefore = lineBefore
        self.lineAfter = lineAfter
        self.maxLines = maxLines
    }

    /// How the raw model text is shown: `lead` characters hidden at the start (whitespace that
    /// merges with indentation already typed) and at most `end` characters in all (nil: all).
    public func shape(_ raw: String) -> (lead: Int, end: Int?) {
        let chars = Array(raw)
        var lead = 0
        // Indentation typed before the cursor and leading spaces of the ghost merge: their sum is
        // rounded down to a whole level (4 typed + " return" gives 4 spaces, not 5).
        if !lineBefore.isEmpty, lineBefore.allSatisfy({ $0 == " " }) {
            let spaces = chars.prefix { $0 == " " }.count
            let combined = lineBefore.count + spaces
            let target = max(lineBefore.count, combined / 4 * 4)
            lead = combined - target
        }
        var end: Int?
        if !lineAfter.allSatisfy({ $0 == " " || $0 == "\t" }) {
            // Text follows the cursor: the suggestion ends at the end of the line, and its end
            // that repeats what follows the cursor is not shown again.
            let lineEnd = chars[lead...].firstIndex(of: "\n") ?? chars.count
            let line = Array(chars[lead..<lineEnd])
            let after = Array(lineAfter)
            var overlap = 0
            for k in stride(from: min(line.count, after.count), through: 1, by: -1) where Array(line.suffix(k)) == Array(after.prefix(k)) {
                overlap = k
                break
            }
            end = lineEnd - overlap
        } else {
            // Otherwise stop before a line that dedents below the cursor's block, or at the cap.
            let block = lineBefore.prefix { $0 == " " || $0 == "\t" }.count
                + (lineBefore.allSatisfy({ $0 == " " }) ? chars.prefix { $0 == " " }.count - lead : 0)
            var lines = 1
            var i = lead
            while i < chars.count {
                if chars[i] == "\n" {
                    let start = i + 1
                    let indent = chars[start...].prefix { $0 == " " || $0 == "\t" }.count
                    let rest = start + indent
                    // Only a line whose first visible character has arrived can be judged.
                    if rest < chars.count, chars[rest] != "\n" {
                        if indent < block || lines >= maxLines { end = i; break }
                        lines += 1
                    }
                }
                i += 1
            }
        }
        return (lead, end)
    }
}

/// One suggestion as it streams in and as the user types through or accepts parts of it.
public struct Suggestion: Sendable {
    public var job: Int
    /// Every token generated (what the inspector and the sidebar describe).
    public var tokens: [GeneratedToken] = []
    public var result: CompletionResult?
    public var finished = false
    public var error: String?
    /// Seconds from the keystroke that asked for it to the first ghost token (UI clock).
    public var firstTokenLatency: Double?
    /// Sampled alternative (Alt-]): which one, counting from 0 for the greedy one.
    public var alternative = 0
    /// The policy kind and setting it was asked under (for the log: F2 may change them before it is retired).
    public var policy = ""
    public var setting = ""
    /// Where it was asked for (shapes its start and end).
    public var context = SuggestionContext()
    /// The text before the cursor it continues (the comparison's `full` run completes it again).
    public var prompt = ""
    /// Characters typed through or accepted (removed from the front of the shown text).
    public private(set) var consumed = 0
    /// Of `consumed`: characters accepted (Tab, word, line) and typed through.
    public var acceptedChars = 0
    public var typedChars = 0
    /// The longest ghost text shown so far (what the log records as shown).
    public var shownText = ""

    public init(job: Int, context: SuggestionContext = SuggestionContext()) {
        self.job = job
        self.context = context
    }

    /// All the model's text, unshaped.
    public var rawText: String { tokens.map(\.text).joined() }

    /// What is still shown as ghost text: the shaped suggestion less what was consumed, without
    /// trailing whitespace, and nothing at all while it is only whitespace.
    public var pieces: [GhostPiece] {
        let shape = context.shape(rawText)
        var pieces: [GhostPiece] = []
        var position = 0
        let start = shape.lead + consumed
        var stop = shape.end ?? Int.max
        // Trailing whitespace (blank lines, the next line's indentation) shows nothing useful.
        let raw = Array(rawText)
        var last = min(stop, raw.count)
        while last > start, raw[last - 1] == " " || raw[last - 1] == "\n" || raw[last - 1] == "\t" { last -= 1 }
        guard last > start else { return [] }
        stop = last
        for (i, token) in tokens.enumerated() {
            let n = token.text.count
            defer { position += n }
            let from = max(position, start), to = min(position + n, stop)
            guard from < to else { continue }
            let piece = String(token.text.dropFirst(from - position).prefix(to - from))
            pieces.append(GhostPiece(text: piece, layer: token.trace.exitLayer, tokenIndex: i))
        }
        return pieces
    }

    /// The model ran past the shaped end: nothing it adds will be shown.
    public var reachedEnd: Bool { context.shape(rawText).end != nil }

    /// The ghost text still shown.
    public var text: String { pieces.map(\.text).joined() }

    public mutating func append(_ token: GeneratedToken) {
        tokens.append(token)
    }

    /// Remove the first `count` characters of ghost text (typed through or accepted).
    public mutating func dropPrefix(_ count: Int) {
        consumed += max(0, count)
    }

    /// Ghost text up to the end of the next word: leading spaces, then a run of word
    /// characters (or a single other character), as Ctrl-→ accepts.
    public var nextWord: String {
        let chars = Array(text)
        var i = 0
        while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
        if i < chars.count, chars[i] == "\n" { return String(chars[...i]) }
        let isWord: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "_" }
        if i < chars.count, isWord(chars[i]) {
            while i < chars.count, isWord(chars[i]) { i += 1 }
        } else if i < chars.count {
            i += 1
        }
        return String(chars[..<i])
    }

    /// Ghost text through the end of the first line that is not blank (with its newline), as
    /// Alt-Enter accepts: leading blank lines never make an accept that adds nothing visible.
    public var nextLine: String {
        let chars = Array(text)
        var i = 0, sawText = false
        while i < chars.count {
            if chars[i] == "\n" {
                if sawText { return String(chars[...i]) }
            } else if chars[i] != " " && chars[i] != "\t" {
                sawText = true
            }
            i += 1
        }
        return text
    }

    /// Tokens that produced the remaining ghost text, for the inspector's default selection.
    public var firstShownTokenIndex: Int? { pieces.first?.tokenIndex }
}
