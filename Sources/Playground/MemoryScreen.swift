import Foundation

/// One cell of the in-memory screen.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: CellStyle
    /// The right half of the wide character in the cell before (漢 takes two cells).
    public var isContinuation = false
}

/// An in-memory grid of cells: what the tests, golden files and `--script --dump` read.
public final class MemoryScreen: Screen {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [[Cell]]
    public private(set) var cursor: (row: Int, column: Int)?

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Array(repeating: Cell(character: " ", style: .plain), count: width), count: height)
    }

    /// A resize, as the terminal would report it.
    public func resize(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        clear()
    }

    public func clear() {
        let blank = Cell(character: " ", style: .plain)
        guard cells.count == height, cells.allSatisfy({ $0.count == width }) else {
            cells = Array(repeating: Array(repeating: blank, count: width), count: height)
            return
        }
        // Every frame starts with a clear: blanking the rows in place, rather than allocating new ones
        // that each frame's first write then copies, makes rendering several times cheaper (FuzzEditor).
        for r in cells.indices {
            for c in cells[r].indices { cells[r][c] = blank }
        }
    }

    /// Draws as a terminal does: a wide character takes two cells (the second marked as its
    /// continuation), one that does not fit at the right edge leaves a blank, a zero-width one
    /// (a combining mark on its own, U+200B) takes none, and overwriting half of a wide
    /// character blanks the other half.
    public func put(_ text: String, row: Int, column: Int, style: CellStyle) {
        guard row >= 0, row < height else { return }
        var c = column
        for ch in text {
            if c >= width { break }
            let w = DisplayWidth.of(ch)
            if w == 0 { continue }
            if c >= 0, c + w <= width {
                place(Cell(character: Self.printable(ch), style: style), row: row, column: c)
                if w == 2 { place(Cell(character: " ", style: style, isContinuation: true), row: row, column: c + 1) }
            } else if c + w > 0 {
                // Half of a wide character, at the left or right edge.
                place(Cell(character: " ", style: style), row: row, column: max(0, c))
            }
            c += w
        }
    }

    private func place(_ cell: Cell, row: Int, column: Int) {
        if cells[row][column].isContinuation, column > 0 { cells[row][column - 1].character = " " }
        if column + 1 < width, cells[row][column + 1].isContinuation {
            cells[row][column + 1].isContinuation = false
        }
        cells[row][column] = cell
    }

    public func setCursor(row: Int, column: Int, visible: Bool) {
        cursor = visible ? (row, column) : nil
    }

    public func present() {}

    /// Control characters would corrupt dumps and terminals alike.
    public static func printable(_ ch: Character) -> Character {
        if let a = ch.asciiValue, a < 32 || a == 127 { return "·" }
        return ch
    }

    /// The screen's characters, one line per row, trailing spaces kept (a wide character's
    /// second cell adds nothing, as in a terminal's copy of the screen).
    public var text: String {
        cells.indices.map(row).joined(separator: "\n")
    }

    /// Text of one row.
    public func row(_ r: Int) -> String { String(cells[r].lazy.filter { !$0.isContinuation }.map(\.character)) }

    /// A stable, exact dump: the text, then each row's styles as one letter per cell
    /// ('.' for plain) with a legend of what each letter means.
    public func dump() -> String {
        var legend: [CellStyle: Character] = [.plain: "."]
        var order: [CellStyle] = []
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var styleRows: [String] = []
        for row in cells {
            var line = ""
            for cell in row where !cell.isContinuation {
                if legend[cell.style] == nil {
                    legend[cell.style] = order.count < letters.count ? letters[order.count] : "?"
                    order.append(cell.style)
                }
                line.append(legend[cell.style] ?? "?")
            }
            styleRows.append(line)
        }
        var out = "size \(width)x\(height)"
        if let cursor { out += " cursor \(cursor.row),\(cursor.column)" }
        out += "\n--- text ---\n" + text + "\n--- styles ---\n" + styleRows.joined(separator: "\n") + "\n--- legend ---\n"
        for style in order {
            out += "\(legend[style] ?? "?") \(Self.describe(style))\n"
        }
        return out
    }

    static func describe(_ s: CellStyle) -> String {
        func name(_ c: TerminalColor?) -> String {
            switch c {
            case nil: return "default"
            case .ansi(let n)?: return "ansi\(n)"
            case .palette(let n)?: return "p\(n)"
            case .rgb(let r, let g, let b)?: return String(format: "#%02x%02x%02x", r, g, b)
            }
        }
        var parts = ["fg=\(name(s.foreground))", "bg=\(name(s.background))"]
        if s.bold { parts.append("bold") }
        if s.dim { parts.append("dim") }
        if s.underline { parts.append("underline") }
        if s.reverse { parts.append("reverse") }
        return parts.joined(separator: " ")
    }
}
