import Completion
import EarlyExit
import Foundation

/// The live decoding settings: which policy (F2 cycles) and its thresholds (F5/F6 change the
/// selected one, F7 selects which). The next suggestion uses them.
public struct PolicyKnobs: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case full, sec, softmax, saturation, fixed, speculative
    }

    /// One adjustable number.
    public struct Knob: Sendable, Equatable {
        public var name: String
        public var value: Double
        public var step: Double
        public var range: ClosedRange<Double>
        public var isInteger: Bool
        public var formatted: String { isInteger ? String(Int(value)) : String(format: "%.3g", value) }
    }

    public var kind: Kind
    public var layerCount: Int
    public var tauExit = 0.9
    public var tauStop = 0.8
    public var softmaxLambda = 0.9
    public var saturationLambda = 0.99
    public var fixedLayer: Int
    public var draftLayer: Int
    public var draftLength = 4
    /// Which of `knobs` F5/F6 change.
    public var selected = 0

    public init(kind: Kind = .full, layerCount: Int) {
        self.kind = kind
        self.layerCount = max(1, layerCount)
        fixedLayer = max(1, layerCount / 2)
        draftLayer = max(1, layerCount / 4)
    }

    public var knobs: [Knob] {
        let L = Double(layerCount)
        switch kind {
        case .full: return []
        case .sec:
            return [Knob(name: "τexit", value: tauExit, step: 0.05, range: 0...1.05, isInteger: false),
                    Knob(name: "τstop", value: tauStop, step: 0.05, range: 0...1.05, isInteger: false)]
        case .softmax: return [Knob(name: "λ", value: softmaxLambda, step: 0.05, range: 0...1, isInteger: false)]
        case .saturation: return [Knob(name: "λ", value: saturationLambda, step: 0.005, range: 0...1, isInteger: false)]
        case .fixed: return [Knob(name: "k", value: Double(fixedLayer), step: 1, range: 1...L, isInteger: true)]
        case .speculative:
            return [Knob(name: "k", value: Double(draftLayer), step: 1, range: 1...L, isInteger: true),
                    Knob(name: "n", value: Double(draftLength), step: 1, range: 1...16, isInteger: true)]
        }
    }

    /// F5 / F6: move the selected knob by one step, clamped.
    public mutating func adjust(by steps: Int) {
        let list = knobs
        guard !list.isEmpty else { return }
        let i = min(selected, list.count - 1)
        let knob = list[i]
        var v = knob.value + Double(steps) * knob.step
        v = min(max(v, knob.range.lowerBound), knob.range.upperBound)
        v = (v * 1000).rounded() / 1000 // keep 0.85, not 0.8500000001
        switch (kind, i) {
        case (.sec, 0): tauExit = v
        case (.sec, _): tauStop = v
        case (.softmax, _): softmaxLambda = v
        case (.saturation, _): saturationLambda = v
        case (.fixed, _): fixedLayer = Int(v)
        case (.speculative, 0): draftLayer = Int(v)
        case (.speculative, _): draftLength = Int(v)
        case (.full, _): break
        }
    }

    /// F7: select the next knob.
    public mutating func selectNextKnob() {
        let n = knobs.count
        selected = n == 0 ? 0 : (selected + 1) % n
    }

    /// F2: the next policy; `available` says which the model can run (SEC needs the
    /// controller, the CALM baselines need exit heads).
    public mutating func cycle(available: (Kind) -> Bool) {
        let all = Kind.allCases
        guard let start = all.firstIndex(of: kind) else { return }
        for offset in 1...all.count {
            let next = all[(start + offset) % all.count]
            if available(next) { kind = next; selected = 0; return }
        }
    }

    public var policy: any ExitPolicy {
        switch kind {
        case .full, .speculative: return FullDepthPolicy()
        case .sec: return SECPolicy(tauExit: Float(tauExit), tauStop: Float(tauStop))
        case .softmax: return SoftmaxConfidencePolicy(lambda: Float(softmaxLambda))
        case .saturation: return SaturationPolicy(lambda: Float(saturationLambda))
        case .fixed: return FixedLayerPolicy(layer: fixedLayer)
        }
    }

    public var speculative: SpeculativeOptions? {
        kind == .speculative ? SpeculativeOptions(draftPolicy: FixedLayerPolicy(layer: draftLayer), draftLength: draftLength) : nil
    }

    /// "sec τexit=0.9 ▸τstop=0.8": the selected knob marked.
    public var summary: String {
        let list = knobs
        let parts = list.enumerated().map { i, k in (i == selected && list.count > 1 ? "▸" : "") + "\(k.name)=\(k.formatted)" }
        return ([kind.rawValue] + parts).joined(separator: " ")
    }
}
