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
