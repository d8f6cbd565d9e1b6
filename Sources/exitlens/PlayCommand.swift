import ArgumentParser
import Completion
import EarlyExit
import Foundation
import Playground
import PlaygroundTerminal

/// `exitlens play [FILE]`: the terminal playground — an editor whose ghost text is coloured by
/// the layer each token exited at.
struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Edit a file with early-exit ghost-text completion (F1 in the playground lists the keys).",
        discussion: """
        Without a terminal, --script FILE --dump DIR replays keys on an in-memory screen and \
        writes screen dumps (without --dump it prints the final screen). Wide lines scroll horizontally; long files scroll.
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "File to edit (created on first save); omit it for a scratch buffer.")
    var file: String?

    /// The starting policy and knobs (F2 cycles, F5/F6 adjust); `PolicyConfiguration.defaultKind`
    /// unless `--policy` says otherwise.
    @OptionGroup var policyOptions: PolicyOptions

    @Option(help: "Pause after typing before asking the model, in milliseconds.")
    var debounce: Int = 120

    @Option(name: .customLong("max-tokens"), help: "Longest suggestion, in tokens.")
    var maxTokens: Int = 32

    /// `--colors`: how many colours to use.
    enum Colors: String, CaseIterable, ExpressibleByArgument {
        case auto, truecolor, full256 = "256", eight = "8", off = "none"
    }

    @Option(help: "Colours: auto (from the terminal and NO_COLOR; truecolor with TERM=xterm-direct), truecolor, 256, 8 or none.")
    var colors: Colors = .auto

    @Option(help: "Replay this keystroke script on an in-memory screen instead of the terminal.")
    var script: String?

    @Option(help: "With --script: the directory the screen dumps go to (without it, the final screen is printed).")
    var dump: String?

    @Option(help: "With --script: screen size as WxH.")
    var size: String = "120x40"

    @Flag(name: .customLong("stable-timings"), help: "Show ‹ms› instead of timings (for golden screens).")
    var stableTimings = false

    @Option(help: "Append every shown suggestion (accepted chars and tokens, policy, exit layers, latency) to this JSON Lines log; `exitlens report` summarises it. Default: $XDG_STATE_HOME/exitlens/play-log.jsonl (not with --script).")
    var log: String?

    @Flag(name: .customLong("no-log"), help: "Record no session log.")
    var noLog = false

    @Flag(help: "Start at the end of the file's last line with text and ask for a suggestion at once (make run).")
    var demo = false

    func validate() throws {
        _ = try policyOptions.configuration()
        guard (0...5000).contains(debounce) else { throw ValidationError("--debounce must be 0…5000 ms") }
        guard (1...512).contains(maxTokens) else { throw ValidationError("--max-tokens must be 1…512") }
        if dump != nil && script == nil { throw ValidationError("--dump needs --script") }
        if log != nil && noLog { throw ValidationError("--log and --no-log contradict each other") }
    }

    func run() throws {
        // Everything that can fail without the terminal fails before it is touched.
        let opened: DocumentFile.Opened?
        do { opened = try file.map(DocumentFile.open) } catch { throw CommandError("\(error)") }
        if script == nil && (isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1) {
            throw CommandError("exitlens play needs a terminal on stdin and stdout (use --script FILE --dump DIR without one)")
        }
        let scriptText: String?
        if let script {
            do { scriptText = try String(contentsOfFile: script, encoding: .utf8) } catch {
                throw CommandError("cannot read script \(script): \(error.localizedDescription)")
            }
        } else {
            scriptText = nil
        }
        let model: LanguageModel
        do { model = try modelOptions.load() } catch {
            throw CommandError("cannot load model \(modelOptions.model): \(error)")
        }
        guard let wake = makeWakePipe() else { throw CommandError("cannot create a pipe") }
        let wakeWrite = wake.write
        let worker = CompletionWorker(engine: Completer(model: model)) {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
        var options = PlaygroundOptions()
        options.debounce = Double(debounce) / 1000
        options.maxTokens = maxTokens
        options.stableTimings = stableTimings
        // Scripted runs are tests and demos: they log only when asked to.
        options.logPath = noLog ? nil : (log ?? (script == nil ? SessionLog.defaultPath() : nil))
        let noColorEnv = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let buffer = EditorBuffer(text: opened?.text ?? "")
        let policy = try policyOptions.configuration(controllerThresholds: model.earlyExit.controller?.recommendedThresholds)
        do { try policy.validate(layerCount: model.network.shape.layerCount) } catch { throw CommandError("\(error)") }
        let info = ModelInfo(model: model)

        if let scriptText {
            let parts = size.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 else { throw CommandError("--size must be WxH") }
            options.theme = Theme(mode: colors == .auto ? (noColorEnv ? .none : .full256) : Self.mode(colors))
            let session = PlaygroundSession(buffer: buffer, path: file, readOnlyReason: opened?.readOnlyReason, model: info,
                                            worker: worker, options: options, policy: policy)
            offerRecovery(to: session, opened: opened)
            if demo { session.startDemo(now: monotonicSeconds()) }
            let screen = MemoryScreen(width: parts[0], height: parts[1])
            do {
                try ScriptRunner(session: session, screen: screen, dumpDirectory: dump).run(scriptText)
            } catch {
                session.shutdown()
                throw CommandError("\(error)")
            }
            session.shutdown()
            // Without --dump the run would say nothing: the final screen is its result.
            if dump == nil {
                print(screen.text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { String($0.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n"))
            }
            return
        }

        let screen: CursesScreen
        do { screen = try CursesScreen(noColor: noColorEnv || colors == .off) } catch {
            throw CommandError("\(error)")
        }
        var mode = screen.colorMode
        // Fewer colours than the terminal offers, when asked (a truecolor palette needs a direct-colour terminfo).
        if colors == .eight && mode != .none { mode = .eight }
        if colors == .full256 && mode == .truecolor { mode = .full256 }
        options.theme = Theme(mode: mode)
        // The file goes into the prefix cache while the person reads it (progress in the status line).
        options.prefillInBackground = true
        let session = PlaygroundSession(buffer: buffer, path: file, readOnlyReason: opened?.readOnlyReason, model: info,
                                        worker: worker, options: options, policy: policy)
        offerRecovery(to: session, opened: opened)
        session.startBackgroundPrefill()
        if demo { session.startDemo(now: monotonicSeconds()) }
        let status = TerminalLoop(session: session, screen: screen, wakeRead: wake.read, wakeWrite: wake.write).run()
        session.shutdown()
        screen.end()
        // (After a signal, the loop has already said where unsaved text went.)
        if status == 0, let farewell = session.farewell { writeToStandardError("exitlens: \(farewell)\n") }
        if status != 0 { throw ExitCode(status) }
    }

    static func mode(_ colors: Colors) -> ColorMode {
        switch colors {
        case .auto, .full256: return .full256
        case .truecolor: return .truecolor
        case .eight: return .eight
        case .off: return .none
        }
    }

    /// A recovery file left by a killed session is offered (Alt-r) unless it matches the file.
    /// The session also learns the file's format and state on disk here.
    private func offerRecovery(to session: PlaygroundSession, opened: DocumentFile.Opened?) {
        session.format = opened?.format ?? TextFormat()
        session.disk = opened?.disk
        guard opened?.readOnlyReason == nil else { return }
        guard let found = DocumentFile.findRecovery(for: file) else { return }
        if found.text == (opened?.text ?? "") {
            DocumentFile.removeRecovery(for: file)
            return
        }
        session.offerRecovery(found.text, from: found.path)
    }
}
