/// A place in the buffer: 0-based line and column (in `Character`s).
public struct TextPosition: Hashable, Comparable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public static func < (a: TextPosition, b: TextPosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// The text being edited, as an array of lines (cheap for 10 MB files: edits touch one
/// line, rendering reads only the visible ones), with a cursor and undo/redo.
public struct EditorBuffer: Sendable {
    /// One undoable change: lines `firstLine ..< firstLine + before.count` were replaced by
    /// `after`. Whole lines are kept rather than positions, because positions count
    /// `Character`s and a character can merge with its neighbour (a combining accent typed
    /// after "e" makes one "é"): undo must restore the exact text whatever merged.
    struct Edit: Sendable {
        var firstLine: Int
        var before: [String]
        var after: [String]
        var cursorBefore: TextPosition
        var cursorAfter: TextPosition
        /// Typed characters merge into one undo step until a space, newline or jump.
        var typing: Bool
    }

    public private(set) var lines: [String]
    public private(set) var cursor = TextPosition(line: 0, column: 0)
    /// The column up/down try to keep across shorter lines.
    private var preferredColumn = 0
    /// Internal (not private) so tests can check that edits store only the lines they touch.
    private(set) var undoStack: [Edit] = []
    private var redoStack: [Edit] = []
    /// Bumped on every change; `isModified` compares it with the saved one.
    public private(set) var version = 0
    private var savedVersion = 0
    /// The file ended with a newline (kept on save).
    public var trailingNewline: Bool

    /// The lines of `text`, split at every "\n" byte. A "\r" before it stays in the line: files
    /// with CRLF endings throughout are converted by `DocumentFile`, which writes them back;
    /// a stray CR is the user's byte and is kept.
    public init(text: String = "") {
        var parts = Self.splitLines(text)
        trailingNewline = parts.count > 1 && parts.last == ""
        if trailingNewline { parts.removeLast() }
        lines = parts
        if lines.isEmpty { lines = [""] }
    }

    /// Splits at the "\n" byte. (Splitting at the Character "\n" would miss "\r\n", which
    /// Swift counts as one Character, and leave a line break inside a line.)
    static func splitLines(_ text: String) -> [String] {
        // "\n" is one byte that never occurs inside a longer UTF-8 sequence, so bytes split safely.
        text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(Substring($0)) }
    }

    public var isModified: Bool { version != savedVersion }

    /// The text as Ctrl-S writes it: with a final newline, as vim's 'fixeol' does (an empty
    /// buffer stays empty).
    public var textForSaving: String {
        lines == [""] && !trailingNewline ? "" : lines.joined(separator: "\n") + "\n"
    }
    public mutating func markSaved() { savedVersion = version }

    /// The whole text, as saved.
    public var text: String {
        lines.joined(separator: "\n") + (trailingNewline ? "\n" : "")
    }

    public var lineCount: Int { lines.count }
    public func length(ofLine i: Int) -> Int { lines[i].count }

    /// Prompt starts snap to multiples of this many lines (unless the file's start fits).
    public static let promptAnchorLines = 16

    /// Up to `limit` characters before the cursor: the prompt for a completion. It starts at the
    /// beginning of a line (`promptStartLine`), so the prompts of nearby cursor positions start at
    /// the same place and share the prefix cache; only a cursor line longer than `limit` on its
    /// own is cut. Only the lines needed are joined, so a 10 MB file costs no more than a small one.
    public func textBeforeCursor(limit: Int = 6000) -> String {
        let first = promptStartLine(limit: limit)
        var pieces = lines[first..<cursor.line].map { $0 }
        pieces.append(String(lines[cursor.line].prefix(cursor.column)))
        let joined = pieces.joined(separator: "\n")
        return joined.count > limit ? String(joined.suffix(limit)) : joined
    }

    /// The first line of the prompt: the earliest line from which the text up to the cursor fits
    /// in `limit` characters, moved down to a multiple of `promptAnchorLines` unless it is the
    /// file's first. A start that slid with the cursor (the last `limit` characters) shared no
    /// prefix with the previous request in a file longer than the limit, so every request there
    /// ran its whole prompt again (4 s on a 27 KB file). Lines are taken back from the cursor
    /// only until the limit, so the work is bounded by the limit, not by the file.
    public func promptStartLine(limit: Int) -> Int {
        var total = cursor.column
        var i = cursor.line
        while i > 0 && total + lines[i - 1].count + 1 <= limit {
            i -= 1
            total += lines[i].count + 1
        }
        guard i > 0 else { return 0 }
        let a = Self.promptAnchorLines
        return min(cursor.line, (i + a - 1) / a * a)
    }

    /// What a background prefill fills for the cursor's prompt window: whole lines from
    /// `promptStartLine` until `limit` characters (or the end of the file). Every prompt whose
    /// start is that line begins with this text, whichever line of the window the cursor is on.
    public func promptWindow(limit: Int = 6000) -> (startLine: Int, text: String) {
        let start = promptStartLine(limit: limit)
        var end = start, total = 0
        while end < lines.count && (end == start || total + lines[end].count + 1 <= limit) {
            total += lines[end].count + 1
            end += 1
        }
        let text = lines[start..<end].joined(separator: "\n") + (end < lines.count ? "\n" : "")
        return (start, text)
    }

    /// The character right after the cursor on its line, if any.
    public var characterAfterCursor: Character? {
        let line = lines[cursor.line]
        guard cursor.column < line.count else { return nil }
        return line[line.index(line.startIndex, offsetBy: cursor.column)]
    }

    // MARK: Editing

    /// Insert text at the cursor (may contain newlines); the cursor ends after it.
    public mutating func insert(_ raw: String) {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        guard !text.isEmpty else { return }
        let typing = text.count == 1 && text != "\n" && text != " "
        apply(start: cursor, end: cursor, with: text, typing: typing)
    }

    /// The line Enter just indented, while nothing else was typed on it: leaving it empties it.
    public private(set) var autoIndentedLine: Int?

    /// Called before the cursor leaves its line: indentation Enter added and nothing followed is
    /// removed, so blank lines keep no trailing spaces (as vim's autoindent does).
    public mutating func leaveAutoIndent() {
        guard let l = autoIndentedLine, l == cursor.line, l < lines.count, !lines[l].isEmpty,
              lines[l].allSatisfy({ $0 == " " || $0 == "\t" }) else { autoIndentedLine = nil; return }
        let keep = cursor
        apply(start: TextPosition(line: l, column: 0), end: TextPosition(line: l, column: lines[l].count), with: "", typing: false)
        place(TextPosition(line: keep.line, column: 0))
    }

    /// One indentation level: a tab in files indented with tabs, else four spaces.
    public var indentUnit: String { lines[cursor.line].hasPrefix("\t") ? "\t" : "    " }

    /// Enter, Python-aware: the new line keeps the indentation, one level more after a line
    /// ending in ":"; a line holding only indentation is left empty (no trailing spaces).
    public mutating func newline() {
        let line = lines[cursor.line]
        let indent = String(line.prefix { $0 == " " || $0 == "\t" })
        let before = line.prefix(cursor.column)
        var next = String(indent.prefix(cursor.column))
        if before.trimmingTrailingWhitespace.hasSuffix(":") { next += indentUnit }
        if before.allSatisfy({ $0 == " " || $0 == "\t" }) {
            // Auto-indent on a line left blank goes away; the new line keeps it.
            let trimmedEnd = line.dropFirst(cursor.column).prefix { $0 == " " || $0 == "\t" }.count
            apply(start: TextPosition(line: cursor.line, column: 0), end: TextPosition(line: cursor.line, column: cursor.column + trimmedEnd),
                  with: "\n" + next, typing: false)
        } else {
            // Spaces before the cursor would be trailing spaces on the line above: drop them.
            let trailing = before.reversed().prefix { $0 == " " || $0 == "\t" }.count
            apply(start: TextPosition(line: cursor.line, column: cursor.column - trailing), end: cursor, with: "\n" + next, typing: false)
        }
        if !next.isEmpty { autoIndentedLine = cursor.line }
    }

    /// Backspace: in leading whitespace, back to the previous indentation level (tabs one at a
    /// time); elsewhere one character.
    public mutating func backspace() {
        let line = lines[cursor.line]
        if cursor.column > 0, line.prefix(cursor.column).allSatisfy({ $0 == " " }) {
            let width = (cursor.column - 1) / 4 * 4
            apply(start: TextPosition(line: cursor.line, column: width), end: cursor, with: "", typing: false)
        } else if cursor.column > 0 {
            apply(start: TextPosition(line: cursor.line, column: cursor.column - 1), end: cursor, with: "", typing: false)
        } else if cursor.line > 0 {
            apply(start: TextPosition(line: cursor.line - 1, column: lines[cursor.line - 1].count), end: cursor, with: "", typing: false)
        }
    }

    public mutating func deleteForward() {
        if cursor.column < lines[cursor.line].count {
            apply(start: cursor, end: TextPosition(line: cursor.line, column: cursor.column + 1), with: "", typing: false)
        } else if cursor.line + 1 < lines.count {
            apply(start: cursor, end: TextPosition(line: cursor.line + 1, column: 0), with: "", typing: false)
        }
    }

    public mutating func undo() {
        guard let edit = undoStack.popLast() else { return }
        lines.replaceSubrange(edit.firstLine..<(edit.firstLine + edit.after.count), with: edit.before)
        place(edit.cursorBefore)
        redoStack.append(edit)
        version += 1
    }

    public mutating func redo() {
        guard let edit = redoStack.popLast() else { return }
        lines.replaceSubrange(edit.firstLine..<(edit.firstLine + edit.before.count), with: edit.after)
        place(edit.cursorAfter)
        undoStack.append(edit)
        version += 1
    }

    /// Puts the cursor at `position`, clamped to the text.
    private mutating func place(_ position: TextPosition) {
        let line = min(max(0, position.line), lines.count - 1)
        cursor = TextPosition(line: line, column: min(max(0, position.column), lines[line].count))
        preferredColumn = cursor.column
    }

    /// Replace the whole text as one undoable edit (restoring a recovery file).
    public mutating func replaceAll(with text: String) {
        var body = text
        if trailingNewline, body.hasSuffix("\n") { body.removeLast() }
        let last = lines.count - 1
        apply(start: TextPosition(line: 0, column: 0), end: TextPosition(line: last, column: lines[last].count), with: body, typing: false)
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }

    private mutating func apply(start: TextPosition, end: TextPosition, with text: String, typing: Bool) {
        autoIndentedLine = nil
        let before = cursor
        let oldLines = Array(lines[start.line...end.line])
        let newCount = replace(start: start, end: end, with: text)
        let newLines = Array(lines[start.line..<(start.line + newCount)])
        redoStack.removeAll()
        version += 1
        if typing, var last = undoStack.last, last.typing, last.firstLine == start.line, last.after.count == 1,
           oldLines.count == 1, newCount == 1, last.cursorAfter == before {
            last.after = newLines
            last.cursorAfter = cursor
            undoStack[undoStack.count - 1] = last
            return
        }
        undoStack.append(Edit(firstLine: start.line, before: oldLines, after: newLines, cursorBefore: before,
                              cursorAfter: cursor, typing: typing))
    }

    /// Replaces [start, end) with `text` and puts the cursor at the end of the inserted text;
    /// returns how many lines now stand where lines `start.line...end.line` were.
    private mutating func replace(start: TextPosition, end: TextPosition, with text: String) -> Int {
        let first = lines[start.line], last = lines[end.line]
        let head = String(first.prefix(max(0, start.column)))
        let tail = String(last.dropFirst(max(0, end.column)))
        var newLines = Self.splitLines(head + text)
        // The cursor goes after the inserted text: count the characters of the last new line
        // before the tail is joined (the tail may merge with it, but never moves it back).
        let cursorColumn = newLines[newLines.count - 1].count
        newLines[newLines.count - 1] += tail
        lines.replaceSubrange(start.line...end.line, with: newLines)
        place(TextPosition(line: start.line + newLines.count - 1, column: cursorColumn))
        return newLines.count
    }

    // MARK: Moving

    public mutating func move(to position: TextPosition) {
        let line = min(max(0, position.line), lines.count - 1)
        cursor = TextPosition(line: line, column: min(max(0, position.column), lines[line].count))
        preferredColumn = cursor.column
        breakTypingRun()
    }

    public mutating func moveLeft() {
        if cursor.column > 0 { move(to: TextPosition(line: cursor.line, column: cursor.column - 1)) }
        else if cursor.line > 0 { move(to: TextPosition(line: cursor.line - 1, column: lines[cursor.line - 1].count)) }
    }

    public mutating func moveRight() {
        if cursor.column < lines[cursor.line].count { move(to: TextPosition(line: cursor.line, column: cursor.column + 1)) }
        else if cursor.line + 1 < lines.count { move(to: TextPosition(line: cursor.line + 1, column: 0)) }
    }

    /// Up/down by `delta` lines, keeping the preferred column.
    public mutating func moveVertically(_ delta: Int) {
        let keep = preferredColumn
        let line = min(max(0, cursor.line + delta), lines.count - 1)
        cursor = TextPosition(line: line, column: min(keep, lines[line].count))
        preferredColumn = keep
        breakTypingRun()
    }

    public mutating func moveHome() {
        // First Home goes to the indentation, the second to column 0 (as most editors do).
        let indent = lines[cursor.line].prefix { $0 == " " || $0 == "\t" }.count
        move(to: TextPosition(line: cursor.line, column: cursor.column == indent ? 0 : indent))
    }

    public mutating func moveEnd() { move(to: TextPosition(line: cursor.line, column: lines[cursor.line].count)) }

    private mutating func breakTypingRun() {
        if var last = undoStack.last, last.typing { last.typing = false; undoStack[undoStack.count - 1] = last }
    }
}

extension StringProtocol {
    /// Without spaces and tabs at the end.
    var trimmingTrailingWhitespace: SubSequence {
        var end = endIndex
        while end > startIndex {
            let previous = index(before: end)
            guard self[previous] == " " || self[previous] == "\t" else { break }
            end = previous
        }
        return self[startIndex..<end]
    }
}
