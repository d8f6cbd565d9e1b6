import Foundation

/// Renders a `DecodeBenchmark.Report` as a plain-text table.
public enum BenchReportFormatter {
    public static func text(_ r: DecodeBenchmark.Report) -> String {
        var lines: [String] = []
        lines.append("model \(r.model): \(r.layers) layers, d=\(r.width), \(r.heads) heads, vocab \(r.vocabulary), weights \(r.precision)")
        lines.append("machine: \(r.machine.cpu), \(r.machine.cores) cores, \(r.machine.date)")
        lines.append(String(format: "weights read per token: %.1f MB", Double(r.weightBytesPerToken) / 1e6))
        for (t, gbps) in r.bandwidthGBps.sorted(by: { $0.key < $1.key }) {
            lines.append(String(format: "memory bandwidth, %@ thread(s): %.1f GB/s", t, gbps))
        }
        for p in r.prefill {
            lines.append("prefill \(counted(p.tokens, "token")), \(counted(p.threads, "thread")): " + String(format: "%.0f tokens/s", p.tokensPerSecond))
        }
        lines.append("")
        lines.append("threads  context  ms/token (median)  ms/token (p95)  bound (ms)")
        for d in r.decode {
            lines.append(String(format: "%7d  %7d  %17.3f  %14.3f  %10.3f", d.threads, d.context, d.msPerTokenMedian, d.msPerTokenP95, d.boundMs))
        }
        if !r.passes.isEmpty {
            lines.append("")
            lines.append("one full-depth pass over r rows (all logits; a verification of r − 1 drafts)")
            lines.append("threads  context  rows  ms (median)  single-token steps")
            for p in r.passes {
                lines.append(String(format: "%7d  %7d  %4d  %11.3f  %18.2f", p.threads, p.context, p.rows, p.msMedian, p.steps))
            }
        }
        lines.append(String(format: "peak RSS: %.1f MB", Double(r.peakRSSBytes) / 1e6))
        return lines.joined(separator: "\n")
    }
}
