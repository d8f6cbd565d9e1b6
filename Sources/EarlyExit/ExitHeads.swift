import Foundation
import Kernels
import Model
import SafeTensors

/// Intermediate LM heads: what turns the residual stream after block `l` into next-token logits.
///
/// Read from `exits.safetensors` beside the model (format `exitlens-exits-v1`, written by
/// `training/train_exits.py`). Layers are 1-based, "after block l":
/// - `separate` — the paper's own `Linear(d, V)` per layer on the raw residual stream
///   (`exits.{l}.weight`, `[V, d]`);
/// - `shared` — a per-layer LayerNorm feeding the model's tied head
///   (`exits.{l}.ln.weight`, `exits.{l}.ln.bias`, `[d]`).
/// Layer L always uses the model's own `lm_head(ln_f(h))`.
public struct ExitHeads: Sendable {
    /// How intermediate layers map hidden states to logits.
    public enum Kind: String, Sendable, Codable { case separate, shared }

    public let kind: Kind
    /// Layers (1-based, < L) that have a head.
    public let layers: Set<Int>
    private let separate: [Int: PackedMatrix]
    private let norms: [Int: (gamma: FloatBuffer, beta: FloatBuffer)]
    private let epsilon: Float

    /// Loads `exits.safetensors` from `directory`, or returns nil when there is none.
    public static func load(directory: URL, shape: ModelShape) throws -> ExitHeads? {
        try load(url: directory.appendingPathComponent("exits.safetensors"), shape: shape)
    }

    /// Loads the exits file at `url`, or returns nil when there is none.
    public static func load(url: URL, shape: ModelShape) throws -> ExitHeads? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try ExitHeads(file: SafeTensorsFile(path: url.path), shape: shape)
    }

    /// Validates and loads heads for `config`.
    public init(file: SafeTensorsFile, shape: ModelShape) throws {
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        let L = shape.layerCount, d = shape.embeddingSize, V = shape.vocabularySize
        guard let kindName = file.metadata["kind"], let kind = Kind(rawValue: kindName) else {
            throw ModelError.file(name, "metadata 'kind' must be 'separate' or 'shared' (found \(file.metadata["kind"] ?? "none"))")
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
        var separate: [Int: PackedMatrix] = [:]
        var norms: [Int: (FloatBuffer, FloatBuffer)] = [:]
        for l in layers.sorted() {
            switch kind {
            case .separate:
                let tensor = "exits.\(l).weight"
                guard file.entry(tensor) != nil else { throw ModelError.tensor(file: name, name: tensor, "missing (expected shape [\(V), \(d)])") }
                let w = try file.floats(tensor, shape: [V, d])
                separate[l] = PackedMatrix(rowMajor: GPT2Weights.transposed(w, rows: V, cols: d), inCount: d, outCount: V)
            case .shared:
                var pair: [FloatBuffer] = []
                for part in ["weight", "bias"] {
                    let tensor = "exits.\(l).ln.\(part)"
                    guard file.entry(tensor) != nil else { throw ModelError.tensor(file: name, name: tensor, "missing (expected shape [\(d)])") }
                    pair.append(FloatBuffer(try file.floats(tensor, shape: [d])))
                }
                norms[l] = (pair[0], pair[1])
            }
        }
        self.kind = kind
        self.layers = layers
        self.separate = separate
        self.norms = norms
        self.epsilon = shape.normEpsilon
    }

    /// Whether layer `l` (1-based) can produce logits: every layer with a head, and layer L.
    public func canExit(at l: Int, layerCount: Int) -> Bool { l == layerCount || layers.contains(l) }

    /// Multiply-adds ×2 of one head evaluation at layer `l` (for the cost model).
    public func flops(at l: Int, shape: ModelShape) -> Double {
        let d = Double(shape.embeddingSize), V = Double(shape.vocabularySize)
        if l == shape.layerCount || kind == .shared { return CostModel.layerNormFlops(d) + 2 * d * V }
        return 2 * d * V
    }

    /// Logits of head `l` for `hidden` (the raw residual stream after block `l`) into `out` (V floats).
    public func logits(layer l: Int, hidden: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                       network: any Transformer, workspace ws: Workspace) {
        let shape = network.shape
        if l == shape.layerCount {
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
            network.head.gemv(ws.normed.pointer, out, bias: nil, pool: network.pool)
        }
    }
}
