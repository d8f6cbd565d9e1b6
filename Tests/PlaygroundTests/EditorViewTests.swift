import Foundation
import Testing
@testable import Playground

@Suite struct EditorViewTests {
    @Test func wideLinesScrollHorizontallyToTheCursor() {
        let long = "x = " + String(repeating: "abcdefghij", count: 20) + "END"
        let h = Harness(text: long)
        h.press(.end)
        let screen = h.render()
        #expect(screen.row(1).contains("END"))
        #expect(!screen.row(1).contains("x = "))
        h.press(.home, .home)
        #expect(h.render().row(1).contains("x = abc"))
    }

    @Test func tabsAreExpandedAndTheCursorFollows() {
        let h = Harness(text: "\tif x:\n\t\treturn")
        h.press(.down, .end)
        let screen = h.render()
        #expect(screen.row(1).hasPrefix("  1     if x:"))
        #expect(screen.row(2).hasPrefix("  2         return"))
        #expect(screen.cursor?.column == 4 + 8 + 6)
    }

    @Test func longFilesScrollAndRenderOnlyVisibleLines() {
        let text = (1...300_000).map { "line \($0) = value" }.joined(separator: "\n")
        let h = Harness(text: text)
        let start = Date()
        h.press(.pageDown, .pageDown)
        for _ in 0..<50 { h.press(.down) }
        _ = h.render()
        h.type("x")
        let screen = h.render()
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(screen.text.contains("line 107 = value") || screen.text.contains("x"))
        #expect(h.session.buffer.cursor.line > 50)
        #expect(screen.row(1).hasPrefix("     ") || screen.row(1).contains("line"))
    }

    @Test func sidebarHidesOnF3AndOnNarrowTerminals() {
        let h = Harness(text: "a")
        #expect(h.render().text.contains("Exit layers"))
        h.press(.function(3))
        #expect(!h.render().text.contains("Exit layers"))
        let narrow = Harness(text: "a", width: 70, height: 20)
        #expect(!narrow.render().text.contains("Exit layers"))
        #expect(narrow.render().text.contains("F1Help"))
    }

    @Test func layoutTooSmallBelowTheMinimum() {
        #expect(Layout(width: 59, height: 40, sidebar: true, inspectorRows: nil).tooSmall)
        #expect(Layout(width: 120, height: 15, sidebar: true, inspectorRows: nil).tooSmall)
        let l = Layout(width: 120, height: 40, sidebar: true, inspectorRows: 10)
        #expect(!l.tooSmall)
        #expect(l.editor.width + (l.sidebar?.width ?? 0) == 120)
        #expect(l.editor.height + (l.inspector?.height ?? 0) == 37)
    }
}
