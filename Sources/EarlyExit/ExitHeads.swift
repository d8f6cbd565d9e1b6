import Foundation
import Kernels
import Model
import SafeTensors

/// Intermediate LM heads: what turns the residual stream after block `l` into next-token logits.
///
/// Read from an exits file beside the model (format `exitlens-exits-v1`, written by `training/`).
/// Layers are 1-based, "after block l":
/// - `separate` — the paper's own `Linear(d, V)` per layer on the raw residual stream
///   (`exits.{l}.weight`, `[V, d]`);
/// - `shared` — a per-layer LayerNorm feeding the model's own head (and its bias, if any)
///   (`exits.{l}.ln.weight`, `exits.{l}.ln.bias`, `[d]`; LayerNorm models: GPT-2, CodeGen);
/// - `translator` — a per-layer affine map in front of the model's own final norm and head,
///   `head(norm(h + A·h + b))` (tuned-lens style, for frozen pretrained backbones whose vocabulary
///   is too large for a head per layer): `exits.{l}.translator.bias` `[d]` with either a full
///   `exits.{l}.translator.weight` `[d, d]` or a low-rank pair `exits.{l}.translator.down` `[r, d]`
///   and `exits.{l}.translator.up` `[d, r]` (A = up·down);
/// - `lens` — no tensors: the untrained logit lens, `head(norm(h))` at every layer (a baseline;
///   on a model never trained to exit, early layers rarely agree with the last).
/// Layer L always uses the model's own `head(norm(h))`.
public struct ExitHeads: Sendable {
    /// How intermediate layers map hidden states to logits.
    public enum Kind: String, Sendable, Codable, CaseIterable { case separate, shared, translator, lens }

    public let kind: Kind
    /// Layers (1-based, < L) that have a head.
    public let layers: Set<Int>
    private let separate: [Int: PackedMatrix]
    private let norms: [Int: (gamma: FloatBuffer, beta: FloatBuffer)]
    private let translators: [Int: Translator]
    private let epsilon: Float

    /// `h + up·(down·h) + bias`, or `h + A·h + bias` when `up` is nil (`down` is then A).
    private struct Translator: Sendable {
        let down: PackedMatrix
        let up: PackedMatrix?
        let bias: FloatBuffer
    }

    /// Loads `exits.safetensors` from `directory`, or returns nil when there is none.
    public static func load(directory: URL, shape: ModelShape) throws -> ExitHeads? {
        try load(url: directory.appendingPathComponent("exits.safetensors"), shape: shape)
    }

    /// Loads the exits file at `url`, or returns nil when there is none.
    public static func load(url: URL, shape: ModelShape) throws -> ExitHeads? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try ExitHeads(file: SafeTensorsFile(path: url.path), shape: shape)
    }

    /// The untrained logit lens at every layer.
    public static func logitLens(shape: ModelShape) -> ExitHeads {
        ExitHeads(kind: .lens, layers: Set(1..<max(1, shape.layerCount)), separate: [:], norms: [:], translators: [:],
                  epsilon: shape.normEpsilon)
    }

    private init(kind: Kind, layers: Set<Int>, separate: [Int: PackedMatrix], norms: [Int: (gamma: FloatBuffer, beta: FloatBuffer)],
                 translators: [Int: Translator], epsilon: Float) {
        self.kind = kind
        self.layers = layers
        self.separate = separate
        self.norms = norms
        self.translators = translators
        self.epsilon = epsilon
    }

    /// Validates and loads heads for a model of `shape`.
    public init(file: SafeTensorsFile, shape: ModelShape) throws {
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        let L = shape.layerCount, d = shape.embeddingSize, V = shape.vocabularySize
        guard let kindName = file.metadata["kind"], let kind = Kind(rawValue: kindName) else {
            let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ModelError.file(name, "metadata 'kind' must be one of \(kinds) (found \(file.metadata["kind"] ?? "none"))")
        }
        if kind == .shared, shape.usesRMSNorm {
            throw ModelError.file(name, "kind 'shared' (LayerNorm heads) is for LayerNorm models (GPT-2, CodeGen); use 'translator' or 'lens'")
        }
        var layers = Set<Int>()
        if let list = file.metadata["layers"] {
            for part in list.split(separator: ",") {
                guard let l = Int(part.trimmingCharacters(in: .whitespaces)), l >= 1, l < L else {
                    throw ModelError.file(name, "metadata 'layers' has '\(part)', not a layer in 1..<\(L)")
                }
                layers.insert(l)
            }
        } else {
            layers = Set(1..<L)
        }
        func read(_ tensor: String, _ dims: [Int]) throws -> [Float] {
            guard file.entry(tensor) != nil else { throw ModelError.tensor(file: name, name: tensor, "missing (expected shape \(dims))") }
            return try file.floats(tensor, shape: dims)
        }
        /// A torch `Linear` weight `[out, in]` packed for `y = W·x`.
        func linear(_ tensor: String, out: Int, in inputs: Int) throws -> PackedMatrix {
            PackedMatrix(rowMajor: GPT2Weights.transposed(try read(tensor, [out, inputs]), rows: out, cols: inputs),
                         inCount: inputs, outCount: out)
        }
        var separate: [Int: PackedMatrix] = [:]
        var norms: [Int: (FloatBuffer, FloatBuffer)] = [:]
        var translators: [Int: Translator] = [:]
        for l in layers.sorted() {
            let p = "exits.\(l)."
            switch kind {
            case .separate:
                separate[l] = try linear(p + "weight", out: V, in: d)
            case .shared:
                norms[l] = (FloatBuffer(try read(p + "ln.weight", [d])), FloatBuffer(try read(p + "ln.bias", [d])))
            case .translator:
                let bias = FloatBuffer(try read(p + "translator.bias", [d]))
                if file.entry(p + "translator.weight") != nil {
                    translators[l] = Translator(down: try linear(p + "translator.weight", out: d, in: d), up: nil, bias: bias)
                } else {
                    guard let down = file.entry(p + "translator.down"), down.shape.count == 2, (1...min(d, shape.innerSize)).contains(down.shape[0]) else {
                        throw ModelError.tensor(file: name, name: p + "translator.down",
                                                "missing or not [r, \(d)] (or give \(p)translator.weight [\(d), \(d)])")
                    }
                    let r = down.shape[0]
                    translators[l] = Translator(down: try linear(p + "translator.down", out: r, in: d),
                                                up: try linear(p + "translator.up", out: d, in: r), bias: bias)
                }
            case .lens:
                break
            }
        }
        self.init(kind: kind, layers: layers, separate: separate, norms: norms, translators: translators, epsilon: shape.normEpsilon)
    }

    /// Whether layer `l` (1-based) can produce logits: every layer with a head, and layer L.
    public func canExit(at l: Int, layerCount: Int) -> Bool { l == layerCount || layers.contains(l) }

    /// The deepest layer at or below `k` that can produce logits (L when k ≥ L), or nil when every
    /// head sits deeper than k — where `fixed:k` exits on a model with heads at some layers only.
    public func nearestExit(atOrBelow k: Int, layerCount: Int) -> Int? {
        if k >= layerCount { return layerCount }
        // Asked after every block of every token: a downward scan, no allocation.
        var l = k
        while l >= 1 && !layers.contains(l) { l -= 1 }
        return l >= 1 ? l : nil
    }

    /// FLOPs of one head evaluation at layer `l` (for the cost model).
    public func flops(at l: Int, shape: ModelShape) -> Double {
        let d = Double(shape.embeddingSize), V = Double(shape.vocabularySize)
        if l == shape.layerCount { return CostModel.finalHead(shape: shape) }
        switch kind {
        case .separate: return 2 * d * V
        case .shared: return CostModel.layerNormFlops(d) + 2 * d * V + (shape.headBias ? V : 0)
        case .lens: return CostModel.finalHead(shape: shape)
        case .translator:
            guard let t = translators[l] else { return CostModel.finalHead(shape: shape) }
            let map = t.up.map { up in 2 * d * Double(up.inCount) * 2 } ?? 2 * d * d
            return map + 2 * d + CostModel.finalHead(shape: shape) // + bias and residual
        }
    }

    /// Logits of head `l` for `hidden` (the raw residual stream after block `l`) into `out` (V floats).
    public func logits(layer l: Int, hidden: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                       network: any Transformer, workspace ws: Workspace) {
        let shape = network.shape
        if l == shape.layerCount || kind == .lens {
            network.finalLogits(hidden, into: out, workspace: ws)
            return
        }
        switch kind {
        case .separate:
            guard let w = separate[l] else { preconditionFailure("no exit head at layer \(l)") }
            w.gemv(hidden, out, bias: nil, pool: network.pool)
        case .shared:
            guard let n = norms[l] else { preconditionFailure("no exit head at layer \(l)") }
            layerNorm(hidden, ws.normed.pointer, shape.embeddingSize, gamma: n.gamma.pointer, beta: n.beta.pointer, eps: epsilon)
            network.head.gemv(ws.normed.pointer, out, bias: network.headBias?.pointer, pool: network.pool)
        case .translator:
            guard let t = translators[l] else { preconditionFailure("no exit head at layer \(l)") }
            // ws.projected holds h + A·h + b; ws.inner is scratch for the low-rank middle.
            let d = shape.embeddingSize, translated = ws.projected.pointer
            if let up = t.up {
                t.down.gemv(hidden, ws.inner.pointer, bias: nil, pool: network.pool)
                up.gemv(ws.inner.pointer, translated, bias: t.bias.pointer, pool: network.pool)
            } else {
                t.down.gemv(hidden, translated, bias: t.bias.pointer, pool: network.pool)
            }
            addInPlace(translated, hidden, d)
            network.finalLogits(translated, into: out, workspace: ws)
        case .lens:
            break
        }
    }
}
