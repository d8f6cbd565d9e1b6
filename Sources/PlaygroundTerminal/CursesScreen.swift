import CNcurses
import Playground
import Foundation

/// Why the terminal could not be used, said in one line.
public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
}

/// The real terminal through ncursesw: `newterm` (not `initscr`, which exits the process
/// on an unknown TERM), raw keys, 256 / 8 / no colours.
public final class CursesScreen: Screen {
    public let colorMode: ColorMode
    private let terminal: OpaquePointer
    private var pairs: [PairKey: Int32] = [:]
    private var ended = false

    private struct PairKey: Hashable { var fg: Int32, bg: Int32 }

    /// Starts curses on the controlling terminal. `noColor` follows NO_COLOR.
    public init(noColor: Bool) throws {
        setlocale(LC_ALL, "")
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError(description: "exitlens play needs a terminal on stdin and stdout (use --script FILE --dump DIR without one)")
        }
        let termName = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !termName.isEmpty, let screen = cn_newterm_stdio() else {
            throw TerminalError(description: "unknown terminal type TERM='\(termName)': set TERM (e.g. xterm-256color)")
        }
        terminal = screen
        set_term(screen)
        raw() // Ctrl-S, Ctrl-Q, Ctrl-Z and Ctrl-Y reach the editor instead of the tty driver.
        noecho()
        keypad(cn_stdscr(), true)
        nodelay(cn_stdscr(), true)
        // ncurses waits this long for the rest of a sequence it knows from terminfo; the
        // decoder (`readKeys`) applies the same rule to the sequences ncurses passes through.
        cn_set_escdelay(Self.escapeTimeoutMilliseconds)
        if !noColor && has_colors() {
            start_color()
            use_default_colors()
            // A direct-colour terminfo (TERM=xterm-direct) numbers colours as 0xRRGGBB.
            let colors = cn_colors()
            colorMode = colors >= 1 << 24 ? .truecolor : colors >= 256 ? .full256 : .eight
        } else {
            colorMode = .none
        }
    }

    public var width: Int { Int(getmaxx(cn_stdscr())) }
    public var height: Int { Int(getmaxy(cn_stdscr())) }

    public func clear() { werase(cn_stdscr()) }

    private func colorNumber(_ c: TerminalColor?) -> Int32 {
        switch c {
        case nil: return -1
        case .ansi(let n)?: return Int32(n)
        case .palette(let n)?:
            switch colorMode {
            case .truecolor: let c = Self.paletteRGB(n); return Int32(c.0 << 16 | c.1 << 8 | c.2)
            case .full256: return Int32(n)
            default: return Int32(n % 8)
            }
        case .rgb(let r, let g, let b)?:
            switch colorMode {
            case .truecolor: return Int32((r & 255) << 16 | (g & 255) << 8 | (b & 255))
            case .full256: return Int32(Self.nearestCube(r, g, b))
            default: return 7
            }
        }
    }

    /// The xterm palette's RGB for index `n` (16 system colours approximated, cube, greys).
    static func paletteRGB(_ n: Int) -> (Int, Int, Int) {
        let levels = [0, 95, 135, 175, 215, 255]
        switch n {
        case 16..<232: let i = n - 16; return (levels[i / 36], levels[(i / 6) % 6], levels[i % 6])
        case 232..<256: let v = 8 + (n - 232) * 10; return (v, v, v)
        default:
            let base = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)]
            let c = base[max(0, n) % 8]
            return n >= 8 ? (min(255, c.0 + 50), min(255, c.1 + 50), min(255, c.2 + 50)) : c
        }
    }

    /// The 6×6×6 cube index nearest an RGB colour.
    static func nearestCube(_ r: Int, _ g: Int, _ b: Int) -> Int {
        func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : min(5, (v - 35) / 40) }
        return 16 + 36 * level(r) + 6 * level(g) + level(b)
    }

    private func attributes(_ style: CellStyle) -> Int32 {
        var a: Int32 = 0
        if style.bold { a |= cn_attr_bold() }
        if style.dim { a |= cn_attr_dim() }
        if style.underline { a |= cn_attr_underline() }
        if style.reverse { a |= cn_attr_reverse() }
        if colorMode != .none, style.foreground != nil || style.background != nil {
            let key = PairKey(fg: colorNumber(style.foreground), bg: colorNumber(style.background))
            var pair = pairs[key]
            // COLOR_PAIR() encodes pairs 1…255 in the attributes: plenty for 64 layers and the UI.
            if pair == nil, Int32(pairs.count + 1) < min(256, cn_color_pairs()) {
                let n = Int32(pairs.count + 1)
                init_extended_pair(n, key.fg, key.bg)
                pairs[key] = n
                pair = n
            }
            if let pair { a |= cn_color_pair(pair) }
        }
        return a
    }

    public func put(_ text: String, row: Int, column: Int, style: CellStyle) {
        guard row >= 0, row < height, column < width else { return }
        // Clipped in display columns, as MemoryScreen does: half a wide character is a blank.
        var visible = ""
        var c = column
        for ch in text {
            let w = DisplayWidth.of(ch)
            if c + w > width { if c < width { visible.append(" ") }; break }
            if c >= 0 { visible.append(MemoryScreen.printable(ch)) } else if c + w > 0 { visible.append(" ") }
            c += w
        }
        guard !visible.isEmpty else { return }
        attrset(attributes(style))
        // Writing the bottom-right cell returns ERR (the cursor cannot advance); harmless.
        _ = mvaddstr(Int32(row), Int32(max(0, column)), visible)
        attrset(cn_attr_normal())
    }

    public func setCursor(row: Int, column: Int, visible: Bool) {
        if visible, row >= 0, row < height, column >= 0, column < width {
            move(Int32(row), Int32(column))
            curs_set(1)
        } else {
            curs_set(0)
        }
    }

    public func present() { refresh() }

    /// How long the next character of an escape sequence may take, in milliseconds (as
    /// ncurses' ESCDELAY / vim's ttimeoutlen): bytes of one sequence arrive together, so after
    /// this pause an Esc is an Escape and the characters after it are typing.
    static let escapeTimeoutMilliseconds: Int32 = 50
    /// Most keys taken per call, so a flood of input still lets the screen redraw.
    static let batchLimit = 4096

    /// Whether the last `readKeys()` stopped at `batchLimit` with input possibly left inside
    /// ncurses' own buffer, where `poll` on stdin cannot see it: the loop must not block.
    public private(set) var hasBufferedInput = false

    /// Every key waiting, decoded (empty when none). Reading goes on until ncurses has nothing
    /// left — stopping early (e.g. at a key it cannot name) would leave bytes in ncurses' buffer
    /// that `poll` on stdin never reports, and the editor would wait forever with them.
    public func readKeys() -> [Key] {
        var keys: [Key] = []
        hasBufferedInput = false
        defer { nodelay(cn_stdscr(), true) }
        while keys.count < Self.batchLimit {
            if decoder.isWaiting { wtimeout(cn_stdscr(), Self.escapeTimeoutMilliseconds) } else { nodelay(cn_stdscr(), true) }
            var wch: wint_t = 0
            let r = wget_wch(cn_stdscr(), &wch)
            if r == ERR {
                guard decoder.isWaiting else { return keys }
                keys += decoder.timeout()
            } else if r == KEY_CODE_YES {
                // A key ncurses decoded from terminfo; one it cannot name is skipped, not a stop.
                if let key = Self.functionKey(Int32(wch)) { keys += decoder.feed(key) }
            } else if let scalar = Unicode.Scalar(UInt32(wch)) {
                keys += decoder.feed(scalar)
            }
        }
        hasBufferedInput = true
        return keys
    }

    private var decoder = KeyDecoder()

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_ENTER: return .enter
        case KEY_BTAB: return .backTab
        case KEY_RESIZE: return .resize
        default:
            for n in 1...12 where code == cn_key_f(Int32(n)) { return .function(n) }
            // Modified arrows have terminal-specific codes; ncurses names them (kRIT5 = Ctrl-→).
            guard let name = keyname(code).map({ String(cString: $0) }) else { return nil }
            switch name {
            case "kRIT5": return .ctrlRight
            case "kLFT5": return .ctrlLeft
            case "kRIT3": return .alt("f")
            default: return nil
            }
        }
    }

    /// Restore the terminal (idempotent: also called from signal handling).
    public func end() {
        guard !ended else { return }
        ended = true
        endwin()
        delscreen(terminal)
    }
}
