import EarlyExit
import Model

extension CompletionRequest {
    /// A request decoded with `configuration` on a `layerCount`-layer model (whose depth the
    /// configuration's default layers and layer checks need).
    public init(prompt: String, maxTokens: Int = 32, sampling: SamplingParameters = .greedy,
                configuration: PolicyConfiguration, layerCount: Int, traceTopK: Int = 0) throws {
        let made = try configuration.makePolicy(layerCount: layerCount)
        self.init(prompt: prompt, maxTokens: maxTokens, sampling: sampling,
                  policy: made.policy, speculative: made.speculative, traceTopK: traceTopK)
    }
}

extension CompletionRequest {
    /// One greedy request per setting, for comparisons that fill in the prompt per run; built up
    /// front so a setting that does not fit the model (k > L) fails before any work, named by its spec.
    public static func comparing(_ settings: [PolicyConfiguration], maxTokens: Int, layerCount: Int) throws -> [CompletionRequest] {
        try settings.map { setting in
            do {
                return try CompletionRequest(prompt: "", maxTokens: maxTokens, configuration: setting, layerCount: layerCount)
            } catch var error as PolicyConfigurationError {
                error.spec = setting.description
                throw error
            }
        }
    }
}
