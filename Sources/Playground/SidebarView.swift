import Foundation

/// The sidebar (F3): model, policy, the current suggestion's cost, latency, the session's
/// exit-layer histogram and prefix-cache reuse.
extension PlaygroundSession {
    func milliseconds(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        return options.stableTimings ? "‹ms›" : String(format: "%.0f ms", seconds * 1000)
    }

    func renderSidebar(on screen: Screen, in rect: Rect) {
        let theme = options.theme
        let w = rect.width - 2
        var row = rect.row
        for r in 0..<rect.height { screen.put("│", row: rect.row + r, column: rect.column, style: theme.border) }
        func line(_ text: String, _ style: CellStyle = .plain) {
            guard row < rect.row + rect.height else { return }
            screen.put(String(text.prefix(w)), row: row, column: rect.column + 2, style: style)
            row += 1
        }
        func styled(_ l: StyledLine) {
            guard row < rect.row + rect.height else { return }
            l.draw(on: screen, row: row, column: rect.column + 2, skip: 0, width: w)
            row += 1
        }
        let L = model.layerCount
        line("Model", theme.heading)
        line(model.name)
        line("\(L) layers · \(compact(Double(model.parameterCount))) params")
        line("Policy", theme.heading)
        line(knobs.summary)
        if !knobs.knobs.isEmpty { line("F5/F6 −/+  F7 next knob", theme.muted) }

        line("Suggestion", theme.heading)
        if let s = suggestion, !s.tokens.isEmpty {
            let mean = Double(s.tokens.map(\.trace.exitLayer).reduce(0, +)) / Double(s.tokens.count)
            line("\(plural(s.tokens.count, "token"))   mean exit \(String(format: "%.1f", mean))/\(L)")
            for l in costText(s) { line(l) }
            line("first token \(milliseconds(s.firstTokenLatency))")
            let decode = s.tokens.dropFirst().map(\.seconds)
            if !decode.isEmpty {
                let perToken = decode.reduce(0, +) / Double(decode.count)
                let rate = options.stableTimings ? "‹tok/s›" : String(format: "%.0f tok/s", 1 / max(perToken, 1e-9))
                line("\(options.stableTimings ? "‹ms›" : String(format: perToken < 0.001 ? "%.2f ms" : "%.1f ms", perToken * 1000))/token · \(rate)")
            }
            if let r = s.result { line("prefix reuse \(r.reusedPromptTokens)/\(r.promptTokenCount) tokens") }
            styled(exitStrip(s, width: w))
        } else {
            line(suggestion == nil ? "none" : suggestionStatus, theme.muted)
        }

        line("Session (\(plural(stats.completions, "completion")))", theme.heading)
        let p50 = SessionStats.percentile(stats.firstTokenLatencies, 50), p95 = SessionStats.percentile(stats.firstTokenLatencies, 95)
        line("first token p50 \(milliseconds(p50))")
        line("            p95 \(milliseconds(p95))")
        if !stats.tokenSeconds.isEmpty {
            let t50 = SessionStats.percentile(stats.tokenSeconds, 50), t95 = SessionStats.percentile(stats.tokenSeconds, 95)
            line(options.stableTimings ? "per token p50 ‹ms› p95 ‹ms›"
                 : String(format: "per token p50 %.2f p95 %.2f ms", (t50 ?? 0) * 1000, (t95 ?? 0) * 1000))
        }
        if stats.promptTokens > 0 {
            line("prefix cache \(stats.reusedPromptTokens)/\(stats.promptTokens) reused")
        }
        if let acceptance = stats.acceptanceSummary(policy: knobs.kind.rawValue) { line(acceptance) }
        // The legend goes at the bottom; the histogram takes the rows between.
        let legend = legendLines(width: w)
        let bottom = rect.row + rect.height - legend.count
        if row + 3 <= bottom {
            line("Exit layers (all tokens)", theme.heading)
            drawHistogram(on: screen, rows: row..<bottom, column: rect.column + 2, width: w)
        }
        var legendRow = max(row, bottom)
        for l in legend where legendRow < rect.row + rect.height {
            l.draw(on: screen, row: legendRow, column: rect.column + 2, skip: 0, width: w)
            legendRow += 1
        }
    }

    /// The sidebar in one line, for terminals under `Layout.compactBelow` columns.
    func renderCompactSidebar(on screen: Screen, in rect: Rect) {
        let theme = options.theme
        var l = StyledLine()
        l.append("│ ", theme.border)
        l.append(knobs.summary, .plain)
        if let s = suggestion, !s.tokens.isEmpty {
            let mean = Double(s.tokens.map(\.trace.exitLayer).reduce(0, +)) / Double(s.tokens.count)
            l.append(" · mean exit \(String(format: "%.1f", mean))/\(model.layerCount)", .plain)
            if let r = costRatio(s) { l.append(String(format: " · %.2f× full", r), .plain) }
            l.append(" · ", .plain)
            l.runs += exitStrip(s, width: max(6, rect.width - l.length - 10)).runs
        } else {
            l.append(" · \(model.layerCount) layers", .plain)
        }
        l.append("  F3 hides", theme.muted)
        l.draw(on: screen, row: rect.row, column: rect.column, skip: 0, width: rect.width)
    }

    /// Cost as a fraction of full depth: never a negative "saving".
    func costText(_ s: Suggestion) -> [String] {
        guard let ratio = costRatio(s) else { return ["cost –"] }
        // Above 1×, say what the extra work is: drafts and verification, or the decision heads.
        if ratio > 1.005 {
            let why = knobs.speculative != nil ? "  (drafts and verification)" : "  (controller and heads overhead)"
            return [String(format: "cost %.2f× full FLOPs", ratio), why]
        }
        return [String(format: "cost %.2f× full FLOPs", ratio)]
    }

    /// FLOPs spent on the suggestion (a stop step included) over what full depth would spend.
    func costRatio(_ s: Suggestion) -> Double? {
        let flops = s.tokens.reduce(0) { $0 + $1.trace.flops.total } + (s.result?.stop?.flops.total ?? 0)
        let full = s.tokens.reduce(0) { $0 + $1.trace.fullFlops }
        return full > 0 ? flops / full : nil
    }

    /// The exit layer of each token, as numbers in the layer's colour; the first token (from
    /// the prompt's full-depth pass) is "P".
    func exitStrip(_ s: Suggestion, width: Int) -> StyledLine {
        var strip = StyledLine()
        strip.append("exit", .plain)
        var used = 4
        for (i, t) in s.tokens.enumerated() {
            let label = i == 0 ? "P" : String(t.trace.exitLayer)
            guard used + 1 + label.count <= width - (i < s.tokens.count - 1 ? 2 : 0) else {
                strip.append(" …", options.theme.muted)
                break
            }
            strip.append(" ", .plain)
            strip.append(label, i == 0 ? options.theme.prefillToken : ghostStyle(layer: t.trace.exitLayer).with(dim: false))
            used += 1 + label.count
        }
        return strip
    }

    /// The session's exit-layer histogram in `rows`: one bar per layer when they fit, else per group.
    func drawHistogram(on screen: Screen, rows: Range<Int>, column: Int, width: Int) {
        let L = model.layerCount
        guard !rows.isEmpty else { return }
        let total = stats.exitHistogram.reduce(0, +)
        let group = max(1, (L + rows.count - 1) / rows.count)
        var counts: [(ClosedRange<Int>, Int)] = []
        var start = 1
        while start <= L {
            let end = min(L, start + group - 1)
            counts.append((start...end, stats.exitHistogram[(start - 1)...(end - 1)].reduce(0, +)))
            start = end + 1
        }
        let top = max(1, counts.map(\.1).max() ?? 1)
        let labelWidth = group == 1 ? String(L).count : 2 * String(L).count + 1
        let barWidth = max(1, width - labelWidth - 6)
        for (i, (range, count)) in counts.enumerated() where i < rows.count {
            var bar = StyledLine()
            let label = range.count == 1 ? String(range.lowerBound) : "\(range.lowerBound)-\(range.upperBound)"
            bar.append(String(repeating: " ", count: max(0, labelWidth - label.count)) + label + " ", .plain)
            let style = ghostStyle(layer: (range.lowerBound + range.upperBound) / 2).with(dim: false)
            let drawn = histogramBar(count, of: top, width: barWidth)
            bar.append(drawn.isEmpty && count > 0 ? "▏" : drawn, style)
            let share = total > 0 ? Int((Double(count) / Double(total) * 100).rounded()) : 0
            bar.append(" \(share)%", options.theme.muted)
            bar.draw(on: screen, row: rows.lowerBound + i, column: column, skip: 0, width: width)
        }
    }

    /// The numbered colour legend: every layer (256 colours, truecolor) or band (8 colours, no
    /// colour) with its number, then the first token's own style.
    func legendLines(width: Int) -> [StyledLine] {
        let theme = options.theme, L = model.layerCount
        var lines: [StyledLine] = []
        var current = StyledLine()
        current.append("layer", theme.muted)
        var used = 5
        func chip(_ label: String, _ style: CellStyle) {
            if used + 1 + label.count > width {
                lines.append(current)
                current = StyledLine()
                current.append("     ", .plain)
                used = 5
            }
            current.append(" ", .plain)
            current.append(label, style)
            used += 1 + label.count
        }
        switch theme.mode {
        case .full256, .truecolor:
            let digits = String(L).count
            for layer in 1...max(1, L) {
                var style = ghostStyle(layer: layer).with(dim: false)
                style.reverse = true
                let n = String(layer)
                chip(String(repeating: " ", count: digits - n.count) + n, style)
            }
        case .eight, .none:
            for step in 0..<theme.rampSteps(layerCount: L) {
                let band = theme.band(step, layerCount: L)
                let label = band.count == 1 ? String(band.lowerBound) : "\(band.lowerBound)–\(band.upperBound)"
                chip(label, ghostStyle(layer: band.lowerBound).with(dim: false))
            }
        }
        lines.append(current)
        var first = StyledLine()
        first.append("P", theme.prefillToken)
        first.append(theme.mode == .none ? " (dim): first token, prompt pass" : ": first token, prompt pass", theme.muted)
        lines.append(first)
        return lines
    }

    func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    /// A Unicode bar with eighth-block resolution.
    func histogramBar(_ value: Int, of maximum: Int, width: Int) -> String {
        let eighths = Int((Double(value) / Double(maximum) * Double(width * 8)).rounded())
        let blocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + blocks[eighths % 8]
    }
}

extension CellStyle {
    func with(dim: Bool) -> CellStyle {
        var s = self
        // In monochrome mode dim is one of the layer steps: keep it.
        if foreground != nil { s.dim = dim }
        return s
    }
}
