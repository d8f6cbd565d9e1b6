/// Every key, for the help overlay (F1) and the tests that check it stays complete.
public let playgroundKeyHelp: [(keys: String, action: String)] = [
    ("type", "edit; a pause (~120 ms) asks the model for ghost text"),
    ("Tab", "accept the whole suggestion (no suggestion: insert spaces)"),
    ("Ctrl-→ / Alt-f", "accept one word"),
    ("Alt-Enter", "accept one line (the first that is not blank); Esc then Enter at once is Alt-Enter too"),
    ("Esc", "dismiss the suggestion"),
    ("Alt-] / Alt-[", "another (sampled) suggestion / cycle back"),
    ("Ctrl-Space", "ask for a suggestion now"),
    ("matching char", "types through the suggestion; other keys cancel it"),
    ("arrows Home End", "move (Home: indentation, then column 0)"),
    ("PgUp / PgDn", "move a page; long files scroll, wide lines scroll sideways"),
    ("Enter", "new line keeping the indentation, one level more after \":\""),
    ("Backspace Del", "delete (Backspace in indentation: one level)"),
    ("Ctrl-Z / Ctrl-Y", "undo / redo"),
    ("Ctrl-S", "save (atomic: temp file, fsync, rename)"),
    ("Ctrl-Q", "quit (asks again when there are unsaved changes)"),
    ("F1", "this help (arrows and PgUp/PgDn scroll it, other keys close it)"),
    ("F2", "cycle policy: full sec softmax saturation fixed speculative (re-runs the suggestion at once)"),
    ("F3", "toggle the sidebar"),
    ("F4 / Alt-i", "toggle the inspector; Alt-n / Alt-p select a token"),
    ("F5 / F6", "lower / raise the selected threshold (τexit τstop λ k n) and re-run"),
    ("F7", "select the next threshold"),
    ("F8 / Alt-c", "compare: the suggestion beside full depth on the same prompt (full runs once; Esc closes)"),
    ("F9 / Alt-g", "layer × token grid: every layer's top-1 for each suggested token (arrows scroll, Esc closes)"),
    ("Alt-r", "restore text from a recovery file, when offered"),
]

extension PlaygroundSession {
    /// The help's lines for a box `width` columns wide: each key with its action wrapped under
    /// it, then the colour legend.
    func helpLines(width: Int) -> [StyledLine] {
        let theme = options.theme
        let keyWidth = min(playgroundKeyHelp.map(\.keys.count).max() ?? 10, max(4, width / 3))
        let actionWidth = max(8, width - keyWidth - 2)
        var lines: [StyledLine] = []
        for (keys, action) in playgroundKeyHelp {
            for (i, piece) in wrap(action, actionWidth).enumerated() {
                var l = StyledLine()
                l.append(fit(i == 0 ? String(keys.prefix(keyWidth)) : "", keyWidth) + "  ", theme.heading)
                l.append(piece, .plain)
                lines.append(l)
            }
        }
        var heading = StyledLine()
        heading.append("ghost colour = exit layer (shallow → deep):", theme.muted)
        lines.append(StyledLine())
        lines.append(heading)
        lines += legendLines(width: width)
        return lines
    }

    /// Words of `text` in lines of at most `width` columns (a longer word is cut).
    func wrap(_ text: String, _ width: Int) -> [String] {
        var out: [String] = [], current = ""
        for word in text.split(separator: " ") {
            let w = String(word.prefix(width))
            if current.isEmpty { current = w } else if current.count + 1 + w.count <= width { current += " " + w } else {
                out.append(current)
                current = w
            }
        }
        out.append(current)
        return out
    }

    /// Lines of help that fit on `screen` at once.
    func helpPage(width screenWidth: Int, height screenHeight: Int) -> (width: Int, height: Int, body: Int) {
        let keyWidth = playgroundKeyHelp.map(\.keys.count).max() ?? 10
        let width = max(10, min(screenWidth - 2, keyWidth + 66))
        let height = max(4, screenHeight - 2)
        return (width, height, height - 2)
    }

    /// The furthest the help can scroll on the current screen.
    var helpScrollLimit: Int {
        let page = helpPage(width: screenSize.width, height: screenSize.height)
        return max(0, helpLines(width: page.width - 4).count - page.body)
    }

    func renderHelp(on screen: Screen) {
        let theme = options.theme
        let page = helpPage(width: screen.width, height: screen.height)
        let lines = helpLines(width: page.width - 4)
        let height = min(page.height, lines.count + 2)
        let body = height - 2
        let scroll = min(helpScroll, max(0, lines.count - body))
        let top = max(0, (screen.height - height) / 2), left = max(0, (screen.width - page.width) / 2)
        let inner = page.width - 2
        // Blank the rows the box covers edge to edge, so nothing of the editor peeks out beside it.
        for r in top..<min(screen.height, top + height) { screen.fill(row: r, column: 0, count: screen.width, style: .plain) }
        screen.put("┌" + String(repeating: "─", count: inner) + "┐", row: top, column: left, style: theme.border)
        for r in 1..<(height - 1) {
            screen.put("│" + String(repeating: " ", count: inner) + "│", row: top + r, column: left, style: theme.border)
        }
        screen.put("└" + String(repeating: "─", count: inner) + "┘", row: top + height - 1, column: left, style: theme.border)
        screen.put(String(" ExitLens playground — keys ".prefix(max(0, inner - 2))), row: top, column: left + 2, style: theme.heading)
        for (i, l) in lines.dropFirst(scroll).prefix(body).enumerated() {
            l.draw(on: screen, row: top + 1 + i, column: left + 2, skip: 0, width: page.width - 4)
        }
        if lines.count > body {
            let more = " ↑↓ PgUp/PgDn scroll · \(scroll + 1)–\(min(lines.count, scroll + body)) of \(lines.count) · other keys close "
            let text = String(more.prefix(max(0, inner - 2)))
            screen.put(text, row: top + height - 1, column: left + max(1, inner - text.count), style: theme.muted)
        }
    }
}
