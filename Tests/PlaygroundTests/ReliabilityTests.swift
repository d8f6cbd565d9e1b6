import Foundation
import Testing
@testable import Playground

/// Issue #13: keys are never swallowed, bytes the user did not edit are kept, another
/// program's change is never overwritten silently, and unsaved text survives a full disk.
@Suite struct KeyDecoderTests {
    /// Feeds `text` in one burst, then a pause.
    func keys(_ text: String, pauseAfter: Bool = true) -> [Key] {
        var decoder = KeyDecoder()
        var out: [Key] = []
        for scalar in text.unicodeScalars { out += decoder.feed(scalar) }
        if pauseAfter { out += decoder.timeout() }
        return out
    }

    @Test func loneEscapeThenTypingIsEscapeAndTyping() {
        var decoder = KeyDecoder()
        #expect(decoder.feed("\u{1b}").isEmpty)
        #expect(decoder.isWaiting)
        #expect(decoder.timeout() == [.escape])
        #expect(decoder.feed("a") == [.character("a")])
    }

    @Test func sequencesInOneBurstAreKeys() {
        #expect(keys("\u{1b}[A\u{1b}OQ\u{1b}[1;5C\u{1b}[3~x") == [.up, .function(2), .ctrlRight, .delete, .character("x")])
        #expect(keys("\u{1b}x") == [.alt("x")])
        #expect(keys("\u{1b}\r") == [.alt("\n")])
        #expect(keys("\u{1b}[") == [.alt("[")])
    }

    /// Was: Esc then "[" took up to 8 following keys as a sequence and dropped them (Ctrl-S included).
    @Test func escapeBracketThenTypingSwallowsNothing() {
        #expect(keys("\u{1b}[\u{13}abc") == [.escape, .character("["), .ctrl("s"), .character("a"), .character("b"), .character("c")])
        #expect(keys("\u{1b}[12x") == [.escape, .character("["), .character("1"), .character("2"), .character("x")])
        #expect(keys("\u{1b}[99~q") == [.escape, .character("["), .character("9"), .character("9"), .character("~"), .character("q")])
        #expect(keys("\u{1b}Oé") == [.escape, .character("O"), .character("é")])
        #expect(keys("\u{1b}\u{1b}a") == [.escape, .alt("a")])
        var decoder = KeyDecoder()
        _ = decoder.feed("\u{1b}"); _ = decoder.feed("[")
        #expect(decoder.feed(.resize) == [.escape, .character("["), .resize])
    }

    @Test func everyControlCharacterIsAKeyOrNothing() {
        #expect(keys("\u{0}\t\r\n\u{7f}\u{8}\u{1}\u{1a}") == [.ctrlSpace, .tab, .enter, .enter, .backspace, .backspace, .ctrl("a"), .ctrl("z")])
        #expect(keys("\u{1c}").isEmpty)
    }
}

@Suite struct EditorBufferUndoTests {
    /// A combining accent merges with the "e" before it; undo must still give "e" back.
    @Test func undoIsExactWhenCharactersMerge() {
        var b = EditorBuffer(text: "e\n")
        b.moveEnd()
        b.insert("\u{301}")
        b.insert("\u{301}")
        #expect(b.lines == ["e\u{301}\u{301}"])
        #expect(b.cursor.column <= b.lines[0].count)
        b.backspace()
        b.undo(); b.undo()
        #expect(b.text == "e\n")
        b.redo(); b.redo()
        #expect(b.lines == [""])
    }

    /// "\r" then "\n" is one Character in Swift: the line must still break there.
    @Test func lineBreakAfterCarriageReturn() {
        var b = EditorBuffer(text: "a\rb")
        b.move(to: TextPosition(line: 0, column: 2))
        b.newline()
        #expect(b.lines == ["a\r", "b"])
        #expect(b.text == "a\r\nb")
        b.undo()
        #expect(b.text == "a\rb")
    }
}

@Suite struct DocumentFormatTests {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "exitlens-fmt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static let oddFiles: [[UInt8]] = [
        [0xEF, 0xBB, 0xBF] + Array("x = 1".utf8),
        Array("a\r\nb\r\n".utf8),
        [0xEF, 0xBB, 0xBF] + Array("a\r\n\tb\r\n".utf8),
        Array("mixed\r\nends\nhere\r\n".utf8),
        Array("lone\rcr\n\t\ttabs\t\n".utf8),
        Array("\r\n".utf8), Array("\r\r\n".utf8), Array("no newline".utf8), [], [0xEF, 0xBB, 0xBF],
        Array("e\u{301}\u{1F1E6}\u{1F1E8}\u{FEFF}\n".utf8),
    ]

    /// Open, edit nothing, save: the same bytes, for every odd file.
    @Test(arguments: oddFiles) func openThenSaveKeepsEveryByte(_ bytes: [UInt8]) throws {
        let path = try temporaryDirectory() + "/odd.py"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let opened = try DocumentFile.open(path)
        #expect(opened.readOnlyReason == nil)
        let buffer = EditorBuffer(text: opened.text)
        try DocumentFile.saveAtomically(buffer.text, format: opened.format, to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    /// The reproducer: BOM + "x = 1", type "2", Ctrl-S gave "x = 12" without the BOM.
    @Test func typingInABOMFileKeepsTheBOM() throws {
        let path = try temporaryDirectory() + "/bom.py"
        try Data([0xEF, 0xBB, 0xBF] + Array("x = 1".utf8)).write(to: URL(fileURLWithPath: path))
        let opened = try DocumentFile.open(path)
        let h = Harness(text: opened.text, path: path)
        h.session.format = opened.format
        h.session.disk = opened.disk
        h.press(.end)
        h.type("2")
        #expect(h.session.buffer.text == "x = 12") // the mark is not text the model sees
        h.press(.ctrl("s"))
        // Ctrl-S adds the final newline the file lacked (vim's 'fixeol').
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == [0xEF, 0xBB, 0xBF] + Array("x = 12\n".utf8))
    }

    /// Fuzzer finding: U+FEFF typed at the start of a file without a BOM is saved as the bytes
    /// EF BB BF, which read back as a BOM. The bytes survive any number of save/open rounds.
    @Test func typedZeroWidthNoBreakSpaceSurvivesSaveAndReopen() throws {
        let path = try temporaryDirectory() + "/feff.py"
        let h = Harness(text: "", path: path)
        h.type("\u{FEFF}dea")
        h.press(.ctrl("s"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == [0xEF, 0xBB, 0xBF] + Array("dea\n".utf8))
        let reopened = try DocumentFile.open(path)
        try DocumentFile.saveAtomically(EditorBuffer(text: reopened.text).text, format: reopened.format, to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    /// Fuzzer finding: Enter after a lone CR ("ab\r", no newline) in a file that is not CRLF
    /// makes every line end in CRLF, so the reopened file is read as CRLF. The bytes are the
    /// buffer's, and stay so through further save/open rounds.
    @Test func enterAfterALoneCRKeepsTheBytes() throws {
        let path = try temporaryDirectory() + "/cr.py"
        try Data("ab\r".utf8).write(to: URL(fileURLWithPath: path))
        let opened = try DocumentFile.open(path)
        #expect(!opened.format.crlf)
        let h = Harness(text: opened.text, path: path)
        h.session.format = opened.format
        h.session.disk = opened.disk
        h.press(.end, .enter)
        h.type("*")
        h.press(.ctrl("s"))
        // The lone CR stays a byte of the first line; Ctrl-S adds the final newline (vim's 'fixeol').
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == Array("ab\r\n*\n".utf8))
        // Saving what was read gives the same bytes back, round after round.
        let reopened = try DocumentFile.open(path)
        try DocumentFile.saveAtomically(EditorBuffer(text: reopened.text).text, format: reopened.format, to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    @Test func crlfFileEditedStaysCRLF() throws {
        let path = try temporaryDirectory() + "/dos.py"
        try Data("a\r\nb\r\n".utf8).write(to: URL(fileURLWithPath: path))
        let opened = try DocumentFile.open(path)
        #expect(opened.format.crlf)
        let h = Harness(text: opened.text, path: path)
        h.session.format = opened.format
        h.session.disk = opened.disk
        h.press(.end, .enter)
        h.type("\tc")
        h.press(.ctrl("s"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a\r\n\tc\r\nb\r\n")
    }
}

@Suite struct DiskChangeTests {
    func file(_ text: String) throws -> (String, DocumentFile.Opened) {
        let dir = NSTemporaryDirectory() + "exitlens-disk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/f.py"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return (path, try DocumentFile.open(path))
    }

    func harness(_ path: String, _ opened: DocumentFile.Opened) -> Harness {
        let h = Harness(text: opened.text, path: path)
        h.session.format = opened.format
        h.session.disk = opened.disk
        return h
    }

    /// Was: Ctrl-S silently overwrote another program's change.
    @Test func saveAsksWhenTheFileChangedOnDisk() throws {
        let (path, opened) = try file("a = 1\n")
        let h = harness(path, opened)
        h.press(.end)
        h.type("0")
        try "b = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.press(.ctrl("s"))
        #expect(h.session.conflictPending)
        #expect(h.session.message?.contains("changed on disk") == true)
        h.type("c") // cancel: nothing written, nothing typed
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "b = 2\n")
        #expect(h.session.buffer.text == "a = 10\n")
        h.press(.ctrl("s"))
        h.type("o") // overwrite
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a = 10\n")
        #expect(!h.session.buffer.isModified)
        // Saved: a second save does not ask.
        h.type("1")
        h.press(.ctrl("s"))
        #expect(!h.session.conflictPending)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a = 101\n")
    }

    @Test func reloadAnswerTakesTheDiskVersionAndUndoBringsTheEditsBack() throws {
        let (path, opened) = try file("a = 1\n")
        let h = harness(path, opened)
        h.press(.end)
        h.type("0")
        try "b = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.press(.ctrl("s"))
        h.type("r")
        #expect(h.session.buffer.text == "b = 2\n")
        #expect(!h.session.buffer.isModified)
        h.press(.ctrl("z"))
        #expect(h.session.buffer.text == "a = 10\n")
    }

    @Test func cleanBufferReloadsAndTouchIsNoChange() throws {
        let (path, opened) = try file("a = 1\n")
        let h = harness(path, opened)
        // Same bytes, new time: no reload, no question.
        try "a = 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.session.checkDisk()
        #expect(h.session.message == nil)
        try "z = 9\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.session.checkDisk()
        #expect(h.session.buffer.text == "z = 9\n")
        #expect(h.session.message?.contains("reloaded") == true)
        // With unsaved edits it is only noted; Ctrl-S will ask.
        h.type("x")
        try "y = 8\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.session.checkDisk()
        #expect(h.session.buffer.text == "xz = 9\n")
        #expect(h.session.message?.contains("Ctrl-S will ask") == true)
    }
}

@Suite struct RecoveryTests {
    /// The file's directory cannot take the recovery file (here: its "directory" is a plain
    /// file, which defeats root too): it goes to $XDG_STATE_HOME, and is found there again.
    @Test func recoveryFallsBackToTheStateDirectory() throws {
        let base = NSTemporaryDirectory() + "exitlens-rec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try "not a directory".write(toFile: base + "/blocked", atomically: false, encoding: .utf8)
        let path = base + "/blocked/f.py"
        let env = ["XDG_STATE_HOME": base + "/state", "HOME": base + "/home"]
        let written = try DocumentFile.writeRecovery("unsaved ✓", for: path, environment: env)
        #expect(written.hasPrefix(base + "/state/exitlens/"))
        #expect(written.hasSuffix("%blocked%f.py.exitlens-recovery"))
        #expect(DocumentFile.findRecovery(for: path, environment: env)?.text == "unsaved ✓")
        DocumentFile.removeRecovery(for: path, environment: env)
        #expect(DocumentFile.findRecovery(for: path, environment: env) == nil)
        // No usable state directory: ~/.local/state, then the temporary directory.
        let noState = ["XDG_STATE_HOME": base + "/blocked/x", "HOME": base + "/blocked/y", "TMPDIR": base + "/tmp"]
        let fallback = try DocumentFile.writeRecovery("t", for: path, environment: noState)
        #expect(fallback.hasPrefix(base + "/tmp/exitlens-"))
    }

    /// A save that failed (full disk, no permission): quitting asks once more and then keeps
    /// the text in a recovery file, saying where.
    @Test func quitAfterAFailedSaveKeepsTheText() throws {
        let base = NSTemporaryDirectory() + "exitlens-rec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try "x".write(toFile: base + "/blocked", atomically: false, encoding: .utf8)
        let path = base + "/blocked/f.py"
        let h = Harness(text: "", path: path)
        h.type("keep me")
        h.press(.ctrl("s"))
        #expect(h.session.lastSaveFailed)
        #expect(h.session.handle(.ctrl("q"), now: 1) == .keepGoing)
        #expect(h.session.message?.contains("last save failed") == true)
        #expect(h.session.handle(.ctrl("q"), now: 1) == .quit)
        let farewell = try #require(h.session.farewell)
        #expect(farewell.contains("unsaved text written to"))
        let found = DocumentFile.findRecovery(for: path)
        #expect(found?.text == "keep me")
        DocumentFile.removeRecovery(for: path)
    }
}

@Suite struct HelpScreenTests {
    /// Fuzzer finding: with help open, Ctrl-S only closed it and the text stayed unsaved.
    @Test func saveWorksWithHelpOpen() throws {
        let dir = NSTemporaryDirectory() + "exitlens-help-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let h = Harness(text: "", path: dir + "/h.py")
        h.type("x")
        h.press(.function(1))
        #expect(h.session.showHelp)
        h.press(.ctrl("s"))
        #expect(!h.session.showHelp)
        #expect(!h.session.buffer.isModified)
        // A new file: saved with a final newline.
        #expect(try String(contentsOfFile: dir + "/h.py", encoding: .utf8) == "x\n")
        // Other keys only close it.
        h.press(.function(1))
        h.type("y")
        #expect(h.session.buffer.text == "x\n")
    }
}

@Suite struct PageSizeTests {
    /// Page keys move by the layout's editor height at the time of the key, drawn or not, so
    /// the same keys mean the same in a terminal and in `--script`.
    @Test func pageSizeFollowsResizeWithoutAFrame() {
        let h = Harness(text: (1...200).map(String.init).joined(separator: "\n"))
        h.session.resize(width: 120, height: 40)
        h.press(.pageDown)
        #expect(h.session.buffer.cursor.line == 36)
        h.session.resize(width: 120, height: 20)
        h.press(.pageDown)
        #expect(h.session.buffer.cursor.line == 52)
    }
}
