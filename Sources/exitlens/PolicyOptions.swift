import ArgumentParser
import EarlyExit

extension PolicyKind: ExpressibleByArgument {}
extension DraftKind: ExpressibleByArgument {}

extension LayerSet: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// How deep tokens go, as options (`complete`, `play`): a policy name and its knobs. They build
/// a `PolicyConfiguration`, which `bench` and `eval` parse from one word (`--policy sec:0.9:0.8`);
/// both spellings give the same setting, with the same defaults and checks.
struct PolicyOptions: ParsableArguments {
    @Option(help: "How deep each token goes (default: sec; full on a model without controller.safetensors).")
    var policy: PolicyKind?

    @Option(name: .customLong("tau-exit"), help: "sec: exit when p(exit) is the argmax and > τ_exit (default 0.9; > 1 disables).")
    var tauExit: Float?

    @Option(name: .customLong("tau-stop"), help: "sec: stop when p(stop) is the argmax and > τ_stop (default 0.8; > 1 disables).")
    var tauStop: Float?

    @Option(help: "softmax: top-1 − top-2 probability ≥ λ (default 0.9); saturation: cosine ≥ λ (default 0.99).")
    var lambda: Float?

    @Option(name: .customLong("exit-layer"), help: "fixed: the layer k every token exits at (default L/2); speculative: the draft layer (default L/4).")
    var exitLayer: Int?

    @Option(help: "speculative: how drafts are made (default skip: the whole model without the layers of its skip-draft.json; fixed with --exit-layer).")
    var draft: DraftKind?

    @Option(name: .customLong("skip-layers"), help: "speculative --draft skip: the layers the draft leaves out, e.g. 8,10,12-15 (default: the model's skip-draft.json).")
    var skipLayers: LayerSet?

    @Option(name: .customLong("draft-length"), help: "speculative: drafts per full-depth verification (default 4).")
    var draftLength: Int?

    /// The setting these options describe, `defaultKind` when `--policy` is not given. A knob the
    /// policy does not read is refused rather than silently ignored.
    /// `controllerThresholds` (the model's controller metadata) replace the paper's τ defaults; the
    /// flags still win.
    func configuration(defaultKind: PolicyKind = PolicyConfiguration.defaultKind,
                       controllerThresholds: (tauExit: Float, tauStop: Float)? = nil) throws -> PolicyConfiguration {
        var c = PolicyConfiguration(policy ?? defaultKind)
        if let t = controllerThresholds, c.knobs.contains(.tauExit) {
            c.tauExit = t.tauExit
            c.tauStop = t.tauStop
        }
        func refuse(_ flag: String) -> ValidationError {
            let setting = c.kind == .speculative ? "--policy speculative --draft \(c.draft.rawValue)" : "--policy \(c.kind.rawValue)"
            return ValidationError("\(flag) does not apply to \(setting)")
        }
        if let draft {
            guard c.knobs.contains(.draft) else { throw refuse("--draft") }
            c.draft = draft
        } else if c.kind == .speculative && exitLayer != nil {
            c.draft = .fixed // a draft layer means drafts by a fixed exit, whatever the default draft
        }
        let knobs = c.knobs
        if let tauExit {
            guard knobs.contains(.tauExit) else { throw refuse("--tau-exit") }
            c.tauExit = tauExit
        }
        if let tauStop {
            guard knobs.contains(.tauStop) else { throw refuse("--tau-stop") }
            c.tauStop = tauStop
        }
        if let lambda {
            if knobs.contains(.softmaxLambda) { c.softmaxLambda = lambda }
            else if knobs.contains(.saturationLambda) { c.saturationLambda = lambda }
            else { throw refuse("--lambda") }
        }
        if let exitLayer {
            if knobs.contains(.exitLayer) { c.exitLayer = exitLayer }
            else if knobs.contains(.draftLayer) { c.draftLayer = exitLayer }
            else { throw refuse("--exit-layer") }
        }
        if let skipLayers {
            guard knobs.contains(.skipLayers) else { throw refuse("--skip-layers") }
            c.skipLayers = skipLayers
        }
        if let draftLength {
            guard knobs.contains(.draftLength) else { throw refuse("--draft-length") }
            c.draftLength = draftLength
        }
        do { try c.validate() } catch let error as PolicyConfigurationError { throw ValidationError(error.description) }
        return c
    }
}

/// `--policy SPEC` for `bench` and `eval`: one word per setting, checked as it is parsed.
func parsePolicySpec(_ text: String) throws -> PolicyConfiguration {
    try PolicyConfiguration(parsing: text)
}
