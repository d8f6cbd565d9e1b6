import Completion
import EarlyExit

/// What the playground shows about the model, and how it names tokens (for the inspector).
public struct ModelInfo: Sendable {
    public var name: String
    public var layerCount: Int
    public var embeddingSize: Int
    public var parameterCount: Int
    /// Positions the model attends over (sizes the prompt).
    public var contextLength: Int
    public var hasExitHeads: Bool
    public var hasController: Bool
    public var tokenText: @Sendable (Int) -> String

    public init(name: String, layerCount: Int, embeddingSize: Int, parameterCount: Int, contextLength: Int = 2048,
                hasExitHeads: Bool, hasController: Bool, tokenText: @escaping @Sendable (Int) -> String) {
        self.name = name
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.embeddingSize = embeddingSize
        self.parameterCount = parameterCount
        self.hasExitHeads = hasExitHeads
        self.hasController = hasController
        self.tokenText = tokenText
    }

    public init(model: LanguageModel) {
        let c = model.network.shape
        let d = c.embeddingSize
        // Embeddings + per block (attention 4d², MLP 2·d·inner, biases and norms); close enough to show a size.
        let perBlock = 4 * d * d + 2 * d * c.innerSize + 9 * d + c.innerSize
        let tokenizer = model.tokenizer
        self.init(name: model.name, layerCount: c.layerCount, embeddingSize: d,
                  parameterCount: c.vocabularySize * d + c.contextLength * d + c.layerCount * perBlock + 2 * d,
                  contextLength: c.contextLength, hasExitHeads: model.earlyExit.heads != nil, hasController: model.earlyExit.controller != nil,
                  tokenText: { tokenizer.decodeText([$0]) })
    }

    /// Whether this model ships what `configuration` needs (exit heads, the controller).
    public func supports(_ configuration: PolicyConfiguration) -> Bool {
        let needs = configuration.requirements(layerCount: layerCount)
        return (hasExitHeads || !needs.contains(.exitHeads)) && (hasController || !needs.contains(.controller))
    }
}

/// Compact numbers for narrow panels: 1.2K, 3.4M, 5.6G.
func compact(_ x: Double) -> String {
    let a = abs(x)
    if a >= 1e12 { return String(format: "%.1fT", x / 1e12) }
    if a >= 1e9 { return String(format: "%.1fG", x / 1e9) }
    if a >= 1e6 { return String(format: "%.1fM", x / 1e6) }
    if a >= 1e3 { return String(format: "%.1fK", x / 1e3) }
    return String(format: "%.0f", x)
}
