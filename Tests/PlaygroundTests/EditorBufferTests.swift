import Foundation
import Testing
@testable import Playground

@Suite struct EditorBufferTests {
    @Test func typingNewlineKeepsIndentation() {
        var b = EditorBuffer(text: "def f():\n    x = 1")
        b.move(to: TextPosition(line: 1, column: 9))
        b.newline()
        b.insert("y")
        #expect(b.lines == ["def f():", "    x = 1", "    y"])
        #expect(b.cursor == TextPosition(line: 2, column: 5))
    }

    @Test func backspaceJoinsLinesAndDeleteForwardToo() {
        var b = EditorBuffer(text: "ab\ncd")
        b.move(to: TextPosition(line: 1, column: 0))
        b.backspace()
        #expect(b.lines == ["abcd"])
        #expect(b.cursor == TextPosition(line: 0, column: 2))
        b.insert("\n")
        b.move(to: TextPosition(line: 0, column: 2))
        b.deleteForward()
        #expect(b.lines == ["abcd"])
    }

    @Test func undoRedoRestoreTextAndCursor() {
        var b = EditorBuffer(text: "x")
        b.moveEnd()
        b.insert("y"); b.insert("z")   // one typing run: one undo step
        b.insert(" ")
        b.insert("w")
        #expect(b.text == "xyz w")
        b.undo()
        #expect(b.text == "xyz ")
        b.undo()
        #expect(b.text == "xyz")
        b.undo()
        #expect(b.text == "x")
        #expect(b.cursor == TextPosition(line: 0, column: 1))
        b.redo(); b.redo()
        #expect(b.text == "xyz ")
        b.insert("q")
        #expect(!b.canRedo)
    }

    @Test func multiLineInsertAndUndo() {
        var b = EditorBuffer(text: "head\ntail\n")
        b.move(to: TextPosition(line: 0, column: 4))
        b.insert("(a,\n  b)")
        #expect(b.lines == ["head(a,", "  b)", "tail"])
        #expect(b.cursor == TextPosition(line: 1, column: 4))
        b.undo()
        #expect(b.text == "head\ntail\n")
        #expect(!b.isModified || b.version > 0)
    }

    @Test func modifiedTracksSaves() {
        var b = EditorBuffer(text: "a")
        #expect(!b.isModified)
        b.insert("b")
        #expect(b.isModified)
        b.markSaved()
        #expect(!b.isModified)
    }

    @Test func trailingNewlineAndCRLF() {
        #expect(EditorBuffer(text: "a\nb\n").text == "a\nb\n")
        #expect(EditorBuffer(text: "a\nb").text == "a\nb")
        // CRLF files are converted (and written back) by DocumentFile; the buffer keeps every byte.
        #expect(EditorBuffer(text: "a\r\nb\r\n").lines == ["a\r", "b\r"])
        #expect(EditorBuffer(text: "a\r\nb\r\n").text == "a\r\nb\r\n")
        #expect(EditorBuffer(text: "").lines == [""])
    }

    @Test func promptIsTheTextBeforeTheCursorCapped() {
        var b = EditorBuffer(text: "one\ntwo\nthree")
        b.move(to: TextPosition(line: 2, column: 2))
        #expect(b.textBeforeCursor() == "one\ntwo\nth")
        #expect(b.textBeforeCursor(limit: 5) == "wo\nth")
    }

    @Test func verticalMovesKeepThePreferredColumn() {
        var b = EditorBuffer(text: "long line\nab\nanother long")
        b.move(to: TextPosition(line: 0, column: 7))
        b.moveVertically(1)
        #expect(b.cursor == TextPosition(line: 1, column: 2))
        b.moveVertically(1)
        #expect(b.cursor == TextPosition(line: 2, column: 7))
        b.moveHome()
        #expect(b.cursor.column == 0)
    }

    @Test func replaceAllIsOneUndoStep() {
        var b = EditorBuffer(text: "old\n")
        b.replaceAll(with: "new\ntext\n")
        #expect(b.text == "new\ntext\n")
        b.undo()
        #expect(b.text == "old\n")
    }

    /// A 10 MB file opens, edits and yields a prompt quickly (line array; only the lines
    /// before the cursor that fit the prompt are joined).
    @Test func tenMegabyteFileStaysFast() {
        let line = String(repeating: "x = compute(value) + 1  # comment ", count: 2) + "\n"
        let text = String(repeating: line, count: 10_000_000 / line.utf8.count)
        let start = Date()
        var b = EditorBuffer(text: text)
        b.move(to: TextPosition(line: b.lineCount / 2, column: 3))
        for _ in 0..<200 { b.insert("a") }
        b.newline()
        let prompt = b.textBeforeCursor()
        for _ in 0..<100 { b.undo() }
        let elapsed = Date().timeIntervalSince(start)
        #expect(prompt.count <= 6000)
        #expect(b.lineCount > 100_000)
        #expect(elapsed < 5, "10 MB editing took \(elapsed) s")
    }
}
