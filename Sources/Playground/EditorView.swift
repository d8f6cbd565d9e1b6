/// The editor pane: line numbers, the visible lines of the buffer, and the ghost text at the
/// cursor, each token coloured by the layer it exited at.
extension PlaygroundSession {
    func ghostStyle(layer: Int) -> CellStyle {
        var style = options.theme.layer(layer, of: model.layerCount)
        if options.theme.mode != .none { style.dim = true }
        return style
    }

    /// Ghost text split into display lines of styled runs.
    func ghostLines() -> [StyledLine] {
        guard let s = suggestion, !s.pieces.isEmpty else { return [] }
        var lines = [StyledLine()]
        for piece in s.pieces {
            var style = piece.tokenIndex == 0 ? options.theme.prefillToken : ghostStyle(layer: piece.layer)
            // The token the inspector describes is marked in the text.
            if showInspector && piece.tokenIndex == inspectedToken { style.reverse = true }
            let parts = piece.text.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if i > 0 { lines.append(StyledLine()) }
                // Tabs would break the grid; show them as spaces in ghost text.
                lines[lines.count - 1].append(part.replacingOccurrences(of: "\t", with: "    "), style)
            }
        }
        return lines
    }

    /// Width of the line-number gutter.
    var gutterWidth: Int { max(4, String(buffer.lineCount).count + 2) }

    /// The layout step before a frame is drawn, and the only one that changes the session: scrolls
    /// so the cursor is in view, vertically and horizontally (wide lines scroll sideways).
    func scrollCursorIntoView(editor rect: Rect) {
        guard rect.height > 0, rect.width > 8 else { return }
        let textWidth = rect.width - gutterWidth
        let cursor = buffer.cursor
        let cursorColumn = DisplayWidth.of(expandTabs(String(buffer.lines[cursor.line].prefix(cursor.column))))
        if cursor.line < topLine { topLine = cursor.line }
        if cursor.line >= topLine + rect.height { topLine = cursor.line - rect.height + 1 }
        if cursorColumn < leftColumn { leftColumn = max(0, cursorColumn - textWidth / 4) }
        if cursorColumn >= leftColumn + textWidth { leftColumn = cursorColumn - textWidth + textWidth / 4 }
    }

    /// Draws the editor in `rect` (reading the session, never changing it); returns where the
    /// terminal cursor goes.
    func renderEditor(on screen: Screen, in rect: Rect) -> (row: Int, column: Int)? {
        guard rect.height > 0, rect.width > 8 else { return nil }
        let theme = options.theme
        let gutter = gutterWidth
        let textWidth = rect.width - gutter
        let cursor = buffer.cursor
        let cursorLine = buffer.lines[cursor.line]
        // Tabs are shown as spaces to the next multiple of 4, and 漢 takes two columns, so the
        // cursor's screen column is the display width of the text before it.
        let head = expandTabs(String(cursorLine.prefix(cursor.column)))
        let cursorColumn = DisplayWidth.of(head)
        let tail = expandTabs(String(cursorLine.dropFirst(cursor.column)), from: cursorColumn)

        let ghost = ghostLines()
        var row = 0
        var line = topLine
        var cursorCell: (Int, Int)?
        while row < rect.height, line < buffer.lineCount {
            let number = String(line + 1)
            let numberStyle = line == cursor.line ? theme.currentLineNumber : theme.lineNumber
            screen.put(String(repeating: " ", count: max(0, gutter - 1 - number.count)) + number + " ",
                       row: rect.row + row, column: rect.column, style: numberStyle)
            if line != cursor.line {
                var styled = StyledLine()
                styled.append(expandTabs(buffer.lines[line]), theme.text)
                styled.draw(on: screen, row: rect.row + row, column: rect.column + gutter, skip: leftColumn, width: textWidth)
                row += 1; line += 1
                continue
            }
            cursorCell = (rect.row + row, rect.column + gutter + cursorColumn - leftColumn)
            var first = StyledLine()
            first.append(head, theme.text)
            if ghost.isEmpty {
                first.append(tail, theme.text)
                if let stopNote = inlineNote {
                    first.append("  " + stopNote, theme.muted)
                }
                first.draw(on: screen, row: rect.row + row, column: rect.column + gutter, skip: leftColumn, width: textWidth)
                row += 1; line += 1
                continue
            }
            // The ghost text sits between the text before and after the cursor; its extra
            // lines are virtual rows without numbers, pushing the buffer down.
            for (i, ghostLine) in ghost.enumerated() {
                var styled = i == 0 ? first : StyledLine()
                styled.runs += ghostLine.runs
                if i == ghost.count - 1 { styled.append(tail, theme.text) }
                if row < rect.height {
                    if i > 0 { screen.put(String(repeating: " ", count: gutter - 2) + "┆ ", row: rect.row + row, column: rect.column, style: theme.muted) }
                    styled.draw(on: screen, row: rect.row + row, column: rect.column + gutter, skip: leftColumn, width: textWidth)
                }
                row += 1
            }
            line += 1
        }
        while row < rect.height {
            screen.put(String(repeating: " ", count: gutter - 2) + "~", row: rect.row + row, column: rect.column, style: theme.muted)
            row += 1
        }
        return cursorCell
    }

    /// `text` with tabs expanded to the next multiple of 4 display columns, starting at column `from`.
    func expandTabs(_ text: String, from start: Int = 0) -> String {
        guard text.contains("\t") else { return text }
        var out = ""
        var column = start
        for ch in text {
            if ch == "\t" {
                let n = 4 - column % 4
                out += String(repeating: " ", count: n)
                column += n
            } else {
                out.append(ch)
                column += DisplayWidth.of(ch)
            }
        }
        return out
    }

    /// Shown after the cursor when a completion gave nothing to show: why.
    var inlineNote: String? {
        guard let s = suggestion, s.finished, s.pieces.isEmpty else { return nil }
        if s.result?.stop != nil { return suggestionStatus }
        if s.result != nil && s.tokens.isEmpty { return "no suggestion" }
        return nil
    }
}
