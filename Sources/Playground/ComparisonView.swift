import Completion
import EarlyExit
import Foundation

/// The side-by-side comparison (F8 / Alt-c): the ghost on screen, as the policy made it, beside
/// `full` on the same prompt. The ghost is reused, never asked again; `full` runs once.
public struct Comparison: Sendable {
    /// The ghost, kept up to date while it streams.
    public var policy: Suggestion
    /// The full-depth run of the same prompt (greedy).
    public var full: Suggestion

    /// Index of the first token where the two differ (nil: none yet). Tokens still to come
    /// cannot differ yet, so a shorter side only differs once both have finished.
    public var firstDifference: Int? {
        let a = policy.tokens, b = full.tokens
        if let i = zip(a, b).enumerated().first(where: { $0.element.0.id != $0.element.1.id })?.offset { return i }
        if policy.finished && full.finished && a.count != b.count { return min(a.count, b.count) }
        return nil
    }
}

extension PlaygroundSession {
    /// Keys while the comparison or the grid is open. Returns false for a key that should go on to
    /// the editor: save and quit (which must never be lost) after closing the view, the other
    /// view's key (F8 ↔ F9), which opens it, and F1, whose help opens over the view.
    func handleViewKey(_ key: Key, now: Double) -> Bool {
        let closing: Bool
        switch key {
        case .escape: closeViews(); return true
        case .function(1): return false
        case .ctrl("s"), .ctrl("q"): closing = true
        case .function(8), .alt("c"):
            if comparison != nil { closeViews(); return true }
            closing = true
        case .function(9), .alt("g"):
            if layerGridView != nil { closeViews(); return true }
            closing = true
        default:
            if layerGridView != nil, scrollLayerGrid(key) { return true }
            say(comparison != nil ? "Esc closes the comparison" : "Esc closes the layer grid; arrows and PgUp/PgDn scroll it")
            return true
        }
        if closing { closeViews() }
        return false
    }

    /// Closes both views; the comparison's `full` run and the grid's pass stop, the ghost stays.
    func closeViews() {
        if let c = comparison, !c.full.finished { worker?.cancel(job: c.full.job) }
        if let job = layerGridView?.job { worker?.cancel(job: job) }
        comparison = nil
        layerGridView = nil
    }

    func openComparison(now: Double) {
        closeViews()
        guard let s = suggestion, s.error == nil else {
            say("nothing to compare: type, or Ctrl-Space to ask for a suggestion, then F8")
            return
        }
        guard s.policy != PolicyKind.full.rawValue else {
            say("the suggestion is already full depth: F2 picks a policy to compare with full")
            return
        }
        nextJob += 1
        var full = Suggestion(job: nextJob, context: s.context)
        full.prompt = s.prompt
        full.policy = PolicyKind.full.rawValue
        full.setting = PolicyKind.full.rawValue
        comparison = Comparison(policy: s, full: full)
        var request = CompletionRequest(prompt: s.prompt, maxTokens: options.maxTokens, sampling: .greedy, policy: FullDepthPolicy())
        request.healsPartialWord = true // as the ghost it is compared with
        // Queued behind a ghost still streaming, which must not be cut short.
        cancelBackgroundPrefill()
        worker?.submit(job: nextJob, work: .completion(request), cancelRunning: false)
    }

    /// Events of the comparison's run and the grid's pass (true when the event was theirs).
    func receiveForViews(_ event: WorkerEvent) -> Bool {
        if var c = comparison, event.job == c.full.job {
            switch event {
            case .token(_, let token): c.full.append(token)
            case .finished(_, let result): c.full.finished = true; c.full.result = result
            case .failed(_, let error): c.full.finished = true; c.full.error = error
            case .cancelled, .grid: c.full.finished = true
            case .prefillProgress, .prefilled: break  // a prefill never carries this job's number
            }
            comparison = c
            return true
        }
        if var g = layerGridView, event.job == g.job {
            switch event {
            case .grid(_, let grid): g.grid = grid
            case .failed(_, let error): g.error = error
            case .cancelled: g.error = "cancelled"
            case .token, .finished, .prefillProgress, .prefilled: break
            }
            g.job = nil
            layerGridView = g
            return true
        }
        return false
    }

    /// The ghost changed (a token, its end): the comparison shows it as it is, and a grid that
    /// waited for it to finish starts its pass.
    func suggestionChanged(_ s: Suggestion) {
        if var c = comparison, c.policy.job == s.job {
            c.policy = s
            comparison = c
        }
        if let g = layerGridView, g.suggestionJob == s.job, s.finished, g.grid == nil, g.job == nil, g.error == nil {
            startLayerGrid(for: s)
        }
    }

    // MARK: Drawing

    /// Draws the comparison over the editor and sidebar (rows between the title bar and the status line).
    func renderComparison(_ c: Comparison, on screen: Screen, in rect: Rect) {
        let theme = options.theme
        for r in rect.row..<(rect.row + rect.height) { screen.fill(row: r, column: rect.column, count: rect.width, style: .plain) }
        let sampled = c.policy.alternative > 0 ? " (sampled suggestion; full is greedy)" : ""
        let title = " Compare: full depth vs \(c.policy.policy), same prompt\(sampled) · Esc closes "
        screen.put(String(repeating: "─", count: rect.width), row: rect.row, column: rect.column, style: theme.border)
        screen.put(String(title.prefix(max(0, rect.width - 2))), row: rect.row, column: rect.column + 1, style: theme.heading)

        // The last row says where the two part.
        var summary = StyledLine()
        let n = max(c.policy.tokens.count, c.full.tokens.count)
        if let d = c.firstDifference {
            summary.append("first difference at token \(d + 1)", theme.heading)
            summary.append(" — reversed from there on; the first \(plural(d, "token")) agree", theme.muted)
        } else if c.policy.finished && c.full.finished {
            summary.append("identical: the same \(plural(n, "token")) as full", theme.heading)
        } else {
            summary.append("… full depth is running (Esc stops it)", theme.muted)
        }
        summary.draw(on: screen, row: rect.row + rect.height - 1, column: rect.column + 1, skip: 0, width: rect.width - 2)

        let body = Rect(row: rect.row + 1, column: rect.column, width: rect.width, height: max(0, rect.height - 2))
        let sides = [(c.full, "full"), (c.policy, c.policy.setting.isEmpty ? c.policy.policy : c.policy.setting)]
        if rect.width >= Layout.compactBelow {
            // Side by side: full on the left, the policy on the right.
            let w = (body.width - 1) / 2
            for r in body.row..<(body.row + body.height) { screen.put("│", row: r, column: body.column + w, style: theme.border) }
            for (i, side) in sides.enumerated() {
                let panel = Rect(row: body.row, column: body.column + i * (w + 1), width: i == 0 ? w : body.width - w - 1, height: body.height)
                renderComparisonSide(side.0, name: side.1, difference: c.firstDifference, on: screen, in: panel)
            }
        } else {
            // One above the other.
            let h = body.height / 2
            screen.put(String(repeating: "┄", count: body.width), row: body.row + h, column: body.column, style: theme.border)
            renderComparisonSide(sides[0].0, name: sides[0].1, difference: c.firstDifference, on: screen,
                                 in: Rect(row: body.row, column: body.column, width: body.width, height: h))
            renderComparisonSide(sides[1].0, name: sides[1].1, difference: c.firstDifference, on: screen,
                                 in: Rect(row: body.row + h + 1, column: body.column, width: body.width, height: body.height - h - 1))
        }
    }

    private func renderComparisonSide(_ s: Suggestion, name: String, difference: Int?, on screen: Screen, in rect: Rect) {
        guard rect.height > 0, rect.width > 2 else { return }
        let theme = options.theme
        let w = rect.width - 2
        var row = rect.row
        func put(_ l: StyledLine) {
            guard row < rect.row + rect.height else { return }
            l.draw(on: screen, row: row, column: rect.column + 1, skip: 0, width: w)
            row += 1
        }
        var head = StyledLine()
        head.append(name, theme.heading)
        if !s.tokens.isEmpty {
            let mean = Double(s.tokens.map(\.trace.exitLayer).reduce(0, +)) / Double(s.tokens.count)
            head.append(" · \(plural(s.tokens.count, "token")) · mean exit \(String(format: "%.1f", mean))/\(model.layerCount)", .plain)
        }
        put(head)
        var cost = StyledLine()
        if let e = s.error {
            cost.append("failed: \(e)", theme.error)
        } else if s.tokens.isEmpty {
            cost.append(s.finished ? "no tokens" : "… running", theme.muted)
        } else {
            cost.append(costRatio(s).map { String(format: "cost %.2f× full FLOPs", $0) } ?? "cost –", .plain)
            let decode = s.tokens.dropFirst().map(\.seconds)
            if !decode.isEmpty {
                let perToken = decode.reduce(0, +) / Double(decode.count)
                cost.append(" · " + (options.stableTimings ? "‹ms›" : String(format: "%.1f ms", perToken * 1000)) + "/token", .plain)
            }
        }
        put(cost)
        // Short panels (stacked on a small terminal) keep their rows for the text.
        let roomy = rect.height >= 9
        if !s.tokens.isEmpty && roomy {
            // Engine time of the first token (prefill + first step): the prefix cache shortens a repeat.
            var first = StyledLine()
            first.append("first token \(milliseconds(s.tokens.first?.seconds))", .plain)
            if let r = s.result, r.reusedPromptTokens > 0 { first.append(" (prompt cached \(r.reusedPromptTokens)/\(r.promptTokenCount))", theme.muted) }
            put(first)
        }
        if !s.tokens.isEmpty { put(exitStrip(s, width: w)) }
        if roomy { put(StyledLine()) }
        // The cursor's line up to the cursor, then every generated token in its exit layer's colour.
        var runs: [(String, CellStyle)] = [(s.context.lineBefore, theme.muted)]
        for (i, t) in s.tokens.enumerated() {
            var style = i == 0 ? theme.prefillToken : ghostStyle(layer: t.trace.exitLayer).with(dim: false)
            if let d = difference, i >= d { style.reverse = true }
            runs.append((t.text, style))
        }
        let lines = wrapRuns(runs, width: w)
        let room = rect.row + rect.height - row
        for (i, l) in lines.prefix(room).enumerated() {
            if i == room - 1 && lines.count > room {
                var more = StyledLine()
                more.append("… \(plural(lines.count - room + 1, "more line"))", theme.muted)
                put(more)
            } else {
                put(l)
            }
        }
    }

    /// Styled runs laid out in lines of at most `width` columns: newlines break, long lines wrap,
    /// tabs become spaces.
    func wrapRuns(_ runs: [(String, CellStyle)], width: Int) -> [StyledLine] {
        var lines = [StyledLine()]
        guard width > 0 else { return lines }
        for (text, style) in runs {
            var piece = ""
            func flush() { lines[lines.count - 1].append(piece, style); piece = "" }
            for ch in text.replacingOccurrences(of: "\t", with: "    ") {
                if ch == "\n" || ch == "\r\n" {
                    flush()
                    lines.append(StyledLine())
                    continue
                }
                if lines[lines.count - 1].length + piece.count >= width {
                    flush()
                    lines.append(StyledLine())
                }
                piece.append(ch)
            }
            flush()
        }
        return lines
    }
}
