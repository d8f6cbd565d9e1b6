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
        // Whole lines only, from a line that is the file's first or a multiple of 16: "one\ntwo\n"
        // does not fit in 5 characters, so only the cursor line's "th" is left.
        #expect(b.textBeforeCursor(limit: 5) == "th")
        #expect(b.textBeforeCursor(limit: 10) == "one\ntwo\nth")
        // A cursor line longer than the limit on its own is cut.
        #expect(b.textBeforeCursor(limit: 1) == "h")
    }

    /// In a file longer than the prompt limit, nearby cursor positions share the prompt's start
    /// (so the prefix cache serves them), and the background prefill's window starts there too.
    @Test func promptStartIsStableInALongFile() {
        let text = (0..<1000).map { "value_\($0) = compute(\($0))  # line \($0)" }.joined(separator: "\n")
        var b = EditorBuffer(text: text)
        var starts = Set<Int>()
        for line in 500..<508 {
            b.move(to: TextPosition(line: line, column: 10))
            let start = b.promptStartLine(limit: 6000)
            starts.insert(start)
            #expect(start % EditorBuffer.promptAnchorLines == 0 && start > 0 && start < line)
            let prompt = b.textBeforeCursor(limit: 6000)
            #expect(prompt.count <= 6000)
            #expect(prompt.hasPrefix(b.lines[start] + "\n"))
            let window = b.promptWindow(limit: 6000)
            #expect(window.startLine == start && window.text.count <= 6000 + 1)
            #expect(window.text.hasPrefix(String(prompt.dropLast(10))), "the prompt is the window's text up to the cursor")
        }
        #expect(starts.count <= 2, "8 consecutive lines should cross at most one anchor: \(starts.sorted())")
        // The top of the file starts at line 0 however long the file is.
        b.move(to: TextPosition(line: 3, column: 0))
        #expect(b.promptStartLine(limit: 6000) == 0 && b.promptWindow(limit: 6000).startLine == 0)
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

    /// A 10 MB file edits and yields a prompt with work bounded by the edit and the prompt
    /// limit, not the file: each undo step stores only the lines it touched, and the prompt
    /// reads only the lines before the cursor that fit in it. (Counts, not a stopwatch: timed
    /// unit tests flake on a loaded machine; speed is in BENCHMARKS.md.)
    @Test func tenMegabyteFileWorkIsBoundedByTheEdit() {
        let line = String(repeating: "x = compute(value) + 1  # comment ", count: 2) + "\n"
        let text = String(repeating: line, count: 10_000_000 / line.utf8.count)
        var b = EditorBuffer(text: text)
        b.move(to: TextPosition(line: b.lineCount / 2, column: 3))
        for _ in 0..<200 { b.insert("a") }
        b.newline()
        #expect(b.undoStack.allSatisfy { $0.before.count <= 1 && $0.after.count <= 2 })
        let prompt = b.textBeforeCursor()
        #expect(prompt.count <= 6000)
        let linesRead = b.cursor.line - b.promptStartLine(limit: 6000) + 1
        #expect(linesRead <= 6000 / (line.count - 1) + 2, "prompt read \(linesRead) lines")
        for _ in 0..<100 { b.undo() }
        #expect(b.lineCount > 100_000)
    }
}

/// Python-aware editing: indentation on Enter, dedent on Backspace, no trailing spaces, fixeol.
@Suite struct PythonEditingTests {
    func buffer(_ text: String, line: Int, column: Int) -> EditorBuffer {
        var b = EditorBuffer(text: text)
        b.move(to: TextPosition(line: line, column: column))
        return b
    }

    @Test func enterAfterColonIndentsOneLevelMore() {
        var b = buffer("def load_config(path):", line: 0, column: 22)
        b.newline()
        #expect(b.lines == ["def load_config(path):", "    "])
        #expect(b.cursor == TextPosition(line: 1, column: 4))
        b.insert("if path:")
        b.newline()
        #expect(b.lines.last == "        ")
        // A tab-indented file gets a tab.
        var t = buffer("\tif x:", line: 0, column: 6)
        t.newline()
        #expect(t.lines == ["\tif x:", "\t\t"])
    }

    @Test func enterOnABlankIndentedLineLeavesItEmpty() {
        var b = buffer("def f():", line: 0, column: 8)
        b.newline()
        b.newline()
        #expect(b.lines == ["def f():", "", "    "])
        b.undo()
        #expect(b.lines == ["def f():", "    "])
        // Spaces before the cursor do not stay behind as trailing spaces.
        var c = buffer("x = 1   ", line: 0, column: 8)
        c.newline()
        #expect(c.lines == ["x = 1", ""])
    }

    @Test func leavingAnAutoIndentedLineEmptiesIt() {
        let h = Harness(text: "def f():")
        h.press(.end, .enter)
        #expect(h.session.buffer.lines == ["def f():", "    "])
        h.press(.up)
        #expect(h.session.buffer.lines == ["def f():", ""])
        #expect(h.session.buffer.cursor.line == 0)
        // Typed text makes the indentation the user's own.
        h.press(.end, .enter)
        h.type("x")
        h.press(.up)
        #expect(h.session.buffer.lines == ["def f():", "    x", ""])
    }

    @Test func backspaceInIndentationRemovesOneLevel() {
        var b = buffer("        x", line: 0, column: 8)
        b.backspace()
        #expect(b.lines == ["    x"])
        b.backspace()
        #expect(b.lines == ["x"])
        var odd = buffer("      y", line: 0, column: 6)
        odd.backspace()
        #expect(odd.lines == ["    y"])
        var word = buffer("    ab", line: 0, column: 6)
        word.backspace()
        #expect(word.lines == ["    a"])
    }

    @Test func savingAddsTheFinalNewline() {
        #expect(EditorBuffer(text: "x = 1").textForSaving == "x = 1\n")
        #expect(EditorBuffer(text: "x = 1\n").textForSaving == "x = 1\n")
        #expect(EditorBuffer(text: "").textForSaving == "")
        #expect(EditorBuffer(text: "\n").textForSaving == "\n")
    }
}

/// Suggestions end where an editor would end them and never repeat the text after the cursor.
@Suite struct SuggestionShapingTests {
    func shaped(_ raw: [String], before: String, after: String = "") -> String {
        var s = Suggestion(job: 1, context: SuggestionContext(lineBefore: before, lineAfter: after))
        for (i, t) in raw.enumerated() { s.append(Fixtures.token(i, t, layer: 1)) }
        return s.text
    }

    @Test func whitespaceOnlyIsNeverShown() {
        #expect(shaped(["\n\n", "   "], before: "x = 1") == "")
        #expect(shaped(["\n", "    return"], before: "    x = 1") == "\n    return")
    }

    @Test func leadingSpacesMergeWithTypedIndentation() {
        #expect(shaped([" return", " a"], before: "    ") == "return a")
        #expect(shaped(["    return"], before: "    ") == "    return")
    }

    @Test func textAfterTheCursorEndsTheLineAndIsNotRepeated() {
        #expect(shaped(["count", "):", "\n", "    pass"], before: "    for i in range(", after: "count):") == "")
        #expect(shaped(["n", " + 1", "):", "\n"], before: "range(", after: "):") == "n + 1")
        #expect(shaped(["c", ", b", "\n"], before: "range(", after: "count):") == "c, b")
    }

    @Test func stopsAtADedentOrTheLineCap() {
        let body = shaped(["x = 1", "\n", "        y = 2", "\n", "    return", " y"], before: "        ")
        #expect(body == "x = 1\n        y = 2")
        let many = shaped(Array(repeating: "a\n", count: 20), before: "")
        #expect(many.split(separator: "\n").count == 8)
    }

    @Test func acceptLineTakesTheFirstNonBlankLine() {
        var s = Suggestion(job: 1, context: SuggestionContext(lineBefore: "x = 1"))
        for (i, t) in ["\n", "\n", "def", " f():", "\n", "    pass"].enumerated() { s.append(Fixtures.token(i, t, layer: 1)) }
        #expect(s.nextLine == "\n\ndef f():\n")
    }
}
