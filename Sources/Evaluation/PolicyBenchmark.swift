import Completion
import Dispatch
import EarlyExit
import Foundation
import Model

/// Wall-clock speed of decoding settings against `full`, measured in the same run,
/// interleaved per prompt (full, A, B, …, full, A, B, …), reported as the median
/// per-prompt ratio — never against a number from another run.
public struct PolicyBenchmark: Sendable {
    /// One setting's results.
    public struct Row: Sendable, Codable {
        public var policy: String
        public var msPerToken: Double
        /// Median over prompts of (full ms/token ÷ this ms/token).
        public var speedup: Double
        public var meanExitLayer: Double
        public var flopsRatio: Double
        /// Share of prompts whose completion equals full greedy's token for token.
        public var identicalToFull: Double
        public var stops: Int
        public var draftAcceptance: Double?
        public var meanAcceptedLength: Double?
    }

    public struct Report: Sendable, Codable {
        public var machine: MachineInfo
        public var model: String
        public var prompts: Int
        public var maxTokens: Int
        public var threads: Int
        public var rows: [Row]
    }

    public var maxTokens = 16
    public var repeats = 1
    public init(maxTokens: Int = 16, repeats: Int = 1) { self.maxTokens = maxTokens; self.repeats = repeats }

    /// `limit` prompts cut from `files` at evenly spaced points (the text before each cut), spread
    /// over as many files as possible (none when no file has more than 20 characters).
    public static func prompts(files: [URL], limit: Int = 64) -> [String] {
        let texts = files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.filter { $0.count > 20 }
        guard !texts.isEmpty else { return [] }
        let step = max(1, texts.count / max(1, limit))
        let chosen = stride(from: 0, to: texts.count, by: step).map { texts[$0] }
        var prompts: [String] = []
        for (j, text) in chosen.enumerated() {
            // The remainder goes to the first files, so 8 prompts from 3 files are 3 + 3 + 2, not 6.
            let perFile = limit / chosen.count + (j < limit % chosen.count ? 1 : 0)
            guard perFile > 0 else { continue }
            let chars = Array(text)
            for i in 1...perFile where prompts.count < limit {
                let cut = chars.count * i / (perFile + 1)
                prompts.append(String(chars[max(0, cut - 1200)..<cut]))
            }
        }
        return prompts
    }

    public func run(model: LanguageModel, specs: [PolicyConfiguration], prompts: [String], progress: (String) -> Void = { _ in }) throws -> Report {
        let completer = Completer(model: model)
        let layers = model.network.shape.layerCount
        let all = [PolicyConfiguration.full] + specs
        let requests = try CompletionRequest.comparing(all, maxTokens: maxTokens, layerCount: layers)
        var perToken = [[Double]](repeating: [], count: all.count)
        var ratios = [[Double]](repeating: [], count: all.count)
        var exitLayers = [[Double]](repeating: [], count: all.count)
        var flops = [Double](repeating: 0, count: all.count), fullFlops = [Double](repeating: 0, count: all.count)
        var identical = [Int](repeating: 0, count: all.count), stops = [Int](repeating: 0, count: all.count)
        var acceptance = [[Double]](repeating: [], count: all.count), acceptedLength = [[Double]](repeating: [], count: all.count)
        for (p, prompt) in prompts.enumerated() {
            progress("prompt \(p + 1)/\(prompts.count)")
            for _ in 0..<repeats {
                var fullIDs: [Int] = [], fullMs = 0.0
                for s in all.indices {
                    var request = requests[s]
                    request.prompt = prompt
                    let r = try completer.complete(request)
                    // Decode time only: the prompt's prefill is the same for every setting.
                    let decodeSeconds = r.totalSeconds - r.prefillSeconds
                    let tokens = max(1, r.tokens.count)
                    let ms = decodeSeconds / Double(tokens) * 1e3
                    perToken[s].append(ms)
                    if s == 0 { fullIDs = r.tokens.map(\.id); fullMs = ms }
                    ratios[s].append(fullMs / ms)
                    exitLayers[s].append(r.reportedExitLayer(layers: layers))
                    flops[s] += r.flops
                    fullFlops[s] += r.fullFlops
                    if r.tokens.map(\.id) == fullIDs { identical[s] += 1 }
                    if r.finishReason == .stopped { stops[s] += 1 }
                    if let a = r.draftAcceptance { acceptance[s].append(a) }
                    if let m = r.meanAcceptedLength { acceptedLength[s].append(m) }
                }
            }
        }
        let n = Double(prompts.count * repeats)
        let rows = all.enumerated().map { s, spec in
            Row(policy: spec.description, msPerToken: quantile(perToken[s], 0.5), speedup: quantile(ratios[s], 0.5),
                meanExitLayer: exitLayers[s].reduce(0, +) / n, flopsRatio: fullFlops[s] > 0 ? flops[s] / fullFlops[s] : 1,
                identicalToFull: Double(identical[s]) / n, stops: stops[s],
                draftAcceptance: acceptance[s].isEmpty ? nil : acceptance[s].reduce(0, +) / Double(acceptance[s].count),
                meanAcceptedLength: acceptedLength[s].isEmpty ? nil : acceptedLength[s].reduce(0, +) / Double(acceptedLength[s].count))
        }
        return Report(machine: .current(), model: model.name, prompts: prompts.count, maxTokens: maxTokens,
                      threads: model.network.pool.threadCount, rows: rows)
    }

    public static func text(_ r: Report) -> String {
        var lines = ["model \(r.model), \(counted(r.prompts, "prompt")) × ≤\(counted(r.maxTokens, "token")), \(counted(r.threads, "thread")), \(r.machine.cpu), \(r.machine.date)", ""]
        lines.append("policy                      ms/token  speedup  exit layer  FLOPs/full  = full  stops  drafts acc.")
        for row in r.rows {
            let acc = row.draftAcceptance.map { String(format: "%.0f%% (%.2f)", 100 * $0, row.meanAcceptedLength ?? 0) } ?? "—"
            lines.append(String(format: "%@  %8.3f  %6.2f×  %10.2f  %10.3f  %5.0f%%  %5d  %@",
                                row.policy.padding(toLength: 26, withPad: " ", startingAt: 0), row.msPerToken, row.speedup,
                                row.meanExitLayer, row.flopsRatio, 100 * row.identicalToFull, row.stops, acc))
        }
        return lines.joined(separator: "\n")
    }
}
