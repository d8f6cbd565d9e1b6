import Completion
import EarlyExit

/// A run of ghost text from one token, with the layer that token exited at.
public struct GhostPiece: Sendable, Equatable {
    public var text: String
    public var layer: Int
    /// Index into `Suggestion.tokens`.
    public var tokenIndex: Int
}

/// One suggestion as it streams in and as the user types through or accepts parts of it.
public struct Suggestion: Sendable {
    public var job: Int
    /// Every token generated (what the inspector and the sidebar describe).
    public var tokens: [GeneratedToken] = []
    /// What is still shown as ghost text (accepted and typed-through text is removed).
    public var pieces: [GhostPiece] = []
    public var result: CompletionResult?
    public var finished = false
    public var error: String?
    /// Seconds from the keystroke that asked for it to the first ghost token (UI clock).
    public var firstTokenLatency: Double?
    /// Sampled alternative (Alt-]): which one, counting from 0 for the greedy one.
    public var alternative = 0

    public init(job: Int) { self.job = job }

    /// The ghost text still shown.
    public var text: String { pieces.map(\.text).joined() }

    public mutating func append(_ token: GeneratedToken) {
        tokens.append(token)
        if !token.text.isEmpty {
            pieces.append(GhostPiece(text: token.text, layer: token.trace.exitLayer, tokenIndex: tokens.count - 1))
        }
    }

    /// Remove the first `count` characters of ghost text (typed through or accepted).
    public mutating func dropPrefix(_ count: Int) {
        var left = count
        while left > 0, !pieces.isEmpty {
            let n = pieces[0].text.count
            if n <= left {
                left -= n
                pieces.removeFirst()
            } else {
                pieces[0].text = String(pieces[0].text.dropFirst(left))
                left = 0
            }
        }
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

    /// Ghost text through the end of the current line (including its newline), as Alt-Enter accepts.
    public var nextLine: String {
        let t = text
        guard let nl = t.firstIndex(of: "\n") else { return t }
        // On an empty first line, take the next line too so Alt-Enter always makes progress.
        let first = t[...nl]
        if first == "\n", let second = t[t.index(after: nl)...].firstIndex(of: "\n") { return String(t[...second]) }
        return String(first)
    }

    /// Tokens that produced the remaining ghost text, for the inspector's default selection.
    public var firstShownTokenIndex: Int? { pieces.first?.tokenIndex }
}
