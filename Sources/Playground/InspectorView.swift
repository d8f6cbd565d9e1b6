import EarlyExit
import Foundation

/// The inspector (F4 / Alt-i): for one token of the suggestion, every layer it went through —
/// the head's top-3 tokens, the controller's p(stop/exit/continue) against the thresholds —
/// and the token's FLOPs by component.
extension PlaygroundSession {
    /// Rows the inspector wants: a header, a column line, one row per layer, FLOPs.
    var inspectorRows: Int { model.layerCount + 4 }

    func renderInspector(on screen: Screen, in rect: Rect) {
        let theme = options.theme
        let w = rect.width
        screen.put(String(repeating: "─", count: w), row: rect.row, column: rect.column, style: theme.border)
        screen.put(" Inspector (F4 closes, Alt-n/Alt-p select token, F9 every layer × token) ", row: rect.row, column: rect.column + 2, style: theme.heading)
        var row = rect.row + 1
        func line(_ text: String, _ style: CellStyle = .plain) {
            guard row < rect.row + rect.height else { return }
            screen.put(String(text.prefix(w - 1)), row: row, column: rect.column + 1, style: style)
            row += 1
        }
        guard let s = suggestion, !s.tokens.isEmpty else {
            line("no suggestion token to inspect yet (top-3 per layer is recorded while the inspector is open)", theme.muted)
            return
        }
        let index = min(inspectedToken, s.tokens.count - 1)
        let token = s.tokens[index]
        let trace = token.trace
        let thresholds: String
        switch knobs.kind {
        case .sec: thresholds = String(format: "thresholds τexit=%.2f τstop=%.2f", knobs.configuration.tauExit, knobs.configuration.tauStop)
        case .softmax: thresholds = String(format: "threshold λ=%.2f (margin)", knobs.configuration.softmaxLambda)
        case .saturation: thresholds = String(format: "threshold λ=%.3f (cosine)", knobs.configuration.saturationLambda)
        default: thresholds = ""
        }
        var header = StyledLine()
        header.append("token \(index + 1)/\(s.tokens.count) ", theme.heading)
        var selected = index == 0 ? theme.prefillToken : ghostStyle(layer: trace.exitLayer)
        selected.reverse = true
        header.append(quoted(token.text), selected)
        header.append("  exit layer \(trace.exitLayer)/\(model.layerCount)", .plain)
        if let d = trace.draft { header.append("  draft \(d.rawValue)", .plain) }
        if !thresholds.isEmpty && index > 0 { header.append("  " + thresholds, theme.muted) }
        if index == 0 { header.append("  (P: prompt pass, full depth)", theme.muted) }
        if row < rect.row + rect.height { header.draw(on: screen, row: row, column: rect.column + 1, skip: 0, width: w - 1); row += 1 }

        line(" L  top-1           top-2           top-3           stop  exit  cont  signal", theme.muted)
        let byLayer = Dictionary(trace.layers.map { ($0.layer, $0) }, uniquingKeysWith: { a, _ in a })
        let lastRow = rect.row + rect.height - 1 // the FLOPs line
        if byLayer.isEmpty {
            line("per-layer top-3 was not recorded: Ctrl-Space asks again with the inspector open", theme.muted)
        } else {
            let room = max(1, lastRow - row)
            let L = max(1, model.layerCount)
            var first = 1
            // Not all fit: the layers up to the exit layer and one past it.
            if L > room { first = max(1, min(L - room + 1, trace.exitLayer - room + 2)) }
            for layer in first...min(L, first + room - 1) {
                var l = StyledLine()
                let marker = layer == trace.exitLayer ? "▶" : " "
                l.append(String(format: "%2d%@", layer, marker), layer <= trace.exitLayer ? ghostStyle(layer: layer).with(dim: false) : theme.muted)
                guard let signals = byLayer[layer] else {
                    l.append(layer <= trace.exitLayer ? " (not recorded)" : " · not visited", theme.muted)
                    l.draw(on: screen, row: row, column: rect.column + 1, skip: 0, width: w - 1)
                    row += 1
                    continue
                }
                let tops = signals.topTokens ?? []
                for i in 0..<3 {
                    if i < tops.count {
                        l.append(" " + fit(quoted(model.tokenText(tops[i].id)), 10) + String(format: " %.2f", tops[i].probability), .plain)
                    } else {
                        l.append(" " + fit("", 15), .plain)
                    }
                }
                if let c = signals.controller {
                    let exitHit = knobs.kind == .sec && c.exit >= c.stop && c.exit >= c.continue && c.exit > knobs.configuration.tauExit
                    let stopHit = knobs.kind == .sec && c.stop >= c.exit && c.stop >= c.continue && c.stop > knobs.configuration.tauStop
                    l.append(String(format: "  %.2f", c.stop), stopHit ? theme.warning : .plain)
                    l.append(String(format: "  %.2f", c.exit), exitHit ? theme.warning : .plain)
                    l.append(String(format: "  %.2f", c.continue), .plain)
                } else {
                    l.append("     –     –     –", theme.muted)
                }
                if let m = signals.margin { l.append(String(format: "  m=%.2f", m), .plain) }
                if let cos = signals.cosine { l.append(String(format: "  cos=%.3f", cos), .plain) }
                l.draw(on: screen, row: row, column: rect.column + 1, skip: 0, width: w - 1)
                row += 1
            }
        }
        let f = trace.flops
        let parts: [(String, Double)] = [("emb", f.embedding), ("qkv", f.qkv), ("attn", f.attention), ("proj", f.projection),
                                         ("mlp", f.mlp), ("norm", f.norms), ("head", f.head), ("dec", f.decisionHeads),
                                         ("ctrl", f.controller), ("sig", f.signals), ("copy", f.stateCopy)]

        row = rect.row + rect.height - 1
        let ratio = trace.fullFlops > 0 ? String(format: "%.2f× full", f.total / trace.fullFlops) : "–"
        // The breakdown keeps as many components as fit; the line is never cut mid-word.
        var text = "FLOPs \(compact(f.total)) = \(ratio) (\(compact(trace.fullFlops)) at full depth):"
        for (name, value) in parts where value > 0 {
            let item = " \(name) \(compact(value))"
            guard text.count + item.count <= w - 3 else { text += " …"; break }
            text += item
        }
        line(text)
    }

    /// A token as a short literal: newlines and tabs escaped, quoted.
    func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t") + "\""
    }
}
