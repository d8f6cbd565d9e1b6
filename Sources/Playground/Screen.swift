/// A colour a cell can be drawn in: one of the 8 ANSI colours, a 256-colour palette index, or
/// 24-bit RGB (truecolor terminals; others show the nearest palette colour).
public enum TerminalColor: Hashable, Sendable {
    case ansi(Int)
    case palette(Int)
    case rgb(Int, Int, Int)
}

/// How one cell looks: colours and attributes. Attributes matter on their own because
/// NO_COLOR and monochrome terminals show exit layers through them.
public struct CellStyle: Hashable, Sendable {
    public var foreground: TerminalColor?
    public var background: TerminalColor?
    public var bold = false
    public var dim = false
    public var underline = false
    public var reverse = false

    public init(foreground: TerminalColor? = nil, background: TerminalColor? = nil,
                bold: Bool = false, dim: Bool = false, underline: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.underline = underline
        self.reverse = reverse
    }

    public static let plain = CellStyle()
}

/// Where every panel draws: ncurses in production, `MemoryScreen` in tests and `--dump`.
///
/// Text is clipped at the right edge. Columns are display columns (`DisplayWidth`): 漢 and
/// emoji take two, combining marks none.
public protocol Screen: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// Blank the whole screen before a frame.
    func clear()
    /// Draw `text` from (row, column), clipped to the screen.
    func put(_ text: String, row: Int, column: Int, style: CellStyle)
    /// Show the terminal cursor at (row, column), or hide it.
    func setCursor(row: Int, column: Int, visible: Bool)
    /// Make the frame visible.
    func present()
}

extension Screen {
    /// Fill `count` cells of a row with spaces in `style` (bars, selected lines).
    public func fill(row: Int, column: Int, count: Int, style: CellStyle) {
        guard count > 0 else { return }
        put(String(repeating: " ", count: count), row: row, column: column, style: style)
    }
}
