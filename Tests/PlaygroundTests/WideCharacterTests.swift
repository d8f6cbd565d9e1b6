import Testing
@testable import Playground

/// 漢 and emoji take two terminal columns, combining marks none. Cursor placement, horizontal
/// scrolling, ghost text and cutting at the edges use display columns, so the in-memory screen
/// shows what a terminal shows.
@Suite struct WideCharacterTests {
    @Test func widths() {
        #expect(DisplayWidth.of("a" as Character) == 1)
        #expect(DisplayWidth.of("漢" as Character) == 2)
        #expect(DisplayWidth.of("한" as Character) == 2)
        #expect(DisplayWidth.of("\u{FF21}" as Character) == 2) // fullwidth A
        #expect(DisplayWidth.of("\u{FF76}" as Character) == 1) // halfwidth katakana
        #expect(DisplayWidth.of("🙂" as Character) == 2)
        #expect(DisplayWidth.of("e\u{301}" as Character) == 1)
        #expect(DisplayWidth.of("\u{301}" as Character) == 0)
        #expect(DisplayWidth.of("\u{200B}" as Character) == 0)
        #expect(DisplayWidth.of("é" as Character) == 1)
        #expect(DisplayWidth.of("a漢🙂e\u{301}") == 6)
    }

    /// Every row of a frame is exactly the screen's width in display columns.
    func expectRowsFit(_ screen: MemoryScreen, sourceLocation: SourceLocation = #_sourceLocation) {
        for r in 0..<screen.height {
            #expect(DisplayWidth.of(screen.row(r)) == screen.width, "row \(r): \(screen.row(r))", sourceLocation: sourceLocation)
        }
    }

    @Test func cursorAfterWideCharacters() {
        let h = Harness(text: "漢字 = 1")
        h.press(.end)
        let screen = h.render()
        #expect(screen.cursor?.column == 4 + 2 + 2 + 4)
        #expect(screen.row(1).hasPrefix("  1 漢字 = 1"))
        #expect(screen.cells[1][4].character == "漢" && screen.cells[1][5].isContinuation)
        h.press(.left, .left, .left, .left, .left)
        #expect(h.render().cursor?.column == 4 + 2)
        expectRowsFit(screen)
    }

    @Test func combiningMarksTakeNoColumn() {
        let h = Harness(text: "e\u{301}e\u{301}x\u{200B}y")
        h.press(.end)
        let screen = h.render()
        #expect(screen.cursor?.column == 4 + 4)
        expectRowsFit(screen)
    }

    /// Scrolled sideways to the end of a line of 100 漢 (200 columns) in an 80-column text area:
    /// the 漢 cut by the left edge shows as one blank, and nothing after it moves.
    @Test func horizontalScrollCutsAWideCharacterAtTheLeftEdge() {
        let h = Harness(text: "a" + String(repeating: "漢", count: 100) + "x")
        h.press(.end)
        let screen = h.render()
        // Text area 120 − 36 (sidebar) − 4 (gutter) = 80 columns; the cursor is at column 202,
        // scrolled to show it three quarters across: the first shown column is 142.
        #expect(screen.cursor?.column == 4 + 202 - 142)
        #expect(screen.cells[1][4].character == " " && !screen.cells[1][4].isContinuation)
        #expect(screen.cells[1][5].character == "漢")
        #expect(screen.cells[1][screen.cursor!.column - 1].character == "x")
        expectRowsFit(screen)
    }

    /// At the right edge half a 漢 does not fit: a blank, and the sidebar's border after it is intact
    /// (the stale border the burst test saw between 漢 and the next character).
    @Test func wideCharacterCutAtTheRightEdge() {
        let h = Harness(text: "a" + String(repeating: "漢", count: 100))
        let screen = h.render()
        #expect(screen.cells[1][4 + 79].character == " ")
        #expect(screen.cells[1][4 + 78].isContinuation)
        let ascii = Harness(text: "a").render()
        #expect(screen.cells[1][84...] == ascii.cells[1][84...])
        expectRowsFit(screen)
    }

    /// Ghost text starts at the cursor's display column, after the wide characters.
    @Test func ghostTextAfterWideCharacters() {
        let h = Harness(text: "s = \"漢字\"", engine: ScriptedEngine(tokens: [Fixtures.token(10, "abc", layer: 1), Fixtures.token(11, "漢", layer: 2)]))
        h.press(.end, .ctrlSpace)
        h.waitForModel()
        let screen = h.render()
        let column = 4 + DisplayWidth.of("s = \"漢字\"")
        #expect(column == 4 + 10)
        #expect(screen.cursor?.column == column)
        #expect(screen.row(1).hasPrefix("  1 s = \"漢字\"abc漢"))
        // The ghost text's own style (the first token is the prompt pass's, the second is dim).
        #expect(screen.cells[1][column].character == "a" && screen.cells[1][column].style != screen.cells[1][column - 1].style)
        #expect(screen.cells[1][column + 3].character == "漢" && screen.cells[1][column + 3].style.dim)
        #expect(screen.cells[1][column + 4].isContinuation)
        expectRowsFit(screen)
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        let screen = MemoryScreen(width: 6, height: 1)
        screen.put("漢字x", row: 0, column: 0, style: .plain)
        #expect(screen.row(0) == "漢字x ")
        screen.put("b", row: 0, column: 1, style: .plain)
        #expect(screen.row(0) == " b字x ")
        screen.put("c", row: 0, column: 2, style: .plain)
        #expect(screen.row(0) == " bc x ")
        screen.put("漢漢漢", row: 0, column: -1, style: .plain)
        #expect(screen.row(0) == " 漢漢 ")
    }
}
