import Completion
import EarlyExit
import Foundation
import Model

/// Settings fixed for a playground run.
public struct PlaygroundOptions: Sendable {
    /// Pause after typing before a completion is requested, seconds.
    public var debounce: Double = 0.12
    public var maxTokens: Int = 32
    /// Show "‹ms›" instead of timings, so golden screens compare exactly.
    public var stableTimings = false
    public var theme = Theme(mode: .full256)
    /// Where every shown suggestion is recorded (nil: not recorded).
    public var logPath: String?
    /// Pre-fill the cursor's prompt window into the prefix KV cache in the background when the
    /// file opens, after each suggestion and after a pause that follows an edit or a move to
    /// another part of the file, so a request runs only what changed.
    public var prefillInBackground = false
    public init() {}
}

/// A background prefill of the buffer into the prefix cache, as the status line shows it.
public struct PrefillProgress: Sendable, Equatable {
    public var job: Int
    public var done = 0
    public var total = 0
    public var finished = false
    public var fill: PrefixFill?
}

/// Everything the playground knows and does, independent of the terminal: the buffer, the
/// suggestion, the panels, and what each key means. The terminal loop and `--script` feed it
/// keys, worker events and the time; `render(to:)` draws it on any `Screen`.
public final class PlaygroundSession {
    public enum Outcome { case keepGoing, quit }

    public var options: PlaygroundOptions
    public let model: ModelInfo
    public private(set) var buffer: EditorBuffer
    public let path: String?
    public private(set) var readOnlyReason: String?
    public var knobs: PolicyKnobs
    public private(set) var stats: SessionStats
    public private(set) var suggestion: Suggestion?
    /// Sampled alternatives for the current cursor (Alt-] / Alt-[), index 0 the greedy one.
    private var alternatives: [Suggestion] = []
    private var alternativeIndex = 0
    /// Seed of the last sampled request, and how many duplicates in a row were asked again.
    private var sampleSeed = 0
    private var duplicateTries = 0
    public var showSidebar = true
    public private(set) var showInspector = false
    public private(set) var showHelp = false
    /// First help line shown (the help scrolls on short terminals).
    var helpScroll = 0
    /// Token of the current suggestion the inspector describes.
    public private(set) var inspectedToken = 0
    /// The side-by-side comparison with `full` (F8), while open.
    public internal(set) var comparison: Comparison?
    /// The layer × token grid (F9), while open.
    public internal(set) var layerGridView: LayerGridState?
    /// A one-line message (saved, errors, prompts) shown in the status line until the next key.
    public private(set) var message: String?
    public private(set) var messageIsError = false
    /// Text found in a recovery file, offered with Alt-r.
    public private(set) var pendingRecovery: String?
    private var quitArmed = false
    /// BOM and line endings of the file, written back on save.
    public var format = TextFormat()
    /// The file as last opened, saved or reloaded: Ctrl-S asks before overwriting other changes.
    public var disk: DiskState?
    /// Ctrl-S found the file changed on disk: the next key answers (o / r / c).
    public private(set) var conflictPending = false
    /// The last save failed (full disk, permissions): quitting keeps the text in a recovery file.
    public private(set) var lastSaveFailed = false
    var worker: CompletionWorker?
    /// The last job number handed out (completions, prefills, the comparison's run, the grid's pass).
    var nextJob = 0
    /// The latest background prefill (nil before the first).
    public private(set) var prefill: PrefillProgress?
    /// When the debounce fires, and the keystroke it measures latency from.
    public private(set) var debounceDeadline: Double?
    /// When a pause after an edit that asked for nothing (typed through the ghost, Tab, paste,
    /// undo) re-fills the prefix cache: the next request elsewhere in the file then runs only
    /// its own few new tokens, not everything after the edit.
    public private(set) var idlePrefillDeadline: Double?
    /// What the latest background prefill read: the buffer version and the prompt window's first line.
    private var prefilled: (version: Int, startLine: Int)?
    /// The prompt's first line after the last key (`EditorBuffer.promptStartLine`).
    private var promptStart = 0

    /// Characters of text before the cursor a prompt takes: 6,000, or ~3 per token of the
    /// context less the completion where that is fewer, so the prompt's tokens fit and the
    /// engine need not cut its start (which would move it, and lose the prefix cache).
    public var promptLimit: Int { min(6000, max(512, 3 * (model.contextLength - options.maxTokens))) }
    /// The earliest deadline the loop must wake for (nil: sleep until a key or the worker).
    public var nextDeadline: Double? {
        [debounceDeadline, idlePrefillDeadline].compactMap { $0 }.min()
    }
    private var keystrokeTime: Double = 0
    private var requestTime: Double = 0
    /// Scroll offsets of the editor (first visible line, first visible column).
    var topLine = 0
    var leftColumn = 0

    public init(buffer: EditorBuffer, path: String?, readOnlyReason: String? = nil, model: ModelInfo,
                worker: CompletionWorker?, options: PlaygroundOptions = PlaygroundOptions(), policy: PolicyConfiguration = .full) {
        self.buffer = buffer
        self.path = path
        self.readOnlyReason = readOnlyReason
        self.model = model
        self.worker = worker
        self.options = options
        knobs = PolicyKnobs(model.supports(policy) ? policy : .full, layerCount: model.layerCount)
        stats = SessionStats(layerCount: model.layerCount)
        if !model.supports(policy) {
            // Said, not silent: a demo on a model without a controller must not pass for sec.
            say("\(policy.kind.rawValue) needs \(model.hasExitHeads ? "a controller" : "exit heads") that \(model.name) lacks: using full (F2 cycles what it can run)")
        }
        if let readOnlyReason { say(readOnlyReason, error: true) }
        // The file as it is now; `exitlens play` replaces this by the state it read the text at.
        disk = path.flatMap(DiskState.current)
    }

    /// Offer text from a recovery file (shown until Alt-r or Esc).
    public func offerRecovery(_ text: String, from recoveryFile: String? = nil) {
        pendingRecovery = text
        let place = recoveryFile.map { " (\($0))" } ?? ""
        say("unsaved text from an interrupted session was found: Alt-r restores it, Esc ignores it\(place)")
    }

    public func say(_ text: String, error: Bool = false) {
        message = text
        messageIsError = error
    }

    public var title: String {
        (path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "[scratch]") + (buffer.isModified ? " [+]" : "")
            + (readOnlyReason != nil ? " [read-only]" : "")
    }

    // MARK: Keys

    public func handle(_ key: Key, now: Double) -> Outcome {
        guard options.prefillInBackground else { return handleKey(key, now: now) }
        let version = buffer.version
        let outcome = handleKey(key, now: now)
        // An edit, or a move to another part of a long file (the prompt starts elsewhere).
        let start = buffer.promptStartLine(limit: promptLimit)
        if buffer.version != version || start != promptStart { idlePrefillDeadline = now + options.debounce }
        promptStart = start
        return outcome
    }

    private func handleKey(_ key: Key, now: Double) -> Outcome {
        if key == .resize { return .keepGoing }
        if conflictPending { answerConflict(key); return .keepGoing }
        if showHelp {
            // Arrows and page keys scroll the help; any other key closes it and does nothing else —
            // except save and quit, which must never be lost (the editor fuzzer found Ctrl-S
            // swallowed by the help screen).
            let page = max(1, screenSize.height - 4)
            switch key {
            case .down: helpScroll += 1
            case .up: helpScroll = max(0, helpScroll - 1)
            case .pageDown: helpScroll += page
            case .pageUp: helpScroll = max(0, helpScroll - page)
            default: showHelp = false
            }
            if showHelp { helpScroll = min(helpScroll, helpScrollLimit); return .keepGoing }
            if key != .ctrl("s") && key != .ctrl("q") { return .keepGoing }
        }
        // The comparison and the grid take the keys while open; Esc closes them, not the ghost.
        if comparison != nil || layerGridView != nil, handleViewKey(key, now: now) { return .keepGoing }
        let wasArmed = quitArmed
        quitArmed = false
        if message != nil && key != .ctrl("q") { message = nil; messageIsError = false }
        switch key {
        case .ctrl("q"):
            if buffer.isModified && !wasArmed {
                quitArmed = true
                if lastSaveFailed {
                    say("unsaved changes and the last save failed: Ctrl-Q again quits and keeps the text in a recovery file", error: true)
                } else {
                    say("unsaved changes: Ctrl-S saves, Ctrl-Q again quits without saving", error: true)
                }
                return .keepGoing
            }
            if buffer.isModified && lastSaveFailed { keepUnsavedText() }
            return .quit
        case .ctrl("s"): save()
        case .ctrl("c"): say("Ctrl-Q quits (Ctrl-C does nothing here, so it cannot lose text)")
        case .ctrl("z"): edit { $0.undo() }
        case .ctrl("y"): edit { $0.redo() }
        case .function(1): showHelp = true; helpScroll = 0
        case .function(2):
            knobs.cycle(available: model.supports)
            say("policy: \(knobs.summary)")
            rerun(now: now)
        case .function(3): showSidebar.toggle()
        case .function(4), .alt("i"): toggleInspector(now: now)
        case .function(5): knobs.adjust(by: -1); say("policy: \(knobs.summary)"); rerun(now: now)
        case .function(6): knobs.adjust(by: 1); say("policy: \(knobs.summary)"); rerun(now: now)
        case .function(7): knobs.selectNextKnob(); say("policy: \(knobs.summary)")
        case .function(8), .alt("c"): openComparison(now: now)
        case .function(9), .alt("g"): openLayerGrid()
        case .alt("n"): selectToken(by: 1)
        case .alt("p"): selectToken(by: -1)
        case .alt("r"):
            if let text = pendingRecovery {
                pendingRecovery = nil
                restore(text)
            }
        case .escape:
            pendingRecovery = nil
            dismiss()
        case .ctrlSpace: dismiss(); requestNow(now: now)
        case .alt("]"): cycleAlternative(by: 1, now: now)
        case .alt("["): cycleAlternative(by: -1, now: now)
        case .tab:
            if hasGhostText { accept(suggestion?.text ?? "") } else {
                typing(now: now) { $0.insert(String(repeating: " ", count: 4 - $0.cursor.column % 4)) }
            }
        case .ctrlRight, .alt("f"):
            if hasGhostText { accept(suggestion?.nextWord ?? "") } else { dismiss(); moveWordRight() }
        case .alt("\n"), .alt("\r"):
            if hasGhostText { accept(suggestion?.nextLine ?? "") }
        case .character(let c): typeCharacter(c, now: now)
        case .enter: typing(now: now) { $0.newline() }
        case .backspace: typing(now: now) { $0.backspace() }
        case .delete: typing(now: now, request: false) { $0.deleteForward() }
        case .left: move { $0.moveLeft() }
        case .right: move { $0.moveRight() }
        case .up: move { $0.moveVertically(-1) }
        case .down: move { $0.moveVertically(1) }
        case .home: move { $0.moveHome() }
        case .end: move { $0.moveEnd() }
        case .pageUp: move { $0.moveVertically(-pageSize) }
        case .pageDown: move { $0.moveVertically(pageSize) }
        case .ctrlLeft: move { $0.moveLeft() }
        default: break
        }
        return .keepGoing
    }

    /// The terminal's size as last reported (a resize, or a frame drawn).
    public private(set) var screenSize = (width: 120, height: 40)

    /// A resize: page keys move by the new editor height from the very next key, whether or
    /// not a frame was drawn in between (so a key burst means the same in a terminal and in `--script`).
    public func resize(width: Int, height: Int) {
        screenSize = (max(0, width), max(0, height))
    }

    /// Lines a page key moves: the editor's height in the current layout, less one.
    var pageSize: Int {
        let layout = Layout(width: screenSize.width, height: screenSize.height, sidebar: showSidebar,
                            inspectorRows: showInspector ? inspectorRows : nil)
        return max(1, layout.editor.height - 1)
    }

    private var hasGhostText: Bool { !(suggestion?.text.isEmpty ?? true) }

    private func typeCharacter(_ c: Character, now: Double) {
        guard readOnlyReason == nil else { say(readOnlyReason ?? "read-only", error: true); return }
        // Type-through: a character the ghost text starts with keeps the rest (and the stream).
        if var s = suggestion, s.text.first == c {
            buffer.insert(String(c))
            s.dropPrefix(1)
            s.typedChars += 1
            suggestion = s
            alternatives = []
            return
        }
        typing(now: now) { $0.insert(String(c)) }
    }

    /// An edit that invalidates the suggestion and (usually) asks for a new one after the pause.
    private func typing(now: Double, request: Bool = true, _ change: (inout EditorBuffer) -> Void) {
        guard readOnlyReason == nil else { say(readOnlyReason ?? "read-only", error: true); return }
        dismiss()
        change(&buffer)
        if request {
            keystrokeTime = now
            debounceDeadline = now + options.debounce
        }
    }

    private func edit(_ change: (inout EditorBuffer) -> Void) {
        guard readOnlyReason == nil else { say(readOnlyReason ?? "read-only", error: true); return }
        dismiss()
        change(&buffer)
    }

    private func move(_ change: (inout EditorBuffer) -> Void) {
        dismiss()
        let line = buffer.cursor.line
        var moved = buffer
        change(&moved)
        // Leaving a line that holds only Enter's indentation empties it (no trailing spaces).
        if moved.cursor.line != line && buffer.autoIndentedLine == line && readOnlyReason == nil {
            buffer.leaveAutoIndent()
        }
        change(&buffer)
    }

    private func moveWordRight() {
        let line = Array(buffer.lines[buffer.cursor.line])
        var i = buffer.cursor.column
        if i >= line.count { buffer.moveRight(); return }
        let isWord: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "_" }
        while i < line.count, !isWord(line[i]) { i += 1 }
        while i < line.count, isWord(line[i]) { i += 1 }
        buffer.move(to: TextPosition(line: buffer.cursor.line, column: i))
    }

    /// Insert accepted ghost text; the rest of the suggestion stays (and keeps streaming).
    private func accept(_ text: String) {
        guard !text.isEmpty, var s = suggestion else { return }
        guard readOnlyReason == nil else { say(readOnlyReason ?? "read-only", error: true); return }
        buffer.insert(text)
        s.dropPrefix(text.count)
        s.acceptedChars += text.count
        suggestion = s
        alternatives = []
        if s.text.isEmpty && s.finished { retire(); suggestion = nil }
    }

    /// Esc, cursor moves, edits: drop the suggestion and stop the model at once.
    private func dismiss() {
        // The views describe the suggestion: they go with it (a file reloaded from disk).
        closeViews()
        if suggestion != nil || debounceDeadline != nil { worker?.cancelAll() }
        retire()
        suggestion = nil
        alternatives = []
        alternativeIndex = 0
        debounceDeadline = nil
    }

    private func save(overwrite: Bool = false) {
        guard readOnlyReason == nil else { say("\(readOnlyReason ?? "read-only"): not saved", error: true); return }
        guard let path else { say("scratch buffer: start with `exitlens play FILE` to save", error: true); return }
        // Another program changed the file since it was opened or saved: ask, as vim does.
        let check = DiskState.check(path, against: disk)
        if check.changed && !overwrite {
            conflictPending = true
            say("\(fileName) changed on disk since it was opened: o overwrites it, r reloads it (Ctrl-Z undoes), c cancels", error: true)
            return
        }
        do {
            disk = try DocumentFile.saveAtomically(buffer.textForSaving, format: format, to: path)
            if !buffer.trailingNewline && buffer.lines != [""] { buffer.trailingNewline = true }
            buffer.markSaved()
            lastSaveFailed = false
            DocumentFile.removeRecovery(for: path)
            say("saved \(path) (\(buffer.lineCount) \(buffer.lineCount == 1 ? "line" : "lines"))")
        } catch {
            lastSaveFailed = true
            say("\(error)", error: true)
        }
    }

    private var fileName: String { path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "[scratch]" }

    /// The answer to "changed on disk": overwrite, reload, or cancel (any other key).
    private func answerConflict(_ key: Key) {
        conflictPending = false
        message = nil
        switch key {
        case .character("o"), .character("O"): save(overwrite: true)
        case .character("r"), .character("R"): reloadFromDisk(reason: "reloaded \(fileName) from disk (Ctrl-Z brings your text back)")
        default: say("not saved: \(fileName) changed on disk (Ctrl-S asks again)")
        }
    }

    /// Replaces the buffer by the file as it is now: one undoable edit, and clean.
    private func reloadFromDisk(reason: String) {
        guard let path else { return }
        do {
            let opened = try DocumentFile.open(path)
            guard opened.readOnlyReason == nil else { say("\(fileName) on disk is now \(opened.readOnlyReason ?? "unreadable")", error: true); return }
            dismiss()
            if opened.text != buffer.text {
                let cursor = buffer.cursor
                buffer.replaceAll(with: opened.text)
                // The final newline is a flag, not a line: when only it differs, start afresh.
                if buffer.text != opened.text { buffer = EditorBuffer(text: opened.text) }
                buffer.move(to: cursor) // stay where the user was, as far as the new text allows
            }
            buffer.markSaved()
            format = opened.format
            disk = opened.disk
            say(reason)
        } catch {
            say("\(error)", error: true)
        }
    }

    /// Called by the loop now and then: a file changed by another program is reloaded when
    /// the buffer has no unsaved edits (with edits, Ctrl-S will ask).
    public func checkDisk() {
        guard let path, readOnlyReason == nil, !conflictPending else { return }
        let check = DiskState.check(path, against: disk)
        guard check.changed else { disk = check.now; return }
        if buffer.isModified {
            if !noticedChange { say("\(fileName) changed on disk; Ctrl-S will ask before overwriting it", error: true) }
            noticedChange = true
        } else {
            noticedChange = false
            reloadFromDisk(reason: "\(fileName) changed on disk: reloaded")
        }
    }

    private var noticedChange = false

    /// Writes the unsaved text to a recovery file (beside the file, else the state or temp
    /// directory); the result is reported after the terminal is restored.
    public func keepUnsavedText() {
        guard let text = unsavedText else { return }
        do {
            let written = try DocumentFile.writeRecovery(text, for: path)
            farewell = "unsaved text written to \(written) (the next `exitlens play` offers it)"
        } catch {
            farewell = "\(error)"
        }
    }

    /// A line for the terminal after the screen is gone (where unsaved text went).
    public private(set) var farewell: String?

    private func restore(_ text: String) {
        guard readOnlyReason == nil else { return }
        // One undoable edit, so Ctrl-Z brings the saved file back.
        buffer.replaceAll(with: text)
        say("restored unsaved text from the recovery file (Ctrl-Z undoes, Ctrl-S saves)")
    }

    /// Opening the inspector shows what was recorded; it never starts a completion (the
    /// suggestion on screen is the one inspected). Top-3 per layer is recorded for
    /// suggestions asked for while it is open.
    private func toggleInspector(now: Double) {
        showInspector.toggle()
        guard showInspector else { return }
        inspectedToken = suggestion?.firstShownTokenIndex ?? 0
    }

    private func selectToken(by delta: Int) {
        guard let s = suggestion, !s.tokens.isEmpty else { return }
        inspectedToken = min(max(0, inspectedToken + delta), s.tokens.count - 1)
    }

    // MARK: Requests

    /// Called by the loop: fires the debounced request when its time has come.
    public func tick(now: Double) {
        if let deadline = debounceDeadline, now >= deadline {
            debounceDeadline = nil
            startRequest(sample: 0, now: now)
        }
        if let deadline = idlePrefillDeadline, now >= deadline {
            idlePrefillDeadline = nil
            // A request on its way or a suggestion still streaming re-fills when it finishes.
            let busy = debounceDeadline != nil || suggestion.map { !$0.finished } ?? false
            let current = (version: buffer.version, startLine: buffer.promptStartLine(limit: promptLimit))
            if !busy && !(prefilled.map { $0 == current } ?? false) { startBackgroundPrefill() }
        }
    }

    /// A new policy or threshold: the suggestion on screen (or the one asked for) is asked
    /// again at once under it, so a comparison takes one key.
    private func rerun(now: Double) {
        guard suggestion != nil || debounceDeadline != nil else { return }
        dismiss()
        requestNow(now: now)
    }

    /// `make run`'s first minute: the cursor at the end of the last line with text (the sample
    /// stops mid-statement) and a suggestion asked for at once.
    public func startDemo(now: Double) {
        let last = buffer.lines.lastIndex { !$0.allSatisfy { $0 == " " || $0 == "\t" } } ?? 0
        buffer.move(to: TextPosition(line: last, column: buffer.lines[last].count))
        requestNow(now: now)
    }

    /// Ctrl-Space, or `--script`'s waits: ask now instead of after the pause.
    public func requestNow(now: Double) {
        keystrokeTime = now
        debounceDeadline = nil
        startRequest(sample: 0, now: now)
    }

    /// Fire a pending debounce at once (for `--script`, which does not want to sleep).
    public func flushDebounce(now: Double) {
        if debounceDeadline != nil {
            debounceDeadline = nil
            startRequest(sample: 0, now: now)
        }
    }

    private func cycleAlternative(by delta: Int, now: Double) {
        if let s = suggestion, alternatives.isEmpty { alternatives = [s]; alternativeIndex = 0 }
        if alternatives.isEmpty { requestNow(now: now); return }
        alternatives[alternativeIndex] = suggestion ?? alternatives[alternativeIndex]
        let next = alternativeIndex + delta
        if next >= 0 && next < alternatives.count {
            alternativeIndex = next
            suggestion = alternatives[next]
        } else if next >= alternatives.count {
            // A new sampled suggestion (temperature 0.8, a different seed each time).
            alternativeIndex = next
            keystrokeTime = now
            startRequest(sample: next, now: now)
        } else {
            alternativeIndex = alternatives.count - 1
            suggestion = alternatives[alternativeIndex]
        }
        say("suggestion \(alternativeIndex + 1) of \(max(alternatives.count, alternativeIndex + 1)) (Alt-] next, Alt-[ previous)")
    }

    private func startRequest(sample: Int, now: Double) {
        guard readOnlyReason == nil, let worker else { return }
        if sample == 0 { retire() } else if let s = suggestion, s.alternative == sample { log(s) }
        nextJob += 1
        let line = buffer.lines[buffer.cursor.line]
        var s = Suggestion(job: nextJob, context: SuggestionContext(lineBefore: String(line.prefix(buffer.cursor.column)),
                                                                    lineAfter: String(line.dropFirst(buffer.cursor.column))))
        s.prompt = buffer.textBeforeCursor(limit: promptLimit)
        s.alternative = sample
        s.policy = knobs.kind.rawValue
        s.setting = knobs.summary.replacingOccurrences(of: "▸", with: "")
        if sample == 0 { alternatives = []; alternativeIndex = 0 }
        suggestion = s
        requestTime = now
        // Every sampled request gets a fresh seed, so asking again after a duplicate differs.
        if sample > 0 { sampleSeed += 1 }
        let sampling = sample > 0 ? SamplingParameters(temperature: 0.8, topK: 40, seed: UInt64(sampleSeed)) : .greedy
        var request = CompletionRequest(prompt: s.prompt, maxTokens: options.maxTokens, sampling: sampling,
                                        policy: knobs.policy, speculative: sample > 0 ? nil : knobs.speculative,
                                        traceTopK: showInspector ? 3 : 0)
        request.healsPartialWord = true // the cursor is usually inside a word being typed
        worker.submit(job: nextJob, request: request)
    }

    /// Queues a prefill of the cursor's prompt window (`EditorBuffer.promptWindow`: the whole of a
    /// short file) into the prefix cache: a file just opened, a suggestion done, a pause after an
    /// edit or after moving to another part of a long file. A request cancels it at its next
    /// chunk and reuses what it filled.
    public func startBackgroundPrefill() {
        guard options.prefillInBackground, readOnlyReason == nil, let worker else { return }
        // The comparison's full run or the grid's pass may be queued behind the ghost; a prefill
        // would take its place in the worker's one queue slot.
        if let c = comparison, !c.full.finished { return }
        if layerGridView?.job != nil { return }
        nextJob += 1
        prefill = PrefillProgress(job: nextJob)
        let window = buffer.promptWindow(limit: promptLimit)
        prefilled = (buffer.version, window.startLine)
        worker.submitPrefill(job: nextJob, text: window.text, reservingTokens: options.maxTokens)
    }

    /// A view's job must not wait behind a long prefill (a request would cancel it anyway).
    func cancelBackgroundPrefill() {
        if let p = prefill, !p.finished { worker?.cancel(job: p.job) }
    }

    private func receivePrefill(_ event: WorkerEvent) {
        guard var p = prefill else { return }
        switch event {
        case .prefillProgress(_, let done, let total):
            p.done = done
            p.total = total
        case .prefilled(_, let fill):
            p.done = fill.tokens
            p.total = fill.tokens
            p.fill = fill
            p.finished = true
        case .cancelled, .failed:
            p.finished = true
        case .token, .finished, .grid:
            break
        }
        prefill = p
    }

    /// Worker events, delivered on the UI loop.
    public func receive(_ events: [WorkerEvent], now: Double) {
        for event in events {
            if receiveForViews(event) { continue }
            if let p = prefill, event.job == p.job { receivePrefill(event); continue }
            guard var s = suggestion, event.job == s.job else { continue }
            switch event {
            case .token(_, let token):
                let first = s.tokens.isEmpty
                if first {
                    s.firstTokenLatency = now - keystrokeTime
                    stats.record(firstTokenLatency: now - keystrokeTime)
                }
                stats.record(token: token, isFirst: first)
                s.append(token)
                let shown = s.text
                if shown.count > s.shownText.count && s.consumed == 0 { s.shownText = shown }
            case .finished(_, let result):
                s.finished = true
                s.result = result
                stats.record(result: result)
                // A sampled alternative that repeats one already offered (or shows nothing) is
                // replaced by another sample, a few times at most.
                if s.alternative > 0, duplicateTries < 4,
                   s.text.isEmpty || alternatives.enumerated().contains(where: { $0.offset != s.alternative && $0.element.text == s.text }) {
                    duplicateTries += 1
                    startRequest(sample: s.alternative, now: now)
                    return
                }
                if s.alternative > 0 { duplicateTries = 0 }
                suggestion = s
                startBackgroundPrefill()
            case .failed(_, let error):
                s.finished = true
                s.error = error
            case .cancelled:
                s.finished = true
            case .grid, .prefillProgress, .prefilled:
                continue
            }
            suggestion = s
            suggestionChanged(s)
            if s.alternative > 0 {
                if s.alternative < alternatives.count { alternatives[s.alternative] = s } else { alternatives.append(s) }
            }
        }
    }

    /// The suggestion (and its sampled alternatives) leave the screen: each one shown is logged
    /// and counted in the acceptance rate.
    private func retire() {
        var all = alternatives
        if let s = suggestion {
            if s.alternative < all.count { all[s.alternative] = s } else { all.append(s) }
        }
        for s in all { log(s) }
        alternatives = []
    }

    private func log(_ s: Suggestion) {
        guard !s.shownText.isEmpty, !loggedJobs.contains(s.job) else { return }
        markLogged(s)
        stats.record(shown: s.policy, accepted: s.acceptedChars > 0)
        guard let path = options.logPath else { return }
        if sessionLog == nil { sessionLog = SessionLog(path: path) }
        var acceptedTokens = 0, position = 0
        let accepted = s.typedChars + s.acceptedChars
        for t in s.tokens {
            position += t.text.count
            if position <= accepted + s.context.shape(s.rawText).lead { acceptedTokens += 1 } else { break }
        }
        let decode = s.tokens.dropFirst().map(\.seconds)
        let record = SuggestionRecord(
            time: Date().timeIntervalSince1970, model: model.name, layers: model.layerCount, policy: s.policy,
            setting: s.setting, alternative: s.alternative, shown: s.shownText,
            shownChars: s.shownText.count, acceptedChars: s.acceptedChars, acceptedTokens: s.acceptedChars > 0 ? acceptedTokens : 0,
            typedChars: s.typedChars, exitLayers: s.tokens.map(\.trace.exitLayer),
            firstTokenMs: s.firstTokenLatency.map { $0 * 1000 },
            perTokenMs: decode.isEmpty ? nil : decode.reduce(0, +) / Double(decode.count) * 1000,
            costRatio: costRatio(s), stopped: s.result?.stop != nil)
        sessionLog?.append(record)
        if let failure = sessionLog?.failure, !logFailureShown { logFailureShown = true; say(failure, error: true) }
    }

    /// Jobs already logged (an alternative can be retired twice: cycled away, then dismissed).
    private func markLogged(_ s: Suggestion) { loggedJobs.insert(s.job) }
    private var loggedJobs = Set<Int>()
    private var sessionLog: SessionLog?
    private var logFailureShown = false

    /// What the status line says about the suggestion.
    public var suggestionStatus: String {
        if suggestion == nil, debounceDeadline == nil, let p = prefill, !p.finished, p.total > 0 {
            return "reading the file into the cache: \(p.done)/\(p.total) tokens · type, or Ctrl-Space to ask"
        }
        guard let s = suggestion else { return debounceDeadline != nil ? "…" : "type, or Ctrl-Space to ask · F1 keys" }
        if let e = s.error { return "completion failed: \(e)" }
        if let stop = s.result?.stop {
            let p = stop.stopProbability.map { String(format: ", p=%.2f", $0) } ?? ""
            let after = s.tokens.isEmpty ? "" : " after \(plural(s.tokens.count, "token"))"
            return "⊘ stopped at layer \(stop.exitLayer)\(p)\(after)"
        }
        if !s.finished { return s.tokens.isEmpty ? "… thinking (\(knobs.kind.rawValue))" : "streaming: \(plural(s.tokens.count, "token"))" }
        if s.text.isEmpty { return "no suggestion (Ctrl-Space asks again, Alt-] samples another)" }
        return "\(plural(s.tokens.count, "token")), mean exit layer \(String(format: "%.1f", s.result?.meanExitLayer ?? 0)) — Tab accept, Esc dismiss"
    }

    /// Text to put in a recovery file when killed (nil when nothing is unsaved).
    public var unsavedText: String? { buffer.isModified && readOnlyReason == nil ? buffer.text : nil }

    /// Quitting: the suggestion on screen is logged, then the worker stops.
    public func shutdown() {
        retire()
        worker?.shutdown()
    }

    /// Events the worker has delivered since the last call.
    public func drainWorker() -> [WorkerEvent] { worker?.drain() ?? [] }

    /// Blocks until the worker is idle (for `--script`), then takes its events.
    public func waitForModel(timeout: Double, now: () -> Double) -> Bool {
        flushDebounce(now: now())
        let idle = worker?.waitUntilIdle(timeout: timeout) ?? true
        receive(drainWorker(), now: now())
        return idle
    }
}
