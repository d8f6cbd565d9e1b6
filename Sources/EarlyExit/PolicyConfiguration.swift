/// Which decoding policy: the names `--policy` takes and F2 cycles through, in that order.
///
/// The teacher-forced `OraclePolicy` is not one of them: it needs the reference token, so it
/// is a study instrument (`exitlens study`), not a way to decode.
public enum PolicyKind: String, CaseIterable, Sendable, Codable {
    case full, sec, softmax, saturation, fixed, speculative
}

/// How speculative decoding makes its drafts: an early-exit policy (never `full`: a full-depth
/// draft would cost as much as the verification), `skip`, the whole network with some blocks left
/// out, or `lookup`, copied from the context (no layer of the model drafts).
public enum DraftKind: String, CaseIterable, Sendable, Codable {
    case fixed, sec, softmax, saturation, skip, lookup
}

/// The draft model of self-speculative decoding.
public enum SpeculativeDraft: Sendable {
    /// Each draft token leaves the network where an early-exit policy says (LayerSkip, SEC's heads).
    case earlyExit(any ExitPolicy)
    /// Each draft token runs every block except these layers' (Draft & Verify, SWIFT): the residual
    /// passes them unchanged, and the model's own final norm and head give the draft. nil: the set
    /// the model ships (`skip-draft.json`), else `LayerSet.fallback`.
    case skipLayers(LayerSet?)
    /// Prompt lookup (llama.cpp's lookup decoding): the tokens that followed the latest earlier
    /// occurrence of the context's last 3 (else 2) tokens. Free to make and often right where code
    /// repeats itself; not self-speculative — no part of the model drafts.
    case lookup

    public var label: String {
        switch self {
        case .earlyExit(let policy): return policy.label
        case .skipLayers(let layers): return "skip(\(layers.map(\.description) ?? "model's set"))"
        case .lookup: return "lookup"
        }
    }

    /// The early-exit policy, for early-exit drafts.
    public var policy: (any ExitPolicy)? {
        if case .earlyExit(let policy) = self { return policy }
        return nil
    }
}

/// Self-speculative decoding settings: how drafts are made and how many per verification.
public struct SpeculativeOptions: Sendable {
    public var draft: SpeculativeDraft
    public var draftLength: Int
    public init(draft: SpeculativeDraft, draftLength: Int = PolicyConfiguration.defaultDraftLength) {
        self.draft = draft
        self.draftLength = draftLength
    }
    /// Drafts by early exit with `draftPolicy`.
    public init(draftPolicy: any ExitPolicy, draftLength: Int = PolicyConfiguration.defaultDraftLength) {
        self.init(draft: .earlyExit(draftPolicy), draftLength: draftLength)
    }
    /// The early-exit draft policy (nil for skip-layer drafts).
    public var draftPolicy: (any ExitPolicy)? { draft.policy }
}

/// What a model must ship beside its weights for a policy to run.
public struct PolicyRequirements: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// `exits.safetensors`: a head per layer to exit through.
    public static let exitHeads = PolicyRequirements(rawValue: 1)
    /// `controller.safetensors`: the Stop&Exit Controller.
    public static let controller = PolicyRequirements(rawValue: 2)
}

/// A decoding setting — the policy and every knob it has — parsed, printed, checked and built in
/// one place, so `complete`, `bench`, `eval`, the playground and the benchmarks mean the same
/// thing by the same words.
///
/// Written as one word (`exitlens bench/eval --policy SPEC`):
///
///     full
///     sec[:τexit[:τstop]]          Stop&Exit Controller thresholds
///     softmax[:λ]                  CALM: top-1 − top-2 probability of the layer's head ≥ λ
///     saturation[:λ]               CALM: cosine of consecutive hidden states ≥ λ
///     fixed[:k]                    every token exits at layer k (or the deepest exit head below it)
///     speculative[::n]             the default draft (`defaultDraft`), n per full-depth verification
///     speculative:k[:n]            drafts from a fixed layer k (or the deepest exit head below it)
///     speculative:DRAFT[:…][:n]    drafts from another policy, e.g. speculative:sec:0.9:0.8:4
///     speculative:skip[:layers[:n]] drafts by the whole network without these layers' blocks,
///                                  e.g. speculative:skip:8,10,12-15:4 (empty: the model's searched set)
///     speculative:lookup[:n]       drafts copied from the context (prompt lookup), e.g. speculative:lookup:2
///
/// A bare name or an empty field keeps the default. Defaults, one per knob:
/// τ_exit 0.9, τ_stop 0.8, λ 0.9 (softmax) and 0.99 (saturation), the fixed exit layer
/// k = ⌊L/2⌋ and the draft layer ⌊L/4⌋ (each at least 1), draft length 4, drafts `skip` (the
/// model's searched set).
public struct PolicyConfiguration: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let defaultTauExit: Float = 0.9
    public static let defaultTauStop: Float = 0.8
    public static let defaultSoftmaxLambda: Float = 0.9
    public static let defaultSaturationLambda: Float = 0.99
    public static let defaultDraftLength = 4
    /// The policy `complete` and `play` use without `--policy`: the paper's Stop&Exit Controller.
    /// A model without a controller falls back to `full`, and says so.
    public static let defaultKind: PolicyKind = .sec

    /// `fixed` without k: half depth, where exits save half the blocks.
    public static func defaultExitLayer(layerCount L: Int) -> Int { max(1, L / 2) }
    /// Speculative drafts without k: a quarter of the depth, cheap enough that rejected drafts cost little.
    public static func defaultDraftLayer(layerCount L: Int) -> Int { max(1, L / 4) }

    public var kind: PolicyKind
    /// sec (and a sec draft): exit when exit is the controller's argmax and p_exit > τ_exit; above 1 never exits.
    public var tauExit: Float = Self.defaultTauExit
    /// sec (and a sec draft): stop when stop is the argmax and p_stop > τ_stop; above 1 never stops.
    public var tauStop: Float = Self.defaultTauStop
    /// softmax (and a softmax draft): the top-1 − top-2 margin to exit at.
    public var softmaxLambda: Float = Self.defaultSoftmaxLambda
    /// saturation (and a saturation draft): the cosine to exit at.
    public var saturationLambda: Float = Self.defaultSaturationLambda
    /// fixed: the exit layer k (1…L, L being full depth); nil: `defaultExitLayer`.
    public var exitLayer: Int?
    /// The draft a bare `speculative` makes: the faster of the two draft models measured on SmolLM2
    /// (BENCHMARKS.md, "Speculative drafts on SmolLM2"). `speculative:k:n` always drafts by a fixed exit.
    public static let defaultDraft: DraftKind = .skip

    /// speculative: how drafts are made.
    public var draft: DraftKind = Self.defaultDraft
    /// speculative with fixed drafts: the draft layer (1…L); nil: `defaultDraftLayer`.
    public var draftLayer: Int?
    /// speculative with skip drafts: the layers left out; nil: the model's searched set.
    public var skipLayers: LayerSet?
    /// speculative: drafts per full-depth verification (≥ 1).
    public var draftLength: Int = Self.defaultDraftLength

    public init(_ kind: PolicyKind) { self.kind = kind }

    /// Each kind with its defaults, so a call site can say `policy: .sec`.
    public static let full = PolicyConfiguration(.full)
    public static let sec = PolicyConfiguration(.sec)
    public static let softmax = PolicyConfiguration(.softmax)
    public static let saturation = PolicyConfiguration(.saturation)
    public static let fixed = PolicyConfiguration(.fixed)
    public static let speculative = PolicyConfiguration(.speculative)

    // MARK: Which knobs a setting reads

    /// The knobs a setting reads (others keep their values but do not matter).
    public enum Knob: String, Sendable, CaseIterable {
        case tauExit, tauStop, softmaxLambda, saturationLambda, exitLayer, draft, draftLayer, skipLayers, draftLength

        /// As the paper and the playground write it.
        public var symbol: String {
            switch self {
            case .tauExit: return "τ_exit"
            case .tauStop: return "τ_stop"
            case .softmaxLambda, .saturationLambda: return "λ"
            case .exitLayer, .draftLayer: return "k"
            case .draft: return "draft"
            case .skipLayers: return "skip"
            case .draftLength: return "n"
            }
        }

        /// The command-line option that sets it.
        public var flag: String {
            switch self {
            case .tauExit: return "--tau-exit"
            case .tauStop: return "--tau-stop"
            case .softmaxLambda, .saturationLambda: return "--lambda"
            case .exitLayer, .draftLayer: return "--exit-layer"
            case .draft: return "--draft"
            case .skipLayers: return "--skip-layers"
            case .draftLength: return "--draft-length"
            }
        }
    }

    /// The knobs this setting reads, in spec order.
    public var knobs: [Knob] {
        switch kind {
        case .full: return []
        case .sec: return [.tauExit, .tauStop]
        case .softmax: return [.softmaxLambda]
        case .saturation: return [.saturationLambda]
        case .fixed: return [.exitLayer]
        case .speculative: return [.draft] + draftKnobs + [.draftLength]
        }
    }

    /// The knobs of the draft policy.
    private var draftKnobs: [Knob] {
        switch draft {
        case .fixed: return [.draftLayer]
        case .sec: return [.tauExit, .tauStop]
        case .softmax: return [.softmaxLambda]
        case .saturation: return [.saturationLambda]
        case .skip: return [.skipLayers]
        case .lookup: return []
        }
    }

    /// What the model needs for this setting on `layerCount` layers: heads to exit through
    /// (unless every exit is at full depth), the controller for sec.
    public func requirements(layerCount L: Int) -> PolicyRequirements {
        switch kind {
        case .full: return []
        case .sec: return .controller
        case .softmax, .saturation: return .exitHeads
        case .fixed: return resolvedExitLayer(layerCount: L) < L ? .exitHeads : []
        case .speculative:
            switch draft {
            case .fixed: return resolvedDraftLayer(layerCount: L) < L ? .exitHeads : []
            case .sec: return .controller
            case .softmax, .saturation: return .exitHeads
            case .skip: return [] // the model's own final norm and head
            case .lookup: return []
            }
        }
    }

    public func resolvedExitLayer(layerCount L: Int) -> Int { exitLayer ?? Self.defaultExitLayer(layerCount: L) }
    public func resolvedDraftLayer(layerCount L: Int) -> Int { draftLayer ?? Self.defaultDraftLayer(layerCount: L) }

    // MARK: Checking and building

    /// Refuses values that cannot mean anything, with a one-line reason: a NaN, infinite or
    /// negative threshold (τ above 1 is allowed: it disables that action, as λ above 1 does), a
    /// layer outside 1…L (once `layerCount` is known), a draft length below 1.
    /// Every knob is checked, read or not: a bad value is bad input wherever it sits.
    public func validate(layerCount: Int? = nil) throws {
        for (knob, value) in [(Knob.tauExit, tauExit), (.tauStop, tauStop), (.softmaxLambda, softmaxLambda), (.saturationLambda, saturationLambda)] {
            guard value.isFinite, value >= 0 else {
                throw PolicyConfigurationError(knob: knob, "must be a finite number ≥ 0, got \(Self.format(value))")
            }
        }
        for (knob, layer) in [(Knob.exitLayer, exitLayer), (.draftLayer, draftLayer)] {
            guard let layer else { continue }
            if let L = layerCount {
                guard (1...max(1, L)).contains(layer) else {
                    throw PolicyConfigurationError(knob: knob, "must be a layer in 1…\(L) for this \(L)-layer model, got \(layer)")
                }
            } else if layer < 1 {
                throw PolicyConfigurationError(knob: knob, "must be a layer ≥ 1, got \(layer)")
            }
        }
        if let skipLayers, let L = layerCount {
            do { try skipLayers.validate(layerCount: L) } catch let error as LayerSetError {
                throw PolicyConfigurationError(knob: .skipLayers, error.problem)
            }
        }
        guard draftLength >= 1 else { throw PolicyConfigurationError(knob: .draftLength, "must be ≥ 1, got \(draftLength)") }
    }

    /// The per-token policy and, for `speculative`, the drafting settings (the per-token policy is
    /// then full depth: speculative decoding verifies every token at layer L).
    public func makePolicy(layerCount L: Int) throws -> (policy: any ExitPolicy, speculative: SpeculativeOptions?) {
        try validate(layerCount: L)
        switch kind {
        case .full: return (FullDepthPolicy(), nil)
        case .sec: return (SECPolicy(tauExit: tauExit, tauStop: tauStop), nil)
        case .softmax: return (SoftmaxConfidencePolicy(lambda: softmaxLambda), nil)
        case .saturation: return (SaturationPolicy(lambda: saturationLambda), nil)
        case .fixed: return (FixedLayerPolicy(layer: resolvedExitLayer(layerCount: L)), nil)
        case .speculative:
            let made: SpeculativeDraft
            switch draft {
            case .fixed: made = .earlyExit(FixedLayerPolicy(layer: resolvedDraftLayer(layerCount: L)))
            case .sec: made = .earlyExit(SECPolicy(tauExit: tauExit, tauStop: tauStop))
            case .softmax: made = .earlyExit(SoftmaxConfidencePolicy(lambda: softmaxLambda))
            case .saturation: made = .earlyExit(SaturationPolicy(lambda: saturationLambda))
            case .skip: made = .skipLayers(skipLayers)
            case .lookup: made = .lookup
            }
            return (FullDepthPolicy(), SpeculativeOptions(draft: made, draftLength: draftLength))
        }
    }

    // MARK: Spec strings

    /// Parses a spec (see the type's documentation) and checks its values.
    public init(parsing spec: String) throws {
        func fail(_ problem: String) -> PolicyConfigurationError { PolicyConfigurationError(spec: spec, problem) }
        var fields = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let kind = PolicyKind(rawValue: fields.removeFirst()) else {
            throw fail("is not one of full, sec:τexit:τstop, softmax:λ, saturation:λ, fixed:k, speculative:k:n, speculative:skip:layers:n")
        }
        self.init(kind)
        var knobs = self.knobs
        if kind == .speculative {
            knobs.removeFirst() // .draft: named in the spec only when not fixed
            if let name = fields.first, let draft = DraftKind(rawValue: name) {
                self.draft = draft
                fields.removeFirst()
            } else if let first = fields.first, !first.isEmpty {
                self.draft = .fixed // `speculative:k:n`: a number in the draft's place is a fixed draft layer
            }
            knobs = draftKnobs + [.draftLength]
        }
        guard fields.count <= knobs.count else {
            throw fail("has \(fields.count) value(s) after '\(kind.rawValue)'; it takes at most \(knobs.count) (\(knobs.map(\.symbol).joined(separator: ", ")))")
        }
        for (knob, field) in zip(knobs, fields) where !field.isEmpty {
            try set(knob, field, fail)
        }
        do { try validate() } catch var error as PolicyConfigurationError {
            error.spec = spec
            throw error
        }
    }

    private mutating func set(_ knob: Knob, _ text: String, _ fail: (String) -> PolicyConfigurationError) throws {
        func number() throws -> Float {
            guard let v = Float(text) else { throw fail("\(knob.symbol) '\(text)' is not a number") }
            return v
        }
        func whole() throws -> Int {
            guard let v = Int(text) else { throw fail("\(knob.symbol) '\(text)' is not a whole number") }
            return v
        }
        switch knob {
        case .tauExit: tauExit = try number()
        case .tauStop: tauStop = try number()
        case .softmaxLambda: softmaxLambda = try number()
        case .saturationLambda: saturationLambda = try number()
        case .exitLayer: exitLayer = try whole()
        case .draftLayer: draftLayer = try whole()
        case .draftLength: draftLength = try whole()
        case .skipLayers:
            do { skipLayers = try LayerSet(parsing: text) } catch let error as LayerSetError {
                throw fail("skip layers '\(text)': \(error.problem)")
            }
        case .draft: break // named, not numbered
        }
    }

    /// The spec that parses back to this setting: every threshold written out, a layer left
    /// empty when it is the default (resolved only once the model's depth is known).
    public var description: String {
        var fields = [kind.rawValue]
        // The draft is named unless a layer number says it (`speculative:3:4`), so it parses back.
        if kind == .speculative && (draft != .fixed || (draftLayer == nil && Self.defaultDraft != .fixed)) {
            fields.append(draft.rawValue)
        }
        for knob in knobs where knob != .draft {
            switch knob {
            case .tauExit: fields.append(Self.format(tauExit))
            case .tauStop: fields.append(Self.format(tauStop))
            case .softmaxLambda: fields.append(Self.format(softmaxLambda))
            case .saturationLambda: fields.append(Self.format(saturationLambda))
            case .exitLayer: fields.append(exitLayer.map(String.init) ?? "")
            case .draftLayer: fields.append(draftLayer.map(String.init) ?? "")
            case .skipLayers: fields.append(skipLayers?.description ?? "")
            case .draftLength: fields.append(String(draftLength))
            case .draft: break
            }
        }
        // Trailing defaults that print as nothing are dropped: `fixed`, not `fixed:`.
        while fields.count > 1, fields.last == "" { fields.removeLast() }
        if kind == .speculative && draft == Self.defaultDraft && draftLength == Self.defaultDraftLength
            && (draft == .fixed ? draftLayer == nil : draft == .skip ? skipLayers == nil : false) {
            return kind.rawValue
        }
        return fields.joined(separator: ":")
    }

    /// Shortest text that parses back to the same Float; whole numbers without ".0" (`sec:0.6:2`).
    static func format(_ x: Float) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e6 { return String(Int(x)) }
        return x.description
    }
}

/// A setting that cannot be used, as one line: which spec or option, and why.
public struct PolicyConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The spec string, when the setting came from one.
    public var spec: String?
    /// The knob at fault, if one is.
    public var knob: PolicyConfiguration.Knob?
    public var problem: String

    public init(spec: String? = nil, knob: PolicyConfiguration.Knob? = nil, _ problem: String) {
        self.spec = spec
        self.knob = knob
        self.problem = problem
    }

    public var description: String {
        switch (spec, knob) {
        case let (spec?, knob?): return "policy '\(spec)': \(knob.symbol) \(problem)"
        case let (spec?, nil): return "policy '\(spec)': \(problem)"
        case let (nil, knob?): return "\(knob.flag) (\(knob.symbol)) \(problem)"
        case (nil, nil): return problem
        }
    }
}
