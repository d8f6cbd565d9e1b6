import Completion
import EarlyExit
import Model

/// The tokens a layer grid is computed for: the prompt as the model saw it and the suggestion.
public struct LayerGridRequest: Sendable, Equatable {
    public var promptIDs: [Int]
    public var tokens: [Int]

    public init(promptIDs: [Int], tokens: [Int]) {
        self.promptIDs = promptIDs
        self.tokens = tokens
    }
}

/// The logit lens over one suggestion: for each suggested token (a column) and each layer with a
/// head (a row), that head's most likely token at the position that predicted it.
public struct LayerGrid: Sendable, Equatable {
    /// Where the cells come from.
    public enum Source: Sendable, Equatable {
        /// The suggestion's own trace: every token went through every layer with a head.
        case recorded
        /// A full-depth pass over the prompt and the suggested tokens (teacher forcing): under an
        /// early-exit policy the layers after each token's exit were never computed.
        case teacherForced
    }

    /// Rows: 1-based layers that have a head (always including the last).
    public var layers: [Int]
    /// `top1[column][row]`: the token id the head at `layers[row]` ranks first for column's position.
    public var top1: [[Int]]
    public var source: Source

    public init(layers: [Int], top1: [[Int]], source: Source) {
        self.layers = layers
        self.top1 = top1
        self.source = source
    }

    /// The grid the suggestion's trace already holds, when every token was recorded at every
    /// layer with a head (a `full` suggestion asked while the inspector was open); else nil.
    public static func recorded(_ tokens: [GeneratedToken], layerCount L: Int) -> LayerGrid? {
        guard let first = tokens.first else { return nil }
        let layers = first.trace.layers.filter { !($0.topTokens ?? []).isEmpty }.map(\.layer)
        guard layers.last == L else { return nil }
        var top1: [[Int]] = []
        for token in tokens {
            let byLayer = Dictionary(token.trace.layers.compactMap { s in s.topTokens?.first.map { (s.layer, $0.id) } },
                                     uniquingKeysWith: { a, _ in a })
            let column = layers.compactMap { byLayer[$0] }
            guard column.count == layers.count else { return nil }
            top1.append(column)
        }
        return LayerGrid(layers: layers, top1: top1, source: .recorded)
    }
}

extension Completer {
    /// The teacher-forced pass behind the layer grid: the prompt and every suggested token but the
    /// last go through all blocks at once (as `exitlens study` does), and each head reads the
    /// residual stream after its layer at the positions that predicted the suggested tokens.
    /// Uses its own small cache, so the completer's prefix cache is left as it was.
    public func layerGrid(_ request: LayerGridRequest, cancellation: CancellationFlag?) throws -> LayerGrid {
        let early = model.earlyExit, network = early.network, shape = network.shape
        let L = shape.layerCount, d = shape.embeddingSize, V = shape.vocabularySize
        let layers = (1...L).filter { $0 == L || (early.heads?.layers.contains($0) ?? false) }
        let n = request.tokens.count
        guard n > 0, !request.promptIDs.isEmpty else { return LayerGrid(layers: layers, top1: [], source: .teacherForced) }
        let ids = request.promptIDs + request.tokens.dropLast()
        guard ids.count <= shape.contextLength else {
            throw ModelError.invalidInput("layer grid: \(ids.count) tokens do not fit the context of \(shape.contextLength)")
        }
        // Positions before the first predicting one need no hidden states: they only fill the cache.
        let cache = network.makeCache(capacity: ids.count)
        let before = ids.count - n
        if before > 0 { _ = try network.prefill(Array(ids[..<before]), cache: cache) }
        if cancellation?.isCancelled == true { throw LayerGridCancelled() }
        let hidden = try network.prefill(Array(ids[before...]), cache: cache, captureHidden: true).hiddenStates
        let workspace = network.makeWorkspace()
        var logits = [Float](repeating: 0, count: V)
        var top1 = [[Int]](repeating: [], count: n)
        for row in 0..<n {
            if cancellation?.isCancelled == true { throw LayerGridCancelled() }
            for l in layers {
                hidden[l - 1].withUnsafeBufferPointer { h in
                    guard let base = h.baseAddress else { return }
                    logits.withUnsafeMutableBufferPointer { out in
                        guard let o = out.baseAddress else { return }
                        if let heads = early.heads {
                            heads.logits(layer: l, hidden: base + row * d, into: o, network: network, workspace: workspace)
                        } else {
                            network.finalLogits(base + row * d, into: o, workspace: workspace)
                        }
                    }
                }
                top1[row].append(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
            }
        }
        return LayerGrid(layers: layers, top1: top1, source: .teacherForced)
    }
}

/// The grid's pass was cancelled (the worker reports it as a cancelled job).
struct LayerGridCancelled: Error {}
