import Foundation
import FuzzSupport
import Playground

/// The file the session edits and saves (on tmpfs where there is one).
let documentPath = FuzzScratch.file("doc.txt").path
let model = ModelInfo(name: "fuzz", layerCount: 4, embeddingSize: 8, parameterCount: 0,
                      hasExitHeads: true, hasController: true, tokenText: { "t\($0)" })

/// A byte stream as a terminal session: the input starts with the file's bytes up to the
/// first 0xFF; after it, 0xFE w h is a resize, 0xFD a pause (ends an escape sequence), 0xFC
/// a save-and-reload check, and every other byte goes through UTF-8 and the key decoder the
/// terminal uses. After each key the buffer's invariants must hold; at the end, saving and
/// reopening gives the buffer back, undoing everything gives the file back and redoing
/// what was undone gives the edits back.
func fuzzEditor(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let split = bytes.firstIndex(of: 0xFF) ?? 0
    let fileBytes = Array(bytes[..<split])
    _ = FileManager.default.createFile(atPath: documentPath, contents: Data(fileBytes))
    guard let opened = try? DocumentFile.open(documentPath) else { fatalError("cannot open the scratch file") }
    if opened.readOnlyReason == nil {
        // Bytes the user does not edit are written back as they were.
        fuzzCheck(opened.format.encode(EditorBuffer(text: opened.text).text) == fileBytes, "open→save changes the bytes")
    }
    let session = PlaygroundSession(buffer: EditorBuffer(text: opened.text), path: documentPath, readOnlyReason: opened.readOnlyReason,
                                    model: model, worker: nil)
    session.format = opened.format
    session.disk = opened.disk
    let screen = CheckingScreen(width: 80, height: 24)
    let original = session.buffer.text
    var saved = false
    var decoder = KeyDecoder()
    var utf8: [UInt8] = []
    var i = split + (split < bytes.count ? 1 : 0)
    var clock = 0.0

    func handle(_ keys: [Key]) -> Bool {
        for key in keys {
            clock += 0.001
            if session.handle(key, now: clock) == .quit { return false }
            check(session.buffer)
        }
        return true
    }
    /// Decodes the collected UTF-8 (invalid bytes become U+FFFD, as a terminal shows them).
    func flushText() -> Bool {
        defer { utf8.removeAll() }
        for scalar in String(decoding: utf8, as: UTF8.self).unicodeScalars {
            if !handle(decoder.feed(scalar)) { return false }
        }
        return true
    }

    loop: while i < bytes.count {
        let byte = bytes[i]
        i += 1
        switch byte {
        case 0xFE:
            guard flushText() else { break loop }
            let w = i < bytes.count ? Int(bytes[i]) % 320 + 1 : 80
            let h = i + 1 < bytes.count ? Int(bytes[i + 1]) % 120 + 1 : 24
            i += 2
            screen.resize(width: w, height: h)
            session.resize(width: w, height: h)
            guard handle(decoder.feed(.resize)) else { break loop }
            session.render(to: screen)
        case 0xFD:
            guard flushText(), handle(decoder.timeout()) else { break loop }
            session.render(to: screen)
        case 0xFC:
            guard flushText() else { break loop }
            saved = saved || session.readOnlyReason == nil
            saveAndReload(session)
        default:
            utf8.append(byte)
        }
    }
    _ = flushText()
    _ = handle(decoder.timeout())
    session.render(to: screen)
    // The last frame also on the screen the tests read, at the last size.
    session.render(to: MemoryScreen(width: screen.width, height: screen.height))
    checkAll(session.buffer)
    if session.readOnlyReason == nil { saved = true; saveAndReload(session) }

    // Undo everything: the file as opened. Redo everything: the edits again.
    var buffer = session.buffer
    let edited = buffer.text
    var steps = 0
    while buffer.canUndo { buffer.undo(); check(buffer); steps += 1; fuzzCheck(steps < 1_000_000, "undo never ends") }
    checkAll(buffer)
    // Saving adds the final newline a file lacked (vim's 'fixeol'); like vim's, that is not an edit
    // to undo, so the opened text comes back with it when the session saved.
    fuzzCheck(buffer.text == original || (saved && buffer.text == original + "\n"),
                 "undoing every edit does not give the opened text back")
    // (Edits undone before the end are still on the redo stack: redo only what was undone here.)
    for _ in 0..<steps { buffer.redo(); check(buffer) }
    checkAll(buffer)
    fuzzCheck(buffer.text == edited, "redoing every undone edit does not give the edited text back")
    return 0
}

/// Frames are drawn at every resize and pause; this screen keeps no cells (copying cells into a
/// `MemoryScreen` was most of the run's time), and checks what a terminal needs: a visible cursor
/// lies on the screen.
final class CheckingScreen: Screen {
    private(set) var width: Int
    private(set) var height: Int
    init(width: Int, height: Int) { self.width = width; self.height = height }
    func resize(width: Int, height: Int) { self.width = width; self.height = height }
    func clear() {}
    func put(_ text: String, row: Int, column: Int, style: CellStyle) {}
    func setCursor(row: Int, column: Int, visible: Bool) {
        guard visible else { return }
        fuzzCheck(row >= 0 && row < height && column >= 0 && column < width,
                     "cursor at (\(row), \(column)) is off the \(width)×\(height) screen")
    }
    func present() {}
}

/// The buffer's invariants, cheaply after every key: at least one line, the cursor inside the
/// text, no line break inside the cursor's line.
func check(_ buffer: EditorBuffer) {
    fuzzCheck(!buffer.lines.isEmpty, "no lines")
    fuzzCheck(buffer.cursor.line >= 0 && buffer.cursor.line < buffer.lineCount, "cursor line \(buffer.cursor.line) of \(buffer.lineCount)")
    let line = buffer.lines[buffer.cursor.line]
    fuzzCheck(buffer.cursor.column >= 0 && buffer.cursor.column <= line.count, "cursor column")
    fuzzCheck(!line.utf8.contains(0x0A), "a line holds a line break")
}

/// The same over the whole text, at the end: no line holds a break, and text → buffer → text
/// is the identity. (Lines need not round-trip: an empty last line and a final newline are the same bytes.)
func checkAll(_ buffer: EditorBuffer) {
    check(buffer)
    for line in buffer.lines { fuzzCheck(!line.utf8.contains(0x0A), "a line holds a line break") }
    let text = buffer.text
    fuzzCheck(EditorBuffer(text: text).text == text, "text → buffer → text changes the text")
}

/// Ctrl-S (answering "overwrite" if the file changed), then the file read back equals the buffer.
func saveAndReload(_ session: PlaygroundSession) {
    guard session.readOnlyReason == nil else { return }
    _ = session.handle(.ctrl("s"), now: 0)
    if session.conflictPending { _ = session.handle(.character("o"), now: 0) }
    fuzzCheck(!session.buffer.isModified, "Ctrl-S did not save: \(session.message ?? "")")
    guard let reopened = try? DocumentFile.open(documentPath), reopened.readOnlyReason == nil else { fatalError("saved file does not reopen") }
    // Compared as bytes: the format is read from the bytes, so typed bytes can change it — a
    // U+FEFF typed at the start reads back as a BOM, Enter after a lone CR can make every line
    // end in CRLF — while the bytes stay exactly those of the buffer.
    fuzzCheck(reopened.format.encode(reopened.text) == session.format.encode(session.buffer.text),
                 "saved then reopened file differs from the buffer")
    if reopened.format == session.format {
        fuzzCheck(reopened.text == session.buffer.text, "text changed through save")
    }
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzEditor(data, count) }

runFuzzer { fuzzEditor($0, $1) }
