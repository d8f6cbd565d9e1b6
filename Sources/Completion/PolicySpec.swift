import EarlyExit

/// A decoding setting written as one word, for benchmarks and sweeps:
/// `full`, `sec:τexit:τstop`, `softmax:λ`, `saturation:λ`, `fixed:k`,
/// `speculative:k:n` (drafts from a fixed layer k, n per verification).
public struct PolicySpec: Sendable, CustomStringConvertible {
    public let text: String
    public let policy: any ExitPolicy
    public let speculative: SpeculativeOptions?

    public var description: String { text }

    public init(_ text: String) throws {
        self.text = text
        let parts = text.split(separator: ":").map(String.init)
        func number(_ i: Int, _ fallback: Float) throws -> Float {
            guard i < parts.count else { return fallback }
            guard let v = Float(parts[i]) else { throw PolicySpecError(text: text) }
            return v
        }
        switch parts.first ?? "" {
        case "full": policy = FullDepthPolicy(); speculative = nil
        case "sec": policy = SECPolicy(tauExit: try number(1, 0.9), tauStop: try number(2, 0.8)); speculative = nil
        case "softmax": policy = SoftmaxConfidencePolicy(lambda: try number(1, 0.9)); speculative = nil
        case "saturation": policy = SaturationPolicy(lambda: try number(1, 0.99)); speculative = nil
        case "fixed": policy = FixedLayerPolicy(layer: Int(try number(1, 3))); speculative = nil
        case "speculative":
            policy = FullDepthPolicy()
            speculative = SpeculativeOptions(draftPolicy: FixedLayerPolicy(layer: Int(try number(1, 3))), draftLength: Int(try number(2, 4)))
        default: throw PolicySpecError(text: text)
        }
    }

    /// A request for `prompt` with this setting (greedy).
    public func request(prompt: String, maxTokens: Int) -> CompletionRequest {
        CompletionRequest(prompt: prompt, maxTokens: maxTokens, policy: policy, speculative: speculative)
    }
}

/// A policy spec that does not parse.
public struct PolicySpecError: Error, CustomStringConvertible {
    public let text: String
    public var description: String {
        "policy '\(text)' is not one of full, sec:τexit:τstop, softmax:λ, saturation:λ, fixed:k, speculative:k:n"
    }
}
