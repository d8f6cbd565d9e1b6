import Foundation
import EarlyExit
import Kernels
import Model

/// The paper's empirical study, teacher-forced: for every token of the given files, which
/// layer's head first predicts it, and how accurate and confident each head is.
///
/// Files are read in path order, each as its own token sequence. Windows of the model's
/// context length advance by `stride` tokens; a window scores only the positions the
/// previous window did not (so every token is scored once, with at least
/// `contextLength − stride` tokens of context after the first window).
public struct Study: Sendable {
    public struct Result: Sendable, Codable {
        public var tokens: Int
        public var layers: Int
        /// `firstCorrect[0]` counts tokens never correct; `firstCorrect[l]` those first correct at layer l.
        public var firstCorrect: [Int]
        /// Top-1 accuracy of each layer's head (index l−1).
        public var accuracy: [Double]
        /// Mean next-token cross-entropy of each layer's head, nats.
        public var loss: [Double]
        public var stride: Int
        public var headKind: String
        /// Layers that have a head (L included), when the exit heads cover some layers only
        /// (CodeGen's every third layer); nil when every layer has one.
        public var headLayers: [Int]? = nil

        /// Whether layer `l` had a head to score.
        public func hasHead(_ l: Int) -> Bool { headLayers?.contains(l) ?? true }

        /// Share of tokens first correct at layer 1.
        public var firstLayerShare: Double { tokens == 0 ? 0 : Double(firstCorrect.count > 1 ? firstCorrect[1] : 0) / Double(tokens) }
        /// Share of tokens no layer predicts.
        public var neverShare: Double { tokens == 0 ? 0 : Double(firstCorrect[0]) / Double(tokens) }
    }

    public let model: EarlyExitModel
    public var stride: Int
    public var maxTokens: Int

    public init(model: EarlyExitModel, stride: Int? = nil, maxTokens: Int = .max) {
        self.model = model
        self.stride = stride ?? max(1, model.network.shape.contextLength / 2)
        self.maxTokens = maxTokens
    }

    /// Runs the study over token sequences (one per file).
    public func run(sequences: [[Int]], progress: (Int) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Result {
        let network = model.network, c = network.shape, L = c.layerCount, V = c.vocabularySize, d = c.embeddingSize
        let T = c.contextLength
        var result = Result(tokens: 0, layers: L, firstCorrect: [Int](repeating: 0, count: L + 1),
                            accuracy: [Double](repeating: 0, count: L), loss: [Double](repeating: 0, count: L),
                            stride: stride, headKind: model.heads?.kind.rawValue ?? "none")
        if let heads = model.heads, heads.layers.count < L - 1 { result.headLayers = heads.layers.sorted() + [L] }
        var correct = [Int](repeating: 0, count: L)
        var lossSum = [Double](repeating: 0, count: L)
        let ws = network.makeWorkspace()
        let logits = FloatBuffer(count: V)
        outer: for ids in sequences where ids.count >= 2 {
            var start = 0, scoredUpTo = 0 // predictor positions < scoredUpTo are done
            while scoredUpTo < ids.count - 1 {
                let end = min(ids.count, start + T)
                let window = Array(ids[start..<end])
                let out = try network.prefill(window, cache: network.makeCache(), captureHidden: true)
                for p in max(0, scoredUpTo - start)..<(window.count) where start + p + 1 < ids.count {
                    let target = ids[start + p + 1]
                    var first = 0
                    for l in 1...L {
                        guard l == L || (model.heads?.layers.contains(l) ?? false) else { continue }
                        out.hiddenStates[l - 1].withUnsafeBufferPointer { h in
                            let row = h.baseAddress! + p * d
                            if let heads = model.heads {
                                heads.logits(layer: l, hidden: row, into: logits.pointer, network: network, workspace: ws)
                            } else {
                                network.finalLogits(row, into: logits.pointer, workspace: ws)
                            }
                        }
                        let buffer = UnsafeBufferPointer(start: logits.pointer, count: V)
                        let best = Sampler.argmax(buffer)
                        if best == target {
                            correct[l - 1] += 1
                            if first == 0 { first = l }
                        }
                        let m = buffer[best]
                        var sum: Double = 0
                        for v in buffer { sum += Foundation.exp(Double(v - m)) }
                        lossSum[l - 1] += Foundation.log(sum) - Double(buffer[target] - m)
                    }
                    result.firstCorrect[first] += 1
                    result.tokens += 1
                    if result.tokens % 256 == 0 { progress(result.tokens) }
                    if result.tokens >= maxTokens || (result.tokens % 64 == 0 && shouldStop()) { break outer }
                }
                scoredUpTo = end
                if end == ids.count { break }
                start += stride
            }
        }
        progress(result.tokens) // the last partial batch too: the bar ends at its total
        for l in 0..<L {
            result.accuracy[l] = result.tokens == 0 ? 0 : Double(correct[l]) / Double(result.tokens)
            result.loss[l] = result.tokens == 0 ? 0 : lossSum[l] / Double(result.tokens)
        }
        return result
    }
}
