/// A key press, decoded from the terminal (or from a `--script` line).
public enum Key: Hashable, Sendable {
    case character(Character)
    case enter, tab, backTab, backspace, delete, escape
    case up, down, left, right, home, end, pageUp, pageDown
    case ctrlRight, ctrlLeft
    /// Ctrl plus a letter (lower case), e.g. ctrl("s").
    case ctrl(Character)
    /// Alt (Meta) plus a character, e.g. alt("f"); Alt-Enter is alt("\n").
    case alt(Character)
    case ctrlSpace
    case function(Int)
    case resize

    /// Parses a key name as `--script` files write it: `Tab`, `Ctrl-S`, `Alt-]`, `F2`, `Enter`…
    public init?(name: String) {
        let lower = name.lowercased()
        switch lower {
        case "enter", "return": self = .enter
        case "tab": self = .tab
        case "backtab", "shift-tab": self = .backTab
        case "backspace", "bs": self = .backspace
        case "delete", "del": self = .delete
        case "esc", "escape": self = .escape
        case "up": self = .up
        case "down": self = .down
        case "left": self = .left
        case "right": self = .right
        case "home": self = .home
        case "end": self = .end
        case "pgup", "pageup": self = .pageUp
        case "pgdn", "pagedown": self = .pageDown
        case "ctrl-right": self = .ctrlRight
        case "ctrl-left": self = .ctrlLeft
        case "ctrl-space": self = .ctrlSpace
        case "alt-enter": self = .alt("\n")
        case "space": self = .character(" ")
        default:
            if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...12).contains(n) { self = .function(n); return }
            if lower.hasPrefix("ctrl-"), name.count == 6, let c = lower.last { self = .ctrl(c); return }
            if lower.hasPrefix("alt-"), name.count == 5, let c = name.last { self = .alt(c); return }
            return nil
        }
    }
}

/// Turns what the terminal sends (characters, plus the keys ncurses already decoded) into keys,
/// with a timeout for escape sequences as ncurses' ESCDELAY and vim's ttimeoutlen have it.
///
/// An Esc starts a sequence only while more input follows at once: a pause (`timeout()`) ends
/// it. `Esc x` in one burst is Alt-x (terminals send Alt that way); `Esc [ A` is Up. A sequence
/// that turns out not to be one — `Esc [` then text, a control character, another Esc, or an
/// unknown final byte — is never dropped: it comes back as Escape followed by the characters
/// typed, so no key is swallowed. Pure, so the fuzzer and tests drive it without a terminal.
public struct KeyDecoder: Sendable {
    /// Characters after an Esc that do not yet make a whole key.
    private var pending: [Unicode.Scalar] = []
    /// Longest parameter part of a control sequence; real keys use at most a few bytes.
    static let maximumSequence = 16

    public init() {}

    /// True while an escape sequence is incomplete: read on with a short timeout, then call `timeout()`.
    public var isWaiting: Bool { !pending.isEmpty }

    /// One character from the terminal.
    public mutating func feed(_ scalar: Unicode.Scalar) -> [Key] {
        guard !pending.isEmpty else {
            if scalar.value == 27 { pending = [scalar]; return [] }
            return Self.plainKey(scalar).map { [$0] } ?? []
        }
        let value = scalar.value
        if pending.count == 1 {
            switch value {
            case 27: return [.escape] // and this Esc starts a new sequence
            case 91, 79: pending.append(scalar); return []          // "[" or "O": CSI or SS3
            case 10, 13: pending = []; return [.alt("\n")]
            case 0x20..<0x7f, 0xa0...: pending = []; return [.alt(Character(scalar))]
            default: return flush() + feed(scalar)                  // Esc, then a control key
            }
        }
        let isSS3 = pending[1] == "O"
        if (0x40...0x7e).contains(value) {
            let body = String(String.UnicodeScalarView(pending.dropFirst(2))) + String(scalar)
            if let key = Key.controlSequence(body) { pending = []; return [key] }
            pending.append(scalar)
            return flush()
        }
        if !isSS3, (0x20...0x3f).contains(value), pending.count < Self.maximumSequence {
            pending.append(scalar)
            return []
        }
        return flush() + feed(scalar)
    }

    /// A key ncurses decoded itself (arrows it knew, a resize) ends any sequence in progress.
    public mutating func feed(_ key: Key) -> [Key] { flush() + [key] }

    /// No more input came within the timeout: what is pending is what was typed.
    public mutating func timeout() -> [Key] {
        if pending.count == 2 {
            let alt = Character(pending[1])
            pending = []
            return [.alt(alt)] // Alt-[ / Alt-O
        }
        return flush()
    }

    /// Pending input as typed: Escape, then each character.
    private mutating func flush() -> [Key] {
        guard !pending.isEmpty else { return [] }
        let rest = pending.dropFirst()
        pending = []
        return [.escape] + rest.compactMap(Self.plainKey)
    }

    /// A character outside any sequence: control characters become their keys.
    static func plainKey(_ scalar: Unicode.Scalar) -> Key? {
        switch scalar.value {
        case 0: return .ctrlSpace
        case 9: return .tab
        case 10, 13: return .enter
        case 8, 127: return .backspace
        case 27: return .escape
        case 1...26: return .ctrl(Character(Unicode.Scalar(scalar.value + 96) ?? "?"))
        case 28...31: return nil // Ctrl-\ … Ctrl-_: no binding, and not text
        default: return .character(Character(scalar))
        }
    }
}

extension Key {
    /// The keys of common CSI / SS3 sequences (the part after ESC [ or ESC O).
    public static func controlSequence(_ body: String) -> Key? {
        switch body {
        case "A": return .up
        case "B": return .down
        case "C": return .right
        case "D": return .left
        case "H", "1~", "7~": return .home
        case "F", "4~", "8~": return .end
        case "3~": return .delete
        case "5~": return .pageUp
        case "6~": return .pageDown
        case "1;5C", "5C": return .ctrlRight
        case "1;5D", "5D": return .ctrlLeft
        case "1;3C": return .alt("f")
        case "P": return .function(1)
        case "Q": return .function(2)
        case "R": return .function(3)
        case "S": return .function(4)
        case "11~": return .function(1)
        case "12~": return .function(2)
        case "13~": return .function(3)
        case "14~": return .function(4)
        case "15~": return .function(5)
        case "17~": return .function(6)
        case "18~": return .function(7)
        case "19~": return .function(8)
        case "20~": return .function(9)
        default: return nil
        }
    }
}
