import Foundation
import Model

/// A network with what early exit needs beside it: exit heads and the Stop&Exit Controller,
/// both optional (without them only `full` — and exits at layer L — are possible).
public struct EarlyExitModel: Sendable {
    public let network: any Transformer
    public let heads: ExitHeads?
    public let controller: StopExitController?
    /// The layers a skip-layer draft leaves out when its setting names none (`skip-draft.json`).
    public let skipDraftLayers: LayerSet?

    public init(network: any Transformer, heads: ExitHeads?, controller: StopExitController?, skipDraftLayers: LayerSet? = nil) {
        self.network = network
        self.heads = heads
        self.controller = controller
        self.skipDraftLayers = skipDraftLayers
    }

    /// Loads `exits.safetensors`, `controller.safetensors` and `skip-draft.json` from `directory` when present.
    public init(network: any Transformer, directory: URL) throws {
        self.init(network: network,
                  heads: try ExitHeads.load(directory: directory, shape: network.shape),
                  controller: try StopExitController.load(directory: directory, shape: network.shape),
                  skipDraftLayers: try SkipDraftFile.load(url: directory.appendingPathComponent(SkipDraftFile.name),
                                                          layerCount: network.shape.layerCount)?.layers)
    }

    /// The layers a skip-layer draft with `layers` (nil: unnamed) leaves out: the named ones, else the
    /// model's searched set, else `LayerSet.fallback`; nil only for a one-layer model.
    public func resolvedSkipLayers(_ layers: LayerSet?) -> LayerSet? {
        layers ?? skipDraftLayers ?? LayerSet.fallback(layerCount: network.shape.layerCount)
    }

    /// Refuses a draft that cannot work with the files at hand, with a reason.
    public func check(_ draft: SpeculativeDraft) throws {
        switch draft {
        case .earlyExit(let policy):
            try check(policy)
        case .skipLayers(let layers):
            let L = network.shape.layerCount
            guard let resolved = resolvedSkipLayers(layers) else {
                throw ModelError.invalidInput("a skip-layer draft needs a model of at least 2 layers")
            }
            do { try resolved.validate(layerCount: L) } catch let error as LayerSetError {
                throw ModelError.invalidInput("skip layers \(resolved): \(error.problem)")
            }
        case .lookup:
            break // needs nothing but the context
        }
    }

    /// Refuses a policy that cannot work with the files at hand, with a reason.
    public func check(_ policy: any ExitPolicy) throws {
        let L = network.shape.layerCount
        switch policy {
        case is SECPolicy where controller == nil:
            throw ModelError.invalidInput("policy sec needs controller.safetensors beside the model")
        case let fixed as FixedLayerPolicy where fixed.layer < L && heads == nil:
            throw ModelError.invalidInput("policy fixed(k=\(fixed.layer)) needs exits.safetensors beside the model")
        case let fixed as FixedLayerPolicy where fixed.layer < 1:
            throw ModelError.invalidInput("fixed layer k must be ≥ 1")
        case let fixed as FixedLayerPolicy where heads.map({ $0.nearestExit(atOrBelow: fixed.layer, layerCount: L) == nil }) ?? false:
            let at = heads.map { $0.layers.sorted().map(String.init).joined(separator: ", ") } ?? ""
            throw ModelError.invalidInput("policy \(fixed.label): no exit head at or below layer \(fixed.layer) (exits.safetensors has heads at layers \(at); set k with fixed:k or --exit-layer)")
        case is SoftmaxConfidencePolicy where heads == nil, is SaturationPolicy where heads == nil:
            throw ModelError.invalidInput("policy \(policy.label) needs exits.safetensors beside the model")
        default:
            break
        }
    }
}
