import Completion
import EarlyExit
import Foundation

/// The layer × token grid (F9 / Alt-g), the logit lens for teaching: rows are the layers with
/// a head, columns the suggested tokens, each cell that layer's top-1 for the column's position.
public struct LayerGridState: Sendable {
    /// The suggestion the grid describes.
    public var suggestionJob: Int
    /// Its tokens, as they were when the grid was computed.
    public var tokens: [GeneratedToken] = []
    /// The policy kind it was asked under (named in the title).
    public var policy = ""
    /// The teacher-forced pass in flight.
    public var job: Int?
    public var grid: LayerGrid?
    public var error: String?
    /// Scroll: first layer row and first token column shown.
    public var top = 0
    public var left = 0
}

extension PlaygroundSession {
    /// Columns each token cell takes: a mark, seven characters of the token, a space.
    static let gridCellWidth = 9
    /// Columns of the layer labels.
    static let gridLabelWidth = 6
    /// Lines above the layer rows: title, source, legend, tokens, exit layers.
    static let gridHeaderRows = 5

    func openLayerGrid() {
        closeViews()
        guard let s = suggestion, s.error == nil, !(s.finished && s.tokens.isEmpty) else {
            say("no suggestion for the layer grid: type, or Ctrl-Space to ask, then F9")
            return
        }
        layerGridView = LayerGridState(suggestionJob: s.job, policy: s.policy)
        // A suggestion still streaming gets its grid when it has finished (`suggestionChanged`).
        if s.finished { startLayerGrid(for: s) }
    }

    /// The grid from the trace when every layer was recorded; otherwise the teacher-forced pass.
    func startLayerGrid(for s: Suggestion) {
        guard var g = layerGridView else { return }
        g.tokens = s.tokens
        if let recorded = LayerGrid.recorded(s.tokens, layerCount: model.layerCount) {
            g.grid = recorded
        } else if let result = s.result {
            nextJob += 1
            g.job = nextJob
            let request = LayerGridRequest(promptIDs: result.promptTokenIDs, tokens: s.tokens.map(\.id))
            cancelBackgroundPrefill()
            worker?.submit(job: nextJob, work: .layerGrid(request), cancelRunning: false)
        } else {
            g.error = "the suggestion did not finish"
        }
        layerGridView = g
    }

    /// Rows and columns of cells that fit the grid's area on the current screen.
    func layerGridPage() -> (rows: Int, columns: Int) {
        let height = max(0, screenSize.height - 3) // between the title bar and the status line
        return (max(1, height - Self.gridHeaderRows), max(1, (screenSize.width - Self.gridLabelWidth) / Self.gridCellWidth))
    }

    /// Arrows, PgUp/PgDn, Home/End move the grid; true when `key` was one of them.
    func scrollLayerGrid(_ key: Key) -> Bool {
        guard var g = layerGridView else { return false }
        let page = layerGridPage()
        let rows = g.grid?.layers.count ?? 0, columns = g.tokens.count
        switch key {
        case .up: g.top -= 1
        case .down: g.top += 1
        case .left: g.left -= 1
        case .right: g.left += 1
        case .pageUp: g.top -= page.rows
        case .pageDown: g.top += page.rows
        case .home: g.top = 0; g.left = 0
        case .end: g.top = rows
        default: return false
        }
        g.top = max(0, min(g.top, rows - page.rows))
        g.left = max(0, min(g.left, columns - page.columns))
        layerGridView = g
        return true
    }

    /// A token as a cell shows it: spaces as ·, newlines as ↵, tabs as ⇥.
    func cellText(_ text: String) -> String {
        text.replacingOccurrences(of: " ", with: "·").replacingOccurrences(of: "\n", with: "↵")
            .replacingOccurrences(of: "\t", with: "⇥").replacingOccurrences(of: "\r", with: "")
    }

    func renderLayerGrid(_ g: LayerGridState, on screen: Screen, in rect: Rect) {
        let theme = options.theme
        let L = model.layerCount
        for r in rect.row..<(rect.row + rect.height) { screen.fill(row: r, column: rect.column, count: rect.width, style: .plain) }
        screen.put(String(repeating: "─", count: rect.width), row: rect.row, column: rect.column, style: theme.border)
        let width = rect.width - 1
        func text(_ s: String, row: Int, _ style: CellStyle) {
            guard row < rect.row + rect.height else { return }
            screen.put(String(s.prefix(max(0, width))), row: row, column: rect.column + 1, style: style)
        }
        guard let grid = g.grid else {
            text(" Layer × token grid (logit lens) · Esc closes ", row: rect.row, theme.heading)
            let why = g.error.map { "no grid: \($0)" }
                ?? (g.job == nil ? "… waiting for the suggestion to finish" : "… computing every layer's top-1 (a full-depth pass of the suggested tokens)")
            text(why, row: rect.row + 1, g.error == nil ? theme.muted : theme.error)
            return
        }
        let page = (rows: max(1, rect.height - Self.gridHeaderRows), columns: max(1, (rect.width - Self.gridLabelWidth) / Self.gridCellWidth))
        let rows = grid.layers.count, columns = min(g.tokens.count, grid.top1.count)
        let top = max(0, min(g.top, rows - page.rows)), left = max(0, min(g.left, columns - page.columns))
        let lastRow = min(rows, top + page.rows), lastColumn = min(columns, left + page.columns)
        // Where the window is, and the name only when there is room for it.
        var position = " · layers \(grid.layers[top])–\(grid.layers[lastRow - 1])/\(L)" + (rows > page.rows ? " ↑↓" : "")
        position += " · tokens \(left + 1)–\(lastColumn)/\(columns)" + (columns > page.columns ? " ←→" : "") + " · Esc closes "
        let name = " Layer × token grid (logit lens): each layer's top-1"
        let title = name.count + position.count <= width - 2 ? name : " Layer × token grid"
        text(title + position, row: rect.row, theme.heading)
        switch grid.source {
        case .recorded:
            text("recorded while decoding: every token went through every layer", row: rect.row + 1, theme.muted)
        case .teacherForced:
            text("teacher-forced full-depth pass: under \(g.policy), layers past each exit never ran", row: rect.row + 1, theme.muted)
        }
        var legend = StyledLine()
        legend.append("✓", theme.heading)
        legend.append(" already the final token · ", theme.muted)
        var exitChip = ghostStyle(layer: L).with(dim: false)
        exitChip.reverse = true
        legend.append("reversed", exitChip)
        legend.append(": its exit layer · ", theme.muted)
        legend.append("dim", theme.muted)
        legend.append(": after the exit", theme.muted)
        legend.draw(on: screen, row: rect.row + 2, column: rect.column + 1, skip: 0, width: width)

        // Column headers: the suggested tokens in their exit colours, then each one's exit layer.
        let labelWidth = Self.gridLabelWidth, cell = Self.gridCellWidth
        var tokensLine = StyledLine(), exitLine = StyledLine()
        tokensLine.append(fit("token", labelWidth), theme.muted)
        exitLine.append(fit("exit", labelWidth), theme.muted)
        for c in left..<lastColumn {
            let t = g.tokens[c]
            let style = c == 0 ? theme.prefillToken : ghostStyle(layer: t.trace.exitLayer).with(dim: false)
            tokensLine.append(fit(" " + cellText(t.text), cell - 1), style)
            tokensLine.append(" ", .plain)
            exitLine.append(fit(" " + (c == 0 ? "P" : String(t.trace.exitLayer)), cell), style)
        }
        tokensLine.draw(on: screen, row: rect.row + 3, column: rect.column + 1, skip: 0, width: width)
        exitLine.draw(on: screen, row: rect.row + 4, column: rect.column + 1, skip: 0, width: width)

        for (i, r) in (top..<lastRow).enumerated() {
            let layer = grid.layers[r]
            var line = StyledLine()
            line.append(fit(String(format: "L%2d", layer), labelWidth), ghostStyle(layer: layer).with(dim: false))
            for c in left..<lastColumn {
                let t = g.tokens[c]
                let predicted = grid.top1[c][r]
                let matches = predicted == t.id
                let exit = c == 0 ? L : t.trace.exitLayer
                var style = matches ? theme.heading : CellStyle.plain
                if layer > exit { style = theme.muted }
                if layer == exit {
                    style = (c == 0 ? theme.prefillToken : ghostStyle(layer: layer).with(dim: false))
                    style.reverse = true
                    style.bold = matches
                }
                line.append(fit((matches ? "✓" : " ") + cellText(model.tokenText(predicted)), cell - 1), style)
                line.append(" ", .plain)
            }
            line.draw(on: screen, row: rect.row + Self.gridHeaderRows + i, column: rect.column + 1, skip: 0, width: width)
        }
    }
}
