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
        line("\(model.name) · \(L)L · \(compact(Double(model.parameterCount))) params")
        line("Policy", theme.heading)
        line(knobs.summary)
        if !knobs.knobs.isEmpty { line("F5/F6 −/+  F7 next knob", theme.muted) }

        line("Suggestion", theme.heading)
        if let s = suggestion, !s.tokens.isEmpty {
            let flops = s.tokens.reduce(0) { $0 + $1.trace.flops.total } + (s.result?.stop?.flops.total ?? 0)
            let full = s.tokens.reduce(0) { $0 + $1.trace.fullFlops }
            let mean = Double(s.tokens.map(\.trace.exitLayer).reduce(0, +)) / Double(s.tokens.count)
            line("tokens \(s.tokens.count)   mean exit \(String(format: "%.1f", mean))/\(L)")
            let saved = full > 0 ? (1 - flops / full) * 100 : 0
            line("FLOPs \(compact(flops)) of \(compact(full)) full")
            line(String(format: "saved %.0f%%", saved))
            line("first token \(milliseconds(s.firstTokenLatency))")
            let decode = s.tokens.dropFirst().map(\.seconds)
            if !decode.isEmpty {
                let perToken = decode.reduce(0, +) / Double(decode.count)
                let rate = options.stableTimings ? "‹tok/s›" : String(format: "%.0f tok/s", 1 / max(perToken, 1e-9))
                line("\(options.stableTimings ? "‹ms›" : String(format: perToken < 0.001 ? "%.2f ms" : "%.1f ms", perToken * 1000))/token · \(rate)")
            }
            if let r = s.result { line("prefix reuse \(r.reusedPromptTokens)/\(r.promptTokenCount) tokens") }
            var layers = StyledLine()
            layers.append("layers ", .plain)
            for (i, t) in s.tokens.prefix(max(0, (w - 7) / 2)).enumerated() {
                // One character per token: layers 1–9 as digits, 10 and up as a, b, c… (base 36).
                layers.append(String(t.trace.exitLayer, radix: 36), ghostStyle(layer: t.trace.exitLayer).with(dim: false))
                if i < s.tokens.count - 1 { layers.append(" ", .plain) }
            }
            styled(layers)
        } else {
            line(suggestion == nil ? "none" : suggestionStatus, theme.muted)
        }

        line("Session (\(stats.completions) completions)", theme.heading)
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
        // The histogram needs its heading, one bar and the legend row; skip it on short panels.
        guard row + 3 <= rect.row + rect.height else {
            if row < rect.row + rect.height { drawLegend(on: screen, row: rect.row + rect.height - 1, in: rect) }
            return
        }
        line("Exit layers (all tokens)", theme.heading)
        let total = stats.exitHistogram.reduce(0, +)
        let top = stats.exitHistogram.max() ?? 0
        let barWidth = max(1, w - 10)
        // With many layers, group them so the histogram fits the panel.
        let rowsLeft = rect.row + rect.height - row - 2
        let group = max(1, Int((Double(L) / Double(max(1, rowsLeft))).rounded(.up)))
        var start = 1
        while start <= L && row < rect.row + rect.height - 2 {
            let end = min(L, start + group - 1)
            let count = stats.exitHistogram[(start - 1)...(end - 1)].reduce(0, +)
            var bar = StyledLine()
            bar.append(String(format: "%2d ", end), .plain)
            bar.append(histogramBar(count, of: max(top * group, 1), width: barWidth), ghostStyle(layer: end).with(dim: false))
            let share = total > 0 ? Int((Double(count) / Double(total) * 100).rounded()) : 0
            bar.append(" \(share)%", theme.muted)
            styled(bar)
            start = end + 1
        }
        // The legend takes the last row, and only when nothing was drawn there.
        if row < rect.row + rect.height { drawLegend(on: screen, row: rect.row + rect.height - 1, in: rect) }
    }

    /// The colour ramp's legend, shallow to deep.
    private func drawLegend(on screen: Screen, row: Int, in rect: Rect) {
        let theme = options.theme, L = model.layerCount
        var legend = StyledLine()
        legend.append("shallow ", theme.muted)
        for step in 0..<theme.rampSteps {
            let layer = L <= 1 ? 1 : 1 + Int((Double(step) + 0.5) / Double(theme.rampSteps) * Double(L - 1))
            legend.append("█", ghostStyle(layer: layer).with(dim: false))
        }
        legend.append(" deep", theme.muted)
        legend.draw(on: screen, row: row, column: rect.column + 2, skip: 0, width: rect.width - 2)
    }

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
