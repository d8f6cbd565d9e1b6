import Foundation

/// Terminal and SVG renderings of study and evaluation results.
public enum Charts {
    private static let blocks: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]

    /// A horizontal Unicode bar of `fraction` (0…1) over `width` cells, with eighths.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
        return String(repeating: "█", count: eighths / 8) + (eighths % 8 > 0 ? String(blocks[eighths % 8]) : "")
    }

    /// The first-correct-layer distribution as labelled bars, with the paper's headline beside it.
    public static func study(_ r: Study.Result) -> String {
        var lines = ["first-correct layer (teacher-forced, \(counted(r.tokens, "token")), stride \(r.stride), \(r.headKind) heads)", ""]
        let shares = r.firstCorrect.map { r.tokens == 0 ? 0 : Double($0) / Double(r.tokens) }
        let top = max(shares.max() ?? 1, 1e-9)
        for l in 1...r.layers {
            lines.append(String(format: "layer %2d  %5.1f%%  ", l, 100 * shares[l]) + bar(shares[l] / top, width: 40))
        }
        lines.append(String(format: "never     %5.1f%%  ", 100 * shares[0]) + bar(shares[0] / top, width: 40))
        lines.append("")
        lines.append(String(format: "correct at layer 1: %.1f%% (paper, GPT-2: 54.4%%); never correct: %.1f%% (paper: 14.5%%)",
                            100 * r.firstLayerShare, 100 * r.neverShare))
        lines.append("")
        lines.append("layer  top-1 acc  loss (nats)")
        for l in 1...r.layers {
            lines.append(r.hasHead(l) ? String(format: "%5d  %8.1f%%  %11.3f", l, 100 * r.accuracy[l - 1], r.loss[l - 1])
                                      : String(format: "%5d", l) + "    no head            –")
        }
        return lines.joined(separator: "\n")
    }

    public static func studyMarkdown(_ r: Study.Result) -> String {
        var lines = ["| layer | first correct here | top-1 accuracy | loss (nats) |", "|---:|---:|---:|---:|"]
        for l in 1...r.layers {
            guard r.hasHead(l) else { lines.append("| \(l) | – | no head | – |"); continue }
            lines.append(String(format: "| %d | %.1f%% | %.1f%% | %.3f |", l, 100 * Double(r.firstCorrect[l]) / Double(max(1, r.tokens)),
                                100 * r.accuracy[l - 1], r.loss[l - 1]))
        }
        lines.append(String(format: "| never | %.1f%% | | |", 100 * r.neverShare))
        return lines.joined(separator: "\n")
    }

    /// An evaluation table (rows = settings).
    public static func evaluation(_ r: Evaluator.Report, markdown: Bool = false) -> String {
        let header = ["setting", "ROUGE-L", "EM", "edit sim", "accept", "stops", "empty", "exit layer", "skipped", "FLOPs/full", "ms/compl", "speedup", "= full"]
        var rows: [[String]] = []
        for row in r.rows {
            rows.append([row.setting, String(format: "%.3f", row.rougeL), String(format: "%.1f%%", 100 * row.exactMatch),
                         String(format: "%.3f", row.editSimilarity), String(format: "%.1f%%", 100 * row.acceptance),
                         "\(row.stopped)", "\(row.empty)", String(format: "%.2f", row.meanExitLayer), String(format: "%.2f", row.layersSkipped),
                         String(format: "%.3f", row.flopsRatio), String(format: "%.1f", row.msPerCompletion),
                         String(format: "%.2f×", row.speedup), String(format: "%.0f%%", 100 * row.identicalToFull)])
        }
        if markdown {
            var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---:" }.joined(separator: "|") + "|"]
            lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
            let w = r.wrongFirstToken
            lines.append("")
            lines.append(String(format: "Full depth: acceptance %.1f%% after a right first token (", 100 * w.acceptanceRightFirst)
                         + counted(w.rightFirst, "example")
                         + String(format: "), %.1f%% after a wrong one (%d; paper: 4.2%%).", 100 * w.acceptanceWrongFirst, w.wrongFirst))
            return lines.joined(separator: "\n")
        }
        let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                                    : String(repeating: " ", count: widths[i] - c.count) + c }.joined(separator: "  ")
        }
        var out = ["\(r.model): \(counted(r.examples, "example")), seed \(r.seed)\(r.lineMode ? ", line mode" : ""), \(r.machine.cpu), \(r.machine.date)", "",
                   line(header)]
        out += rows.map(line)
        let w = r.wrongFirstToken
        out.append("")
        out.append(String(format: "full depth, acceptance after a right first token: %.1f%% (%d); after a wrong first token: %.1f%% (%d) (paper: 4.2%%)",
                          100 * w.acceptanceRightFirst, w.rightFirst, 100 * w.acceptanceWrongFirst, w.wrongFirst))
        return out.joined(separator: "\n")
    }

    /// Settings on the speed/quality plane: x = speedup, y = ROUGE-L; Pareto-optimal ones marked ●.
    public static func pareto(_ r: Evaluator.Report, width: Int = 60, height: Int = 16) -> String {
        let points = r.rows
        guard !points.isEmpty else { return "" }
        let front = paretoFront(points)
        let xs = points.map(\.speedup), ys = points.map(\.rougeL)
        let x0 = min(xs.min()!, 1) * 0.95, x1 = max(xs.max()!, 1) * 1.05
        let y0 = ys.min()! - 0.02, y1 = ys.max()! + 0.02
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        var legend: [String] = []
        for (i, p) in points.enumerated() {
            let cx = Int((p.speedup - x0) / (x1 - x0) * Double(width - 1))
            let cy = height - 1 - Int((p.rougeL - y0) / (y1 - y0) * Double(height - 1))
            let mark: Character = front.contains(p.setting) ? "●" : "○"
            grid[max(0, min(height - 1, cy))][max(0, min(width - 1, cx))] = mark
            legend.append(String(format: "%@ %2d %@  (%.2f×, ROUGE-L %.3f)", String(mark), i, p.setting, p.speedup, p.rougeL))
        }
        var lines = [String(format: "ROUGE-L %.3f", y1)]
        lines += grid.map { "│" + String($0) }
        lines.append("└" + String(repeating: "─", count: width))
        lines.append(String(format: " speedup over full: %.2f× … %.2f×   (● Pareto-optimal)", x0, x1))
        return (lines + [""] + legend).joined(separator: "\n")
    }

    /// Names of settings no other setting beats on both speedup and ROUGE-L.
    public static func paretoFront(_ rows: [Evaluator.Row]) -> Set<String> {
        Set(rows.filter { a in !rows.contains { b in
            b.speedup >= a.speedup && b.rougeL >= a.rougeL && (b.speedup > a.speedup || b.rougeL > a.rougeL) } }.map(\.setting))
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The first-correct-layer distribution as a standalone SVG bar chart.
    public static func studySVG(_ r: Study.Result, title: String) -> String {
        let labels = (1...r.layers).map(String.init) + ["never"]
        let values = (1...r.layers).map { Double(r.firstCorrect[$0]) } + [Double(r.firstCorrect[0])]
        let total = max(1, Double(r.tokens))
        let W = 720.0, H = 400.0, left = 60.0, bottom = 50.0, top = 50.0
        let barWidth = (W - left - 20) / Double(labels.count)
        let peak = max(values.max() ?? 1, 1) / total
        var svg = [#"<svg xmlns="http://www.w3.org/2000/svg" width="720" height="400" viewBox="0 0 720 400" font-family="sans-serif">"#,
                   #"<rect width="720" height="400" fill="white"/>"#,
                   "<text x=\"360\" y=\"28\" font-size=\"18\" text-anchor=\"middle\">\(escape(title))</text>"]
        for (i, label) in labels.enumerated() {
            let share = values[i] / total
            let h = (H - top - bottom) * share / peak
            let x = left + Double(i) * barWidth + 4
            let color = i == labels.count - 1 ? "#999999" : "hsl(\(Int(200 - 180 * Double(i) / Double(max(1, r.layers - 1)))),70%,45%)"
            svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>", x, H - bottom - h, barWidth - 8, h, color))
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.1f%%</text>", x + (barWidth - 8) / 2, H - bottom - h - 4, 100 * share))
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%@</text>", x + (barWidth - 8) / 2, H - bottom + 18, label))
        }
        svg.append("<text x=\"360\" y=\"392\" font-size=\"13\" text-anchor=\"middle\">first layer whose head predicts the next token (\(counted(r.tokens, "token")))</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// Quality (ROUGE-L) against measured speedup, Pareto front joined by a line.
    public static func paretoSVG(_ r: Evaluator.Report, title: String) -> String {
        let W = 720.0, H = 480.0, left = 70.0, right = 20.0, top = 50.0, bottom = 60.0
        let xs = r.rows.map(\.speedup), ys = r.rows.map(\.rougeL)
        let x0 = min(xs.min() ?? 1, 1) * 0.95, x1 = max(xs.max() ?? 1, 1) * 1.05
        let y0 = (ys.min() ?? 0) - 0.02, y1 = (ys.max() ?? 1) + 0.02
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (W - left - right) }
        func py(_ y: Double) -> Double { H - bottom - (y - y0) / (y1 - y0) * (H - top - bottom) }
        let front = paretoFront(r.rows)
        var svg = [#"<svg xmlns="http://www.w3.org/2000/svg" width="720" height="480" viewBox="0 0 720 480" font-family="sans-serif">"#,
                   #"<rect width="720" height="480" fill="white"/>"#,
                   "<text x=\"360\" y=\"28\" font-size=\"18\" text-anchor=\"middle\">\(escape(title))</text>",
                   String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>", left, H - bottom, W - right, H - bottom),
                   String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>", left, top, left, H - bottom),
                   "<text x=\"395\" y=\"470\" font-size=\"13\" text-anchor=\"middle\">speedup over full (wall clock, same run)</text>",
                   "<text x=\"18\" y=\"240\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 18 240)\">ROUGE-L</text>"]
        for t in 0...4 {
            let x = x0 + (x1 - x0) * Double(t) / 4, y = y0 + (y1 - y0) * Double(t) / 4
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.2f×</text>", px(x), H - bottom + 16, x))
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.3f</text>", left - 6, py(y) + 4, y))
        }
        let frontRows = r.rows.filter { front.contains($0.setting) }.sorted { $0.speedup < $1.speedup }
        if frontRows.count > 1 {
            let pts = frontRows.map { String(format: "%.1f,%.1f", px($0.speedup), py($0.rougeL)) }.joined(separator: " ")
            svg.append("<polyline points=\"\(pts)\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\"/>")
        }
        for row in r.rows {
            let onFront = front.contains(row.setting)
            svg.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/>", px(row.speedup), py(row.rougeL), onFront ? "#c0392b" : "#7f8c8d"))
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\">%@</text>", px(row.speedup) + 6, py(row.rougeL) - 4, escape(row.setting)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}
