import Completion
import EarlyExit
import Foundation

/// `exitlens bench --playground`: the playground's suggestion latency, measured end to end on
/// real files through the real session, worker thread and renderer.
///
/// For each file, a scripted person opens it in a `PlaygroundSession` (with a real
/// `CompletionWorker` thread and `Completer`, one for the whole run so its prefix cache carries
/// over, as in `exitlens play`) and, at `placementsPerFile` evenly spaced non-blank lines, goes
/// there with the arrow keys (Down…, End), deletes the last `bursts × charactersPerBurst`
/// characters of the line with Backspace and types them back, one `Key.character` at a time
/// through `PlaygroundSession.handle`, in `bursts` bursts. After each burst it runs the
/// terminal loop's own cycle (`poll` on the worker's wake pipe with the debounce deadline as
/// timeout, drain the worker, `tick`, `render` to a `MemoryScreen`) on the real clock until
/// the suggestion has finished. The file ends as it began; the prompts are the file's own text.
///
/// **What is timed** (`DispatchTime`, monotonic): from the `now` at which `tick` fires the
/// debounced request — the end of the debounce, when the prompt is taken and the job submitted
/// to the worker — to the moment `render(to:)` returns after the first frame that shows a
/// ghost token (the loop was woken by the worker, drained its event and redrew). This includes
/// tokenizing the prompt, the prefill (or only its uncached suffix), the first token, the
/// cross-thread hand-off and wake-up, and one full frame render. It excludes the debounce
/// itself (reported separately as `sinceKeystroke`, which adds it back) and everything after
/// the first token. Keys within a burst are sent back to back; the debounce restarts at each.
///
/// With `backgroundPrefill` (the playground's behaviour) each file is pre-filled into the prefix
/// cache when it opens, and the rest of the file again after each suggestion; the scripted person
/// waits for that prefill before moving on (reading the file or the suggestion), and the time it
/// took is reported apart (`meanPrefillWait`), not in the latency.
///
/// A burst whose characters all match the ghost text is typed through (no new request, as in
/// the editor) and counted in `typedThrough`. The person pauses after typing through and after
/// moving to a line (to read it), which lets the session re-fill the prefix cache with the
/// edited file or the new part of a long file, as it would for them (`idlePrefillDeadline`).
/// A request whose completion is empty (the model ends at once) shows no ghost and is counted in
/// `emptySuggestions`.
public struct PlaygroundBenchmark {
    public struct Options: Sendable {
        public var placementsPerFile = 8
        public var bursts = 2
        public var charactersPerBurst = 3
        public var maxTokens = 16
        public var debounce = PlaygroundOptions().debounce
        public var policy: PolicyConfiguration = .sec
        /// Only the first `lineLimit` lines of each file get placements (nil: all).
        public var lineLimit: Int?
        public var screenWidth = 120
        public var screenHeight = 40
        /// Longest wait for one completion, seconds.
        public var timeout = 120.0
        /// Pre-fill the file in the background on open and after each suggestion, as `exitlens play` does.
        public var backgroundPrefill = true
        public init() {}
    }

    /// One measured request.
    public struct Sample: Sendable, Codable {
        public var file: String
        /// 1-based line the cursor was on.
        public var line: Int
        /// Request (end of debounce) → first ghost token rendered, seconds.
        public var latency: Double
        /// Last keystroke → first ghost token rendered (latency + debounce + loop wake-up), seconds.
        public var sinceKeystroke: Double
        public var promptTokens: Int
        public var reusedPromptTokens: Int
        public var prefillSeconds: Double
        public var tokens: Int
        /// Mean decode time of the tokens after the first, seconds (nil with one token).
        public var secondsPerToken: Double?
        public var policy: String
    }

    public struct Report: Sendable, Codable {
        public var model: String
        public var threads: Int
        public var policy: String
        public var debounceSeconds: Double
        public var maxTokens: Int
        public var files: [String]
        public var samples: [Sample]
        public var typedThrough: Int
        public var emptySuggestions: Int
        public var medianLatency: Double?
        public var p95Latency: Double?
        public var maxLatency: Double?
        /// Over requests that reused part of the previous prompt.
        public var p95LatencyCacheHits: Double?
        public var medianSinceKeystroke: Double?
        /// Mean of reusedPromptTokens / promptTokens over the requests.
        public var meanPrefixReuse: Double?
        public var cacheHitRequests: Int
        public var meanSecondsPerToken: Double?
        public var backgroundPrefill: Bool = false
        /// Mean wait for a background prefill (on open and after each suggestion), seconds.
        public var meanPrefillWait: Double?
    }

    public var options: Options
    public init(options: Options = Options()) { self.options = options }

    /// Runs the benchmark on `model` over `files`; `threads` is what `model` was loaded with (for the report).
    public func run(model: LanguageModel, threads: Int, files: [URL], progress: (String) -> Void = { _ in }) throws -> Report {
        guard let wake = makeWakePipe() else { throw DocumentError("cannot create a pipe") }
        defer { close(wake.read); close(wake.write) }
        let wakeWrite = wake.write
        let worker = CompletionWorker(engine: Completer(model: model)) {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
        defer { worker.shutdown() }
        let info = ModelInfo(model: model)
        var playOptions = PlaygroundOptions()
        playOptions.debounce = options.debounce
        playOptions.maxTokens = options.maxTokens
        playOptions.prefillInBackground = options.backgroundPrefill
        var samples: [Sample] = []
        var prefillWaits: [Double] = []
        var typedThrough = 0, empty = 0
        var policyLabel = ""
        let screen = MemoryScreen(width: options.screenWidth, height: options.screenHeight)

        for file in files {
            let opened = try DocumentFile.open(file.path)
            // Binary or non-UTF-8 files are read-only in the playground: nothing would be asked.
            guard opened.readOnlyReason == nil else { continue }
            let text = opened.text
            let session = PlaygroundSession(buffer: EditorBuffer(text: text), path: nil, model: info, worker: worker,
                                            options: playOptions, policy: options.policy)
            policyLabel = session.knobs.summary
            let lines = session.buffer.lines
            let perPlacement = max(1, options.bursts) * max(1, options.charactersPerBurst)
            // Lines with something to retype after their indentation.
            let usable = lines.indices.filter { i in
                (options.lineLimit.map { i < $0 } ?? true)
                    && lines[i].drop(while: { $0 == " " || $0 == "\t" }).count >= perPlacement
            }
            guard !usable.isEmpty else { continue }
            let count = min(options.placementsPerFile, usable.count)
            // Midpoints of `count` equal slices of the usable lines.
            let chosen = (0..<count).map { usable[((2 * $0 + 1) * usable.count) / (2 * count)] }
            session.render(to: screen)
            session.startBackgroundPrefill()
            if let wait = try waitForPrefill(session: session, screen: screen, wakeRead: wake.read) { prefillWaits.append(wait) }
            for line in chosen {
                // Go there with the keys a person would press.
                while session.buffer.cursor.line < line { _ = session.handle(.down, now: monotonicSeconds()) }
                while session.buffer.cursor.line > line { _ = session.handle(.up, now: monotonicSeconds()) }
                _ = session.handle(.end, now: monotonicSeconds())
                // The person reads the line they moved to; in a file longer than the prompt the
                // session re-fills the cursor's window meanwhile (nothing when the window is the same).
                if let wait = try waitForIdlePrefill(session: session, screen: screen, wakeRead: wake.read) { prefillWaits.append(wait) }
                let tail = Array(lines[line].suffix(perPlacement))
                for _ in tail { _ = session.handle(.backspace, now: monotonicSeconds()) }
                for burst in 0..<max(1, options.bursts) {
                    let start = burst * max(1, options.charactersPerBurst)
                    var lastKey = monotonicSeconds()
                    for ch in tail[start..<min(tail.count, start + max(1, options.charactersPerBurst))] {
                        lastKey = monotonicSeconds()
                        _ = session.handle(.character(ch), now: lastKey)
                    }
                    guard session.debounceDeadline != nil else {
                        typedThrough += 1
                        // The person pauses after typing through, as after reading a suggestion.
                        if let wait = try waitForIdlePrefill(session: session, screen: screen, wakeRead: wake.read) { prefillWaits.append(wait) }
                        continue
                    }
                    let measured = try measure(session: session, screen: screen, wakeRead: wake.read)
                    guard let (latency, shownAt) = measured.latency, let result = measured.result else { empty += 1; continue }
                    let decode = result.tokens.dropFirst().map(\.seconds)
                    policyLabel = result.policy
                    samples.append(Sample(file: file.lastPathComponent, line: line + 1, latency: latency,
                                          sinceKeystroke: shownAt - lastKey, promptTokens: result.promptTokenCount,
                                          reusedPromptTokens: result.reusedPromptTokens, prefillSeconds: result.prefillSeconds,
                                          tokens: result.tokens.count,
                                          secondsPerToken: decode.isEmpty ? nil : decode.reduce(0, +) / Double(decode.count),
                                          policy: result.policy))
                    progress(String(format: "%@:%d  %.1f ms  reuse %d/%d", file.lastPathComponent, line + 1, latency * 1000,
                                    result.reusedPromptTokens, result.promptTokenCount))
                    if let wait = try waitForPrefill(session: session, screen: screen, wakeRead: wake.read) { prefillWaits.append(wait) }
                }
            }
        }
        var report = Self.report(samples: samples, model: model.name, threads: threads, policy: policyLabel, options: options,
                                 files: files.map(\.path), typedThrough: typedThrough, empty: empty)
        report.backgroundPrefill = options.backgroundPrefill
        report.meanPrefillWait = prefillWaits.isEmpty ? nil : prefillWaits.reduce(0, +) / Double(prefillWaits.count)
        return report
    }

    /// The loop's cycle through the pause after an edit that asked for nothing, until the prefill
    /// it starts has finished; that prefill's duration (nil when none ran).
    private func waitForIdlePrefill(session: PlaygroundSession, screen: MemoryScreen, wakeRead: Int32) throws -> Double? {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var scratch = [UInt8](repeating: 0, count: 256)
        while let deadline = session.idlePrefillDeadline {
            _ = poll(&fds, 1, Int32(max(0, min(60_000, (deadline - monotonicSeconds()) * 1000 + 1))))
            while read(wakeRead, &scratch, scratch.count) > 0 {}
            session.receive(session.drainWorker(), now: monotonicSeconds())
            session.tick(now: monotonicSeconds())
            session.render(to: screen)
        }
        return try waitForPrefill(session: session, screen: screen, wakeRead: wakeRead)
    }

    /// The loop's cycle until the session's background prefill has finished; its duration (nil
    /// when none runs).
    private func waitForPrefill(session: PlaygroundSession, screen: MemoryScreen, wakeRead: Int32) throws -> Double? {
        guard let job = session.prefill?.job, session.prefill?.finished == false else { return nil }
        let start = monotonicSeconds()
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var scratch = [UInt8](repeating: 0, count: 256)
        while let p = session.prefill, p.job == job, !p.finished {
            _ = poll(&fds, 1, 1000)
            while read(wakeRead, &scratch, scratch.count) > 0 {}
            session.receive(session.drainWorker(), now: monotonicSeconds())
            session.render(to: screen)
            if monotonicSeconds() - start > options.timeout { throw DocumentError("the prefill did not finish in \(Int(options.timeout)) s") }
        }
        return monotonicSeconds() - start
    }

    /// The terminal loop's cycle, on the real clock, from a pending debounce until the
    /// suggestion has finished. Returns (request → first rendered ghost token, when it was shown).
    private func measure(session: PlaygroundSession, screen: MemoryScreen, wakeRead: Int32)
        throws -> (latency: (Double, Double)?, result: CompletionResult?) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var scratch = [UInt8](repeating: 0, count: 256)
        var requestStart: Double?
        var job: Int?
        var firstShown: (Double, Double)?
        let giveUp = monotonicSeconds() + options.debounce + options.timeout
        while true {
            var timeout: Int32 = 1000
            if let deadline = session.debounceDeadline {
                timeout = Int32(max(0, min(60_000, (deadline - monotonicSeconds()) * 1000 + 1)))
            }
            _ = poll(&fds, 1, timeout)
            while read(wakeRead, &scratch, scratch.count) > 0 {}
            let now = monotonicSeconds()
            session.receive(session.drainWorker(), now: now)
            let pending = session.debounceDeadline != nil
            let tickTime = monotonicSeconds()
            session.tick(now: tickTime)
            if pending && session.debounceDeadline == nil {
                requestStart = tickTime
                job = session.suggestion?.job
            }
            session.render(to: screen)
            guard let start = requestStart, let s = session.suggestion, s.job == job else {
                if monotonicSeconds() > giveUp { throw DocumentError("the model did not answer in \(Int(options.timeout)) s") }
                continue
            }
            if firstShown == nil && !s.tokens.isEmpty {
                let shown = monotonicSeconds()
                firstShown = (shown - start, shown)
            }
            if s.finished {
                if let error = s.error { throw DocumentError("completion failed: \(error)") }
                return (firstShown, s.result)
            }
            if monotonicSeconds() > giveUp { throw DocumentError("the model did not finish in \(Int(options.timeout)) s") }
        }
    }

    static func report(samples: [Sample], model: String, threads: Int, policy: String, options: Options, files: [String],
                       typedThrough: Int, empty: Int) -> Report {
        let latencies = samples.map(\.latency)
        let hits = samples.filter { $0.reusedPromptTokens > 0 }
        let reuse = samples.map { $0.promptTokens > 0 ? Double($0.reusedPromptTokens) / Double($0.promptTokens) : 0 }
        let perToken = samples.compactMap(\.secondsPerToken)
        return Report(model: model, threads: threads, policy: policy, debounceSeconds: options.debounce, maxTokens: options.maxTokens,
                      files: files, samples: samples, typedThrough: typedThrough, emptySuggestions: empty,
                      medianLatency: SessionStats.percentile(latencies, 50), p95Latency: SessionStats.percentile(latencies, 95),
                      maxLatency: latencies.max(), p95LatencyCacheHits: SessionStats.percentile(hits.map(\.latency), 95),
                      medianSinceKeystroke: SessionStats.percentile(samples.map(\.sinceKeystroke), 50),
                      meanPrefixReuse: reuse.isEmpty ? nil : reuse.reduce(0, +) / Double(reuse.count),
                      cacheHitRequests: hits.count,
                      meanSecondsPerToken: perToken.isEmpty ? nil : perToken.reduce(0, +) / Double(perToken.count))
    }

    /// The report as text (machine facts are the caller's: `Playground` does not read them).
    public static func text(_ r: Report) -> String {
        func ms(_ x: Double?) -> String { x.map { String(format: "%.1f ms", $0 * 1000) } ?? "–" }
        let reuse = r.meanPrefixReuse.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
        return """
            playground latency: request (end of debounce) → first ghost token rendered
            model \(r.model) · threads \(r.threads) · policy \(r.policy) · debounce \(Int((r.debounceSeconds * 1000).rounded())) ms · max tokens \(r.maxTokens)
            requests \(r.samples.count) (typed through \(r.typedThrough), empty \(r.emptySuggestions)) over \(r.files.count) file\(r.files.count == 1 ? "" : "s")
            latency   median \(ms(r.medianLatency))   p95 \(ms(r.p95Latency))   max \(ms(r.maxLatency))
            cache-hit requests \(r.cacheHitRequests): p95 \(ms(r.p95LatencyCacheHits))
            keystroke → ghost median \(ms(r.medianSinceKeystroke)) (includes the debounce)
            prefix reuse mean \(reuse) · decode \(ms(r.meanSecondsPerToken))/token
            background prefill \(r.backgroundPrefill ? "on (mean wait \(ms(r.meanPrefillWait)), not in the latency)" : "off")
            """
    }
}
