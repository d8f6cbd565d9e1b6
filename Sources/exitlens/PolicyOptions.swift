import ArgumentParser
import Completion
import EarlyExit
import Model

/// How deep tokens go: the policy and its knobs, shared by `complete` and `bench`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "full, sec, softmax, saturation, fixed or speculative.")
    var policy: String = "full"

    @Option(name: .customLong("tau-exit"), help: "sec: exit when p(exit) is the argmax and > τ_exit (> 1 disables).")
    var tauExit: Float = 0.9

    @Option(name: .customLong("tau-stop"), help: "sec: stop when p(stop) is the argmax and > τ_stop (> 1 disables).")
    var tauStop: Float = 0.8

    @Option(help: "softmax: top-1 − top-2 probability ≥ λ (default 0.9); saturation: cosine ≥ λ (default 0.99).")
    var lambda: Float?

    @Option(name: .customLong("exit-layer"), help: "fixed: the layer k every token exits at; speculative: the draft layer (default L/4).")
    var exitLayer: Int?

    @Option(help: "speculative: how drafts are made (fixed, sec, softmax, saturation).")
    var draft: String = "fixed"

    @Option(name: .customLong("draft-length"), help: "speculative: drafts per full-depth verification.")
    var draftLength: Int = 4

    func validate() throws {
        let names = PolicyName.allCases.map(\.rawValue).filter { $0 != "oracle" } + ["speculative"]
        guard names.contains(policy) else { throw ValidationError("--policy must be one of \(names.joined(separator: ", "))") }
        guard draftLength >= 1 else { throw ValidationError("--draft-length must be ≥ 1") }
        if let exitLayer, exitLayer < 1 { throw ValidationError("--exit-layer must be ≥ 1") }
    }

    private func make(_ name: PolicyName, layerCount: Int, defaultLayer: Int) -> any ExitPolicy {
        let threshold: Float? = name == .fixed ? Float(exitLayer ?? defaultLayer) : lambda
        return name.make(tauExit: tauExit, tauStop: tauStop, threshold: threshold, layerCount: layerCount)
    }

    /// The per-token policy (full for speculative, whose drafting policy is separate).
    func exitPolicy(layerCount: Int) throws -> any ExitPolicy {
        guard policy != "speculative", let name = PolicyName(rawValue: policy) else { return FullDepthPolicy() }
        return make(name, layerCount: layerCount, defaultLayer: max(1, layerCount / 2))
    }

    /// Speculative settings, when `--policy speculative`.
    func speculative(layerCount: Int) throws -> SpeculativeOptions? {
        guard policy == "speculative" else { return nil }
        guard let name = PolicyName(rawValue: draft), name != .full, name != .oracle else {
            throw ValidationError("--draft must be fixed, sec, softmax or saturation")
        }
        return SpeculativeOptions(draftPolicy: make(name, layerCount: layerCount, defaultLayer: max(1, layerCount / 4)),
                                  draftLength: draftLength)
    }
}
