/// Draws one whole frame: title bar, editor, sidebar, inspector, status line, key bar, help.
extension PlaygroundSession {
    /// The htop-like key bar: key, then its label.
    static let keyBarItems: [(String, String)] = [
        ("F1", "Help"), ("F2", "Policy"), ("F3", "Sidebar"), ("F4", "Inspect"), ("F5/6", "−/+"),
        ("Tab", "Accept"), ("Esc", "Dismiss"), ("^S", "Save"), ("^Q", "Quit"), ("F8", "Compare"), ("F9", "Grid"),
    ]

    /// One frame: first the layout step (the screen's size, scrolling the cursor into view), the only
    /// part that changes the session; then the views draw what they read, changing nothing.
    public func render(to screen: Screen) {
        resize(width: screen.width, height: screen.height)
        let layout = Layout(width: screen.width, height: screen.height, sidebar: showSidebar,
                            inspectorRows: showInspector ? inspectorRows : nil)
        if !layout.tooSmall { scrollCursorIntoView(editor: layout.editor) }
        draw(on: screen, layout: layout)
    }

    private func draw(on screen: Screen, layout: Layout) {
        screen.clear()
        let theme = options.theme
        if layout.tooSmall {
            let text = "terminal too small: \(screen.width)×\(screen.height), need \(Layout.minWidth)×\(Layout.minHeight)"
            let row = max(0, screen.height / 2)
            screen.put(text, row: row, column: max(0, (screen.width - text.count) / 2), style: theme.warning)
            screen.setCursor(row: 0, column: 0, visible: false)
            screen.present()
            return
        }
        // Title bar.
        screen.fill(row: 0, column: 0, count: screen.width, style: theme.bar)
        let right = "\(model.name) · \(knobs.summary) "
        screen.put(" ExitLens  " + title, row: 0, column: 0, style: theme.bar)
        screen.put(right, row: 0, column: max(0, screen.width - DisplayWidth.of(right)), style: theme.bar)

        let cursor = renderEditor(on: screen, in: layout.editor)
        if let sidebar = layout.sidebar { renderSidebar(on: screen, in: sidebar) }
        if let compact = layout.compactSidebar { renderCompactSidebar(on: screen, in: compact) }
        if let inspector = layout.inspector { renderInspector(on: screen, in: inspector) }

        // Status line: a message, or what the suggestion is doing.
        let status = message ?? suggestionStatus
        let style = message != nil ? (messageIsError ? theme.error : theme.heading) : (status.hasPrefix("⊘") ? theme.warning : theme.muted)
        let position = "Ln \(buffer.cursor.line + 1), Col \(buffer.cursor.column + 1) "
        screen.put(prefix(of: status, fitting: screen.width - position.count - 1).text, row: layout.status.row, column: 0, style: style)
        screen.put(position, row: layout.status.row, column: screen.width - position.count, style: theme.muted)

        // Key bar.
        var column = 0
        for (key, label) in Self.keyBarItems {
            guard column + key.count + label.count + 1 <= screen.width else { break }
            screen.put(key, row: layout.keyBar.row, column: column, style: theme.barKey)
            column += key.count
            screen.put(label + " ", row: layout.keyBar.row, column: column, style: theme.barLabel)
            column += label.count + 1
        }
        screen.fill(row: layout.keyBar.row, column: column, count: screen.width - column, style: theme.barLabel)

        // The comparison and the grid cover the editor and the sidebar, not the status and key bars.
        let covered = Rect(row: 1, column: 0, width: screen.width, height: max(0, screen.height - 3))
        if let comparison { renderComparison(comparison, on: screen, in: covered) }
        if let layerGridView { renderLayerGrid(layerGridView, on: screen, in: covered) }
        if showHelp {
            renderHelp(on: screen)
            screen.setCursor(row: 0, column: 0, visible: false)
        } else if comparison != nil || layerGridView != nil {
            screen.setCursor(row: 0, column: 0, visible: false)
        } else if let cursor {
            screen.setCursor(row: cursor.row, column: cursor.column, visible: true)
        }
        screen.present()
    }
}
