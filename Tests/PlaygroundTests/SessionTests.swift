import Foundation
import Testing
@testable import Playground

@Suite struct SessionTests {
    static let tokens = [Fixtures.token(10, "urn", layer: 2), Fixtures.token(11, " a", layer: 5), Fixtures.token(12, " +", layer: 6)]

    @Test func debounceThenGhostTextThenTabAccepts() {
        let h = Harness(text: "def f(a):\n    ret", engine: ScriptedEngine(tokens: Self.tokens))
        _ = h.session.handle(.end, now: 0)
        _ = h.session.handle(.down, now: 0)
        _ = h.session.handle(.end, now: 0)
        h.type("x")
        // Nothing is asked before the pause.
        h.session.tick(now: 1.05)
        #expect(h.engine.requests.isEmpty)
        h.session.tick(now: 1.2)
        h.waitForModel()
        #expect(h.engine.requests.first?.prompt == "def f(a):\n    retx")
        #expect(h.session.suggestion?.text == "urn a +")
        h.press(.tab)
        #expect(h.session.buffer.lines[1] == "    retxurn a +")
        #expect(h.session.suggestion == nil)
    }

    @Test func typeThroughKeepsTheRestAndOtherKeysCancel() {
        let h = Harness(text: "x = ", engine: ScriptedEngine(tokens: Self.tokens, hold: true))
        h.press(.end, .ctrlSpace)
        h.waitForTokens(3)
        h.type("ur")
        #expect(h.session.suggestion?.text == "n a +")
        #expect(h.session.buffer.lines[0] == "x = ur")
        // A character that does not match cancels the in-flight generation at once.
        h.type("Z")
        #expect(h.session.suggestion == nil)
        #expect(h.session.debounceDeadline != nil)
        h.engine.release()
    }

    @Test func acceptWordLineAndEscape() {
        let tokens = [Fixtures.token(1, "  total", layer: 1), Fixtures.token(2, " = 0\n", layer: 3), Fixtures.token(3, "    pass", layer: 6)]
        let h = Harness(engine: ScriptedEngine(tokens: tokens))
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.ctrlRight)
        #expect(h.session.buffer.text == "  total")
        h.press(.alt("\n"))
        #expect(h.session.buffer.lines == ["  total = 0", ""])
        #expect(h.session.suggestion?.text == "    pass")
        h.press(.escape)
        #expect(h.session.suggestion == nil)
        #expect(h.session.buffer.lines == ["  total = 0", ""])
    }

    @Test func tabWithoutSuggestionInsertsSpaces() {
        let h = Harness(text: "ab")
        h.press(.end, .tab)
        #expect(h.session.buffer.text == "ab  ")
    }

    @Test func stoppedAndEmptyCompletionsSaySo() {
        let stopped = Harness(engine: ScriptedEngine(tokens: [], stop: Fixtures.stopTrace(layer: 4, p: 0.93)))
        stopped.press(.ctrlSpace)
        stopped.waitForModel()
        #expect(stopped.session.suggestionStatus == "⊘ stopped at layer 4, p=0.93")
        let empty = Harness(engine: ScriptedEngine(tokens: []))
        empty.press(.ctrlSpace)
        empty.waitForModel()
        #expect(empty.session.suggestionStatus.hasPrefix("no suggestion"))
    }

    @Test func policyKnobsReachTheNextRequest() {
        let h = Harness(engine: ScriptedEngine(tokens: Self.tokens), policy: .sec)
        h.press(.function(6))
        h.press(.ctrlSpace)
        h.waitForModel()
        #expect(h.engine.requests.last?.policy.label == "sec(τexit=0.95, τstop=0.8)")
        h.press(.function(2), .ctrlSpace)
        h.waitForModel()
        #expect(h.engine.requests.last?.policy.label == "softmax(λ=0.9)")
        h.press(.function(4), .ctrlSpace)
        h.waitForModel()
        #expect(h.engine.requests.last?.traceTopK == 3)
    }

    /// Opening the inspector describes the suggestion on screen: no new completion. One asked
    /// for while it is open records top-3 per layer.
    @Test func openingTheInspectorDoesNotAskAgain() {
        let h = Harness(engine: ScriptedEngine(tokens: Self.tokens))
        h.press(.ctrlSpace)
        h.waitForModel()
        #expect(h.engine.requests.count == 1)
        h.press(.function(4))
        h.waitForModel()
        #expect(h.engine.requests.count == 1)
        #expect(h.session.suggestion?.text == "urn a +")
        h.press(.ctrlSpace)
        h.waitForModel()
        #expect(h.engine.requests.last?.traceTopK == 3)
    }

    /// F2 and F5/F6 ask again at once under the new setting; with nothing on screen they do not.
    @Test func policyChangeRerunsTheSuggestion() {
        let h = Harness(engine: ScriptedEngine(tokens: Self.tokens))
        h.press(.function(2))
        #expect(h.engine.requests.isEmpty)
        h.press(.ctrlSpace)
        h.waitForModel()
        let before = h.engine.requests.count
        h.press(.function(2))
        h.waitForModel()
        #expect(h.engine.requests.count == before + 1)
        h.press(.function(6))
        h.waitForModel()
        #expect(h.engine.requests.count == before + 2)
        #expect(h.session.suggestion?.text == "urn a +")
    }

    /// Sampled alternatives that repeat one already offered are asked again with a new seed.
    @Test func sampledDuplicatesAreReplaced() {
        let h = Harness(engine: ScriptedEngine(tokens: Self.tokens))
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.alt("]"))
        for _ in 0..<6 { h.waitForModel() }
        let seeds = h.engine.requests.dropFirst().map(\.sampling.seed)
        #expect(seeds.count == 5) // the first sample and four retries, all the same text here
        #expect(Set(seeds).count == seeds.count)
    }

    @Test func sampledAlternativesCycle() {
        let h = Harness(engine: ScriptedEngine(tokens: Self.tokens))
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.alt("]"))
        h.waitForModel()
        #expect(h.engine.requests.last?.sampling.temperature == 0.8)
        #expect(h.session.suggestion?.alternative == 1)
        h.press(.alt("["))
        #expect(h.session.suggestion?.alternative == 0)
    }

    @Test func quitAsksWhenModifiedAndSaveWritesTheFile() throws {
        let dir = NSTemporaryDirectory() + "exitlens-session-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/a.py"
        try "a\n".write(toFile: path, atomically: true, encoding: .utf8)
        let h = Harness(text: "a\n", path: path)
        h.type("b")
        #expect(h.session.handle(.ctrl("q"), now: 1) == .keepGoing)
        #expect(h.session.message?.contains("unsaved") == true)
        h.press(.ctrl("s"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "ba\n")
        #expect(h.session.handle(.ctrl("q"), now: 1) == .quit)
    }

    @Test func readOnlyBuffersRefuseEdits() {
        let h = Harness(text: "bin", readOnly: "binary file (NUL bytes): read-only")
        h.type("x")
        h.press(.ctrl("s"))
        #expect(h.session.buffer.text == "bin")
        #expect(h.session.message?.contains("read-only") == true)
    }

    @Test func recoveryIsOfferedAndRestores() {
        let h = Harness(text: "saved\n")
        h.session.offerRecovery("unsaved work\n")
        h.press(.alt("r"))
        #expect(h.session.buffer.text == "unsaved work\n")
        h.press(.ctrl("z"))
        #expect(h.session.buffer.text == "saved\n")
    }

    @Test func helpListsEveryKeyTheSessionHandles() {
        let listed = playgroundKeyHelp.map(\.keys).joined(separator: " ")
        for key in ["Tab", "Ctrl-→", "Alt-f", "Alt-Enter", "Esc", "Alt-]", "Ctrl-Space", "Ctrl-Z", "Ctrl-Y", "Ctrl-S", "Ctrl-Q",
                    "F1", "F2", "F3", "F4", "Alt-i", "F5", "F6", "F7", "PgUp", "Home"] {
            #expect(listed.contains(key), "help lacks \(key)")
        }
    }
}

/// In a file longer than the prompt, the background prefill follows the cursor's prompt window,
/// and a request there starts where the filled text starts (so the prefix cache serves it).
@Suite struct PromptWindowPrefillTests {
    @Test func movingToAnotherPartOfALongFileRefillsItsWindow() throws {
        let text = (0..<1000).map { "value_\($0) = compute(\($0))  # line \($0)" }.joined(separator: "\n")
        let engine = ScriptedEngine(tokens: [Fixtures.token(7, "x", layer: 3)])
        var options = PlaygroundOptions()
        options.prefillInBackground = true
        let worker = CompletionWorker(engine: engine) {}
        let session = PlaygroundSession(buffer: EditorBuffer(text: text), path: nil, model: Fixtures.model,
                                        worker: worker, options: options, policy: .full)
        defer { session.shutdown() }
        session.startBackgroundPrefill()
        #expect(session.waitForModel(timeout: 10, now: { 0 }))
        #expect(engine.prefills.count == 1 && engine.prefills[0].hasPrefix("value_0 ="))
        #expect(engine.prefills[0].count <= session.promptLimit + 1, "a window, not the whole file")
        // Moving (no edit) to line 600 puts the prompt's start elsewhere: after the pause, a refill.
        for _ in 0..<600 { _ = session.handle(.down, now: 1) }
        let deadline = try #require(session.idlePrefillDeadline)
        session.tick(now: deadline)
        #expect(session.waitForModel(timeout: 10, now: { deadline }))
        let start = session.buffer.promptStartLine(limit: session.promptLimit)
        #expect(start > 0 && start % EditorBuffer.promptAnchorLines == 0)
        let refill = try #require(engine.prefills.last)
        #expect(engine.prefills.count == 2 && refill.hasPrefix("value_\(start) ="))
        // Moving one line further keeps the window (no refill asked for).
        _ = session.handle(.down, now: 2)
        if session.buffer.promptStartLine(limit: session.promptLimit) == start { #expect(session.idlePrefillDeadline == nil) }
        // A request here starts with the filled text.
        session.requestNow(now: 3)
        #expect(session.waitForModel(timeout: 10, now: { 3 }))
        let prompt = try #require(engine.requests.last?.prompt)
        let line = session.buffer.cursor.line
        #expect(prompt.hasPrefix("value_\(start) ="))
        #expect(refill.hasPrefix(prompt) || line >= start + refill.split(separator: "\n").count,
                "the prompt is the filled window up to the cursor")
    }
}
