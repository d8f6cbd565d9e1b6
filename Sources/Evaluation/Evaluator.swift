import Completion
import Dispatch
import EarlyExit
import Foundation
import Model
import Tokenizer

/// `exitlens eval`: quality, cost and speed of decoding settings on completion examples,
/// each setting run right after `full` on the same example (A B A B …) so speed is a
/// same-run ratio.
public struct Evaluator: Sendable {
    /// Aggregates for one setting.
    public struct Row: Sendable, Codable {
        public var setting: String
        public var examples: Int
        public var rougeL: Double
        public var exactMatch: Double
        public var editSimilarity: Double
        /// Non-empty completions the reference starts with.
        public var acceptance: Double
        public var stopped: Int
        public var empty: Int
        public var meanExitLayer: Double
        public var layersSkipped: Double
        public var flopsPerToken: Double
        public var flopsRatio: Double
        /// Median decode wall time per completion (prefill excluded: identical for every setting).
        public var msPerCompletion: Double
        /// Median over examples of full's decode time ÷ this setting's.
        public var speedup: Double
        /// Share of completions identical to full's.
        public var identicalToFull: Double
    }

    /// The paper's "continuations after a wrong token" split, at full depth.
    public struct WrongFirstToken: Sendable, Codable {
        public var rightFirst: Int, wrongFirst: Int
        public var acceptanceRightFirst: Double, acceptanceWrongFirst: Double
    }

    public struct Report: Sendable, Codable {
        public var machine: MachineInfo
        public var model: String
        public var layers: Int
        public var examples: Int
        public var seed: UInt64
        public var lineMode: Bool
        public var rows: [Row]
        public var wrongFirstToken: WrongFirstToken
    }

    public let model: LanguageModel
    public var maxNewTokens = 10

    public init(model: LanguageModel, maxNewTokens: Int = 10) {
        self.model = model
        self.maxNewTokens = maxNewTokens
    }

    public func run(examples: [CompletionExample], settings: [PolicyConfiguration], seed: UInt64, lineMode: Bool,
                    progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> Report {
        let completer = Completer(model: model)
        let tokenizer = model.tokenizer
        let L = model.network.shape.layerCount
        let all = [PolicyConfiguration.full] + settings.filter { $0.kind != .full }
        let requests = try CompletionRequest.comparing(all, maxTokens: maxNewTokens, layerCount: L)
        struct Acc { var rouge = 0.0, em = 0, edit = 0.0, accepted = 0, stopped = 0, empty = 0, exit = 0.0, flops = 0.0, full = 0.0
                     var tokens = 0, seconds: [Double] = [], ratios: [Double] = [], identical = 0, n = 0 }
        var acc = [Acc](repeating: Acc(), count: all.count)
        var wrong = WrongFirstToken(rightFirst: 0, wrongFirst: 0, acceptanceRightFirst: 0, acceptanceWrongFirst: 0)
        var acceptedRight = 0, acceptedWrong = 0
        for (i, example) in examples.enumerated() {
            if shouldStop() { break }
            if i == 0 { progress(0, examples.count) }
            let reference = tokenizer.decodeText(example.target)
            var fullIDs: [Int] = [], fullSeconds = 0.0
            for s in all.indices {
                var request = requests[s]
                request.promptIDs = example.prompt
                let r = try completer.complete(request)
                let ids = r.tokens.map(\.id)
                // Decode time only: the prompt's prefill is the same for every setting (and the
                // prefix cache would otherwise hand it to whichever setting runs second).
                let seconds = r.totalSeconds - r.prefillSeconds
                if s == 0 {
                    fullIDs = ids; fullSeconds = seconds
                    let ok = Metrics.accepted(completion: r.text, reference: reference)
                    if let first = ids.first, first == example.target.first {
                        wrong.rightFirst += 1; if ok { acceptedRight += 1 }
                    } else {
                        wrong.wrongFirst += 1; if ok { acceptedWrong += 1 }
                    }
                }
                var a = acc[s]
                a.n += 1
                a.rouge += Metrics.rougeL(candidate: ids, reference: example.target)
                if ids == example.target { a.em += 1 }
                a.edit += Metrics.editSimilarity(r.text, reference)
                if Metrics.accepted(completion: r.text, reference: reference) { a.accepted += 1 }
                if r.finishReason == .stopped { a.stopped += 1 }
                if ids.isEmpty { a.empty += 1 }
                a.exit += r.reportedExitLayer(layers: L)
                a.flops += r.flops
                a.full += r.fullFlops
                a.tokens += ids.count
                a.seconds.append(seconds)
                a.ratios.append(fullSeconds / max(seconds, 1e-9))
                if ids == fullIDs { a.identical += 1 }
                acc[s] = a
            }
            // Counted when done, so the bar ends at its total (6/6), not at the last one begun.
            progress(i + 1, examples.count)
        }
        wrong.acceptanceRightFirst = wrong.rightFirst == 0 ? 0 : Double(acceptedRight) / Double(wrong.rightFirst)
        wrong.acceptanceWrongFirst = wrong.wrongFirst == 0 ? 0 : Double(acceptedWrong) / Double(wrong.wrongFirst)
        let rows = all.enumerated().map { s, spec -> Row in
            let a = acc[s], n = Double(max(1, a.n))
            let meanExit = a.exit / n
            return Row(setting: spec.description, examples: a.n, rougeL: a.rouge / n, exactMatch: Double(a.em) / n,
                       editSimilarity: a.edit / n, acceptance: Double(a.accepted) / n, stopped: a.stopped, empty: a.empty,
                       meanExitLayer: meanExit, layersSkipped: Double(L) - meanExit,
                       flopsPerToken: a.tokens == 0 ? 0 : a.flops / Double(a.tokens), flopsRatio: a.full > 0 ? a.flops / a.full : 1,
                       msPerCompletion: quantile(a.seconds, 0.5) * 1e3, speedup: quantile(a.ratios, 0.5),
                       identicalToFull: Double(a.identical) / n)
        }
        return Report(machine: .current(), model: model.name, layers: L, examples: acc[0].n, seed: seed, lineMode: lineMode,
                      rows: rows, wrongFirstToken: wrong)
    }

    /// The default sweep: τ_exit × τ_stop for sec (with the paper's four human-study settings), λ for
    /// the CALM baselines, k for fixed, and speculative drafting from a quarter and half depth.
    public static func sweep(layerCount L: Int) throws -> [PolicyConfiguration] {
        var specs = ["sec:0.95:0.9", "sec:0.9:0.7", "sec:0.8:0.6", "sec:0.6:0"]
        for tauExit in ["0.99", "0.9", "0.7", "0.5"] { for tauStop in ["2", "0.8"] { specs.append("sec:\(tauExit):\(tauStop)") } }
        specs += ["softmax:0.9", "softmax:0.5", "saturation:0.99", "saturation:0.95"]
        specs += [L / 4, L / 2, 3 * L / 4].filter { $0 >= 1 }.map { "fixed:\($0)" }
        specs += ["speculative:\(max(1, L / 4)):4", "speculative:\(max(1, L / 2)):4"]
        var seen = Set<String>()
        return try specs.filter { seen.insert($0).inserted }.map { try PolicyConfiguration(parsing: $0) }
    }
}
