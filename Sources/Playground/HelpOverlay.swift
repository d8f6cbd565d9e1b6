/// Every key, for the help overlay (F1) and the tests that check it stays complete.
public let playgroundKeyHelp: [(keys: String, action: String)] = [
    ("type", "edit; a pause (~120 ms) asks the model for ghost text"),
    ("Tab", "accept the whole suggestion (no suggestion: insert spaces)"),
    ("Ctrl-→ / Alt-f", "accept one word"),
    ("Alt-Enter", "accept one line"),
    ("Esc", "dismiss the suggestion"),
    ("Alt-] / Alt-[", "another (sampled) suggestion / cycle back"),
    ("Ctrl-Space", "ask for a suggestion now"),
    ("matching char", "types through the suggestion; other keys cancel it"),
    ("arrows Home End", "move (Home: indentation, then column 0)"),
    ("PgUp / PgDn", "move a page; long files scroll, wide lines scroll sideways"),
    ("Enter", "new line keeping the indentation"),
    ("Backspace Del", "delete"),
    ("Ctrl-Z / Ctrl-Y", "undo / redo"),
    ("Ctrl-S", "save (atomic: temp file, fsync, rename)"),
    ("Ctrl-Q", "quit (asks again when there are unsaved changes)"),
    ("F1", "this help (any key closes it)"),
    ("F2", "cycle policy: full sec softmax saturation fixed speculative"),
    ("F3", "toggle the sidebar"),
    ("F4 / Alt-i", "toggle the inspector; Alt-n / Alt-p select a token"),
    ("F5 / F6", "lower / raise the selected threshold (τexit τstop λ k n)"),
    ("F7", "select the next threshold"),
    ("Alt-r", "restore text from a recovery file, when offered"),
]

extension PlaygroundSession {
    func renderHelp(on screen: Screen) {
        let theme = options.theme
        let keyWidth = playgroundKeyHelp.map(\.keys.count).max() ?? 10
        let width = min(screen.width - 4, keyWidth + 64)
        let height = min(screen.height - 2, playgroundKeyHelp.count + 5)
        let top = max(0, (screen.height - height) / 2), left = max(0, (screen.width - width) / 2)
        screen.put("┌" + String(repeating: "─", count: width - 2) + "┐", row: top, column: left, style: theme.border)
        for r in 1..<(height - 1) {
            screen.put("│" + String(repeating: " ", count: width - 2) + "│", row: top + r, column: left, style: theme.border)
        }
        screen.put("└" + String(repeating: "─", count: width - 2) + "┘", row: top + height - 1, column: left, style: theme.border)
        screen.put(" ExitLens playground — keys ", row: top, column: left + 2, style: theme.heading)
        var row = top + 1
        for (keys, action) in playgroundKeyHelp where row < top + height - 2 {
            screen.put(fit(keys, keyWidth), row: row, column: left + 2, style: theme.heading)
            screen.put(String(action.prefix(width - keyWidth - 6)), row: row, column: left + keyWidth + 4, style: .plain)
            row += 1
        }
        var legend = StyledLine()
        legend.append("ghost colour = exit layer: shallow ", theme.muted)
        for step in 0..<theme.rampSteps {
            let L = model.layerCount
            let layer = L <= 1 ? 1 : 1 + Int((Double(step) + 0.5) / Double(theme.rampSteps) * Double(L - 1))
            legend.append("█", ghostStyle(layer: layer).with(dim: false))
        }
        legend.append(" deep (no colour: underline/dim/bold)", theme.muted)
        legend.draw(on: screen, row: top + height - 2, column: left + 2, skip: 0, width: width - 4)
    }
}
