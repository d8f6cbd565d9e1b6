import Foundation

/// One cell of the in-memory screen.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: CellStyle
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

    public func put(_ text: String, row: Int, column: Int, style: CellStyle) {
        guard row >= 0, row < height else { return }
        var c = column
        for ch in text {
            if c >= width { break }
            if c >= 0 { cells[row][c] = Cell(character: Self.printable(ch), style: style) }
            c += 1
        }
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

    /// The screen's characters, one line per row, trailing spaces kept.
    public var text: String {
        cells.map { String($0.map(\.character)) }.joined(separator: "\n")
    }

    /// Text of one row.
    public func row(_ r: Int) -> String { String(cells[r].map(\.character)) }

    /// A stable, exact dump: the text, then each row's styles as one letter per cell
    /// ('.' for plain) with a legend of what each letter means.
    public func dump() -> String {
        var legend: [CellStyle: Character] = [.plain: "."]
        var order: [CellStyle] = []
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var styleRows: [String] = []
        for row in cells {
            var line = ""
            for cell in row {
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
