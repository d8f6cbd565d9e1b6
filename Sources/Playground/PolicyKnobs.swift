import EarlyExit
import Foundation

/// The live decoding setting: which policy (F2 cycles) and its knobs (F5/F6 change the
/// selected one, F7 selects which). The next suggestion uses it. The setting itself, its
/// defaults and what it requires are `PolicyConfiguration`'s; this adds steps and ranges.
public struct PolicyKnobs: Sendable, Equatable {
    /// One adjustable number.
    public struct Knob: Sendable, Equatable {
        public var name: String
        public var value: Double
        public var step: Double
        public var range: ClosedRange<Double>
        public var isInteger: Bool
        public var formatted: String { isInteger ? String(Int(value)) : String(format: "%.3g", value) }
    }

    public var configuration: PolicyConfiguration
    public let layerCount: Int
    /// Which of `knobs` F5/F6 change.
    public var selected = 0

    public var kind: PolicyKind { configuration.kind }

    public init(_ configuration: PolicyConfiguration, layerCount: Int) {
        self.configuration = configuration
        self.layerCount = max(1, layerCount)
    }

    /// The knobs F5/F6 move: the setting's numbers, with the playground's steps and ranges
    /// (τ up to 1.05 so an action can be switched off, layers 1…L, at most 16 drafts).
    public var knobs: [Knob] {
        let L = Double(layerCount), c = configuration
        return c.knobs.compactMap { knob in
            switch knob {
            case .tauExit: return Knob(name: "τexit", value: Double(c.tauExit), step: 0.05, range: 0...1.05, isInteger: false)
            case .tauStop: return Knob(name: "τstop", value: Double(c.tauStop), step: 0.05, range: 0...1.05, isInteger: false)
            case .softmaxLambda: return Knob(name: "λ", value: Double(c.softmaxLambda), step: 0.05, range: 0...1, isInteger: false)
            case .saturationLambda: return Knob(name: "λ", value: Double(c.saturationLambda), step: 0.005, range: 0...1, isInteger: false)
            case .exitLayer:
                return Knob(name: "k", value: Double(c.resolvedExitLayer(layerCount: layerCount)), step: 1, range: 1...L, isInteger: true)
            case .draftLayer:
                return Knob(name: "k", value: Double(c.resolvedDraftLayer(layerCount: layerCount)), step: 1, range: 1...L, isInteger: true)
            case .draftLength: return Knob(name: "n", value: Double(c.draftLength), step: 1, range: 1...16, isInteger: true)
            case .draft, .skipLayers: return nil // chosen on the command line, not stepped
            }
        }
    }

    /// The configuration knobs behind `knobs`, in the same order.
    private var adjustable: [PolicyConfiguration.Knob] { configuration.knobs.filter { $0 != .draft && $0 != .skipLayers } }

    /// F5 / F6: move the selected knob by one step, clamped.
    public mutating func adjust(by steps: Int) {
        let list = knobs
        guard !list.isEmpty else { return }
        let i = min(selected, list.count - 1)
        let knob = list[i]
        var v = knob.value + Double(steps) * knob.step
        v = min(max(v, knob.range.lowerBound), knob.range.upperBound)
        v = (v * 1000).rounded() / 1000 // keep 0.85, not 0.8500000001
        switch adjustable[i] {
        case .tauExit: configuration.tauExit = Float(v)
        case .tauStop: configuration.tauStop = Float(v)
        case .softmaxLambda: configuration.softmaxLambda = Float(v)
        case .saturationLambda: configuration.saturationLambda = Float(v)
        case .exitLayer: configuration.exitLayer = Int(v)
        case .draftLayer: configuration.draftLayer = Int(v)
        case .draftLength: configuration.draftLength = Int(v)
        case .draft, .skipLayers: break
        }
    }

    /// F7: select the next knob.
    public mutating func selectNextKnob() {
        let n = knobs.count
        selected = n == 0 ? 0 : (selected + 1) % n
    }

    /// F2: the next policy the model can run (`available`: see `ModelInfo.supports`); every
    /// knob keeps its value, so cycling back finds the thresholds as they were left.
    public mutating func cycle(available: (PolicyConfiguration) -> Bool) {
        let all = PolicyKind.allCases
        guard let start = all.firstIndex(of: kind) else { return }
        for offset in 1...all.count {
            var next = configuration
            next.kind = all[(start + offset) % all.count]
            if available(next) { configuration = next; selected = 0; return }
        }
    }

    /// The per-token policy and speculative settings for the next request. The knobs' ranges
    /// keep the configuration valid; should it not be, the suggestion falls back to full depth.
    public var policy: any ExitPolicy { made.policy }
    public var speculative: SpeculativeOptions? { made.speculative }

    private var made: (policy: any ExitPolicy, speculative: SpeculativeOptions?) {
        (try? configuration.makePolicy(layerCount: layerCount)) ?? (FullDepthPolicy(), nil)
    }

    /// "sec τexit=0.9 ▸τstop=0.8": the selected knob marked.
    public var summary: String {
        let list = knobs
        let parts = list.enumerated().map { i, k in (i == selected && list.count > 1 ? "▸" : "") + "\(k.name)=\(k.formatted)" }
        let draft = kind == .speculative && configuration.draft != .fixed ? [configuration.draft.rawValue] : []
        return ([kind.rawValue] + draft + parts).joined(separator: " ")
    }
}
