import Completion
import EarlyExit
import Evaluation
import Foundation
import Tokenizer

/// The per-token table `exitlens complete --trace` prints.
enum TraceTable {
    static func render(_ r: CompletionResult, tokenizer: BPETokenizer, layerCount L: Int) -> String {
        var lines = ["", "policy \(r.policy) — \(counted(r.tokens.count, "token")), mean exit layer \(String(format: "%.2f", r.meanExitLayer)) of \(L)"]
        lines.append(String(format: "FLOPs %.3f M of %.3f M at full depth (%.1f%% saved)", r.flops / 1e6, r.fullFlops / 1e6,
                            r.fullFlops > 0 ? 100 * (1 - r.flops / r.fullFlops) : 0))
        if let a = r.draftAcceptance, let m = r.meanAcceptedLength {
            lines.append(String(format: "drafts accepted %.1f%%, mean accepted length %.2f", 100 * a, m))
        }
        lines.append("")
        lines.append("  #  id     token             exit  signal at exit layer                 MFLOPs  full   ms")
        for (i, t) in r.tokens.enumerated() {
            let text = tokenizer.decodeText([t.id]).debugDescription
            let layer = t.trace.draft.map { "\(t.trace.exitLayer)\($0 == .accepted ? "d" : "v")" } ?? "\(t.trace.exitLayer)"
            lines.append(String(format: "%3d  %-5d  %@  %5@  %@  %6.3f  %5.3f  %5.2f", i, t.id, pad(text, 16), layer,
                                pad(signal(t.trace.layers.last), 35), t.trace.flops.total / 1e6, t.trace.fullFlops / 1e6, t.seconds * 1e3))
        }
        if let s = r.stop {
            lines.append(String(format: "  ⊘  stopped at layer %d, p(stop)=%.2f", s.exitLayer, s.stopProbability ?? .nan))
        }
        return lines.joined(separator: "\n")
    }

    static func signal(_ s: LayerSignals?) -> String {
        guard let s else { return "—" }
        var parts: [String] = []
        if let c = s.controller { parts.append(String(format: "stop %.2f exit %.2f cont %.2f", c.stop, c.exit, c.continue)) }
        if let m = s.margin { parts.append(String(format: "margin %.3f", m)) }
        if let c = s.cosine { parts.append(String(format: "cos %.4f", c)) }
        return parts.isEmpty ? "—" : parts.joined(separator: " ")
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let clipped = s.count > n ? String(s.prefix(n - 1)) + "…" : s
        return clipped.padding(toLength: n, withPad: " ", startingAt: 0)
    }
}
