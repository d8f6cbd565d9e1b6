import Dispatch
import EarlyExit
import Foundation
import Kernels
import Model

/// Chooses the layers a skip-layer draft leaves out (Draft & Verify's and SWIFT's question) by
/// greedy removal: starting from the whole network, each step skips the one more layer whose
/// removal keeps the draft's argmax equal to full depth's most often, on a few sampled positions.
///
/// Agreement is measured as a round's **first** draft meets it: the context's K/V are full-depth
/// (a prefill of the window), the draft runs the token at position t through the kept blocks only,
/// and its argmax is compared with the full pass's argmax at t. Later drafts of a round also read
/// earlier drafts' K/V, so real acceptance is at most this, a little lower with longer rounds.
///
/// The set size is then chosen by the speed it should give: with agreement a, a round of k drafts
/// emits (1 − a^(k+1)) / (1 − a) tokens on average, and costs k draft steps plus one verification
/// of k+1 rows; full decoding costs one full step per token. The full step and the verification are
/// measured (medians, back to back); a draft step is taken as the full step scaled by its FLOPs
/// (`CostModel`), so the choice does not hang on how busy the machine was during each step.
public struct SkipLayerSearch {
    public struct Step: Sendable {
        /// The layers skipped after this step (1-based), and the one this step added.
        public var skipped: LayerSet
        public var added: Int
        /// Share of sampled positions whose draft argmax equals full depth's.
        public var agreement: Double
        /// Seconds of one draft step at this size: the measured full step scaled by FLOPs.
        public var draftSeconds: Double
        /// Estimated decode speed relative to full greedy decoding.
        public var estimatedSpeedup: Double
    }

    public struct Result: Sendable {
        public var steps: [Step]
        /// The step with the best estimated speed-up (nil when no step was made).
        public var chosen: Step?
        public var positions: Int
        public var fullStepSeconds: Double
        public var verifySeconds: Double
        public var draftLength: Int
    }

    let network: any Transformer
    /// Token windows (each at least `minimumContext + 1` tokens).
    let windows: [[Int]]
    /// Positions of each window whose draft is scored: those at or after this index.
    let minimumContext: Int
    let draftLength: Int

    public init(network: any Transformer, windows: [[Int]], minimumContext: Int = 16, draftLength: Int = 4) {
        self.network = network
        self.windows = windows.filter { $0.count > minimumContext }
        self.minimumContext = minimumContext
        self.draftLength = max(1, draftLength)
    }

    /// One window's full-depth cache, the full argmax at each scored position, and the full K/V
    /// of those positions (a draft step overwrites the kept blocks' K/V at its position; they are
    /// put back after each step so every evaluation sees the same context).
    final class Window {
        let tokens: [Int]
        let cache: KVCache
        let targets: [Int]
        var saved: [[(keys: [Float], values: [Float])]] = []
        init(tokens: [Int], cache: KVCache, targets: [Int]) {
            self.tokens = tokens
            self.cache = cache
            self.targets = targets
        }
    }

    /// The prepared windows and the scratch a draft step needs.
    final class Harness {
        let network: any Transformer
        let minimumContext: Int
        var windows: [Window] = []
        let workspace: Workspace
        let logits: FloatBuffer
        var positions: Int { windows.reduce(0) { $0 + $1.targets.count } }

        init(network: any Transformer, windows tokenWindows: [[Int]], minimumContext: Int) throws {
            self.network = network
            self.minimumContext = minimumContext
            let L = network.shape.layerCount, V = network.shape.vocabularySize
            workspace = network.makeWorkspace()
            logits = FloatBuffer(count: V)
            for tokens in tokenWindows {
                let cache = network.makeCache(capacity: tokens.count)
                let all = try network.prefill(tokens, cache: cache, allLogits: true).logits
                let targets = (minimumContext..<tokens.count).map { t in
                    all.withUnsafeBufferPointer { Sampler.argmax(UnsafeBufferPointer(rebasing: $0[(t * V)..<((t + 1) * V)])) }
                }
                let window = Window(tokens: tokens, cache: cache, targets: targets)
                window.saved = (minimumContext..<tokens.count).map { t in
                    (0..<L).map { layer in (cache.key(layer: layer, position: t), cache.value(layer: layer, position: t)) }
                }
                windows.append(window)
            }
        }

        /// Agreement and median draft-step seconds of the draft that runs `kept` blocks.
        func evaluate(kept: [Int]) throws -> (agreement: Double, seconds: Double) {
            let V = network.shape.vocabularySize
            var agree = 0
            var times: [Double] = []
            for window in windows {
                // Latest position first: the cache can only be shortened, and every position's
                // K/V is put back after its step, so raising the length again at the end is exact.
                for (i, target) in window.targets.enumerated().reversed() {
                    let t = minimumContext + i
                    let start = DispatchTime.now()
                    window.cache.truncate(to: t)
                    try network.beginToken(window.tokens[t], workspace: workspace, cache: window.cache)
                    for block in kept { network.runBlock(block, workspace: workspace, cache: window.cache) }
                    network.finalLogits(workspace.residual.pointer, into: logits.pointer, workspace: workspace)
                    times.append(elapsedSeconds(since: start))
                    if Sampler.argmax(UnsafeBufferPointer(start: logits.pointer, count: V)) == target { agree += 1 }
                    for block in kept {
                        let kv = window.saved[i][block]
                        kv.keys.withUnsafeBufferPointer { k in
                            kv.values.withUnsafeBufferPointer { v in
                                if let kb = k.baseAddress, let vb = v.baseAddress {
                                    window.cache.store(layer: block, position: t, keys: kb, values: vb)
                                }
                            }
                        }
                    }
                }
                window.cache.commit(window.tokens.count - window.cache.length)
            }
            let n = positions
            return (n == 0 ? 0 : Double(agree) / Double(n), SkipLayerSearch.median(times))
        }
    }

    /// First-draft agreement of the draft that skips `layers`, on this search's windows.
    public func agreement(skipping layers: LayerSet) throws -> Double {
        try layers.validate(layerCount: network.shape.layerCount)
        let harness = try Harness(network: network, windows: windows, minimumContext: minimumContext)
        return try harness.evaluate(kept: layers.keptBlocks(layerCount: network.shape.layerCount)).agreement
    }

    /// Runs the search up to `maxSkipped` layers; `progress` hears each step.
    public func run(maxSkipped: Int, progress: (Step, Result) throws -> Void = { _, _ in }) throws -> Result {
        let L = network.shape.layerCount
        let harness = try Harness(network: network, windows: windows, minimumContext: minimumContext)
        let prepared = harness.windows, positions = harness.positions
        func evaluate(kept: [Int]) throws -> (Double, Double) { try harness.evaluate(kept: kept) }

        // Reference times: a full step, and a verification of k+1 rows (each the median of a few).
        let (fullAgreement, fullSeconds) = try evaluate(kept: Array(0..<L))
        // Full depth step by step must reproduce the prefill's argmax (a check of the harness itself).
        guard fullAgreement >= 0.99 else {
            throw ModelError.invalidInput("draft search: full depth agrees with its own prefill on only \(fullAgreement) of positions")
        }
        var verifyTimes: [Double] = []
        if let window = prepared.first {
            let rows = min(draftLength + 1, window.tokens.count - minimumContext)
            for _ in 0..<7 {
                window.cache.truncate(to: minimumContext)
                let start = DispatchTime.now()
                _ = try network.prefill(Array(window.tokens[minimumContext..<(minimumContext + rows)]), cache: window.cache, allLogits: true)
                verifyTimes.append(elapsedSeconds(since: start))
            }
            // The verification wrote the same full-depth K/V the window had: nothing to restore.
            window.cache.truncate(to: minimumContext)
            _ = try network.prefill(Array(window.tokens[minimumContext...]), cache: window.cache)
        }
        let verifySeconds = Self.median(verifyTimes)

        var skipped: [Int] = []
        var steps: [Step] = []
        let k = Double(draftLength)
        while skipped.count < min(maxSkipped, L) {
            var best: (layer: Int, agreement: Double, seconds: Double)?
            for layer in 1...L where !skipped.contains(layer) {
                let set = Set(skipped + [layer])
                let kept = (0..<L).filter { !set.contains($0 + 1) }
                let (agreement, seconds) = try evaluate(kept: kept)
                if let current = best, agreement <= current.agreement { continue } // ties: the lower layer
                best = (layer, agreement, seconds)
            }
            guard let best else { break }
            skipped.append(best.layer)
            let a = min(best.agreement, 0.999_999)
            let emitted = (1 - pow(a, k + 1)) / (1 - a)
            let position = minimumContext
            let draftSeconds = fullSeconds
                * CostModel.skipDraftToken(shape: network.shape, position: position, keptBlocks: L - skipped.count).total
                / CostModel.fullToken(shape: network.shape, position: position).total
            let speedup = emitted * fullSeconds / (k * draftSeconds + verifySeconds)
            let step = Step(skipped: try LayerSet(skipped), added: best.layer, agreement: best.agreement,
                            draftSeconds: draftSeconds, estimatedSpeedup: speedup)
            steps.append(step)
            try progress(step, result(steps))
        }
        return result(steps)

        func result(_ steps: [Step]) -> Result {
            Result(steps: steps, chosen: steps.max { $0.estimatedSpeedup < $1.estimatedSpeedup }, positions: positions,
                   fullStepSeconds: fullSeconds, verifySeconds: verifySeconds, draftLength: draftLength)
        }
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
