import Foundation

/// How the next token is chosen from logits.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0 = off).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability reaches p (1 = off).
    public var topP: Float = 1
    /// CTRL-style penalty on tokens already in the context (1 = off, the default).
    public var repetitionPenalty: Float = 1
    /// Seed of the random generator, for reproducible sampling.
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    /// Greedy decoding: the reference every early-exit policy is compared with.
    public static let greedy = SamplingParameters()

    /// Whether these parameters pick the argmax.
    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}

/// SplitMix64: a tiny, fast, seedable generator (sampling needs reproducibility, not cryptography).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Picks tokens from logits according to `SamplingParameters`.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SplitMix64

    public init(_ parameters: SamplingParameters = .greedy) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
    }

    /// Index of the largest logit (the first one on ties, like `torch.argmax`).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue { best = i; bestValue = v }
        return best
    }

    /// Chooses the next token. `context` holds the ids the repetition penalty applies to.
    public mutating func next(_ logits: UnsafeBufferPointer<Float>, context: [Int] = []) -> Int {
        let p = parameters
        if p.repetitionPenalty == 1 && p.isGreedy { return Self.argmax(logits) }
        var values = Array(logits)
        if p.repetitionPenalty != 1 {
            for id in Set(context) where id >= 0 && id < values.count {
                values[id] = values[id] > 0 ? values[id] / p.repetitionPenalty : values[id] * p.repetitionPenalty
            }
        }
        if p.isGreedy { return values.withUnsafeBufferPointer { Self.argmax($0) } }

        // Candidates sorted by logit, cut by top-k, then turned into probabilities.
        var order = Array(values.indices)
        order.sort { values[$0] > values[$1] }
        if p.topK > 0 && p.topK < order.count { order.removeSubrange(p.topK...) }
        let maxLogit = values[order[0]]
        var probs = order.map { exp(Double((values[$0] - maxLogit) / p.temperature)) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        if p.topP < 1 {
            var cumulative = 0.0
            var keep = 0
            while keep < probs.count {
                cumulative += probs[keep]
                keep += 1
                if cumulative >= Double(p.topP) { break }
            }
            order.removeSubrange(keep...)
            probs.removeSubrange(keep...)
            let kept = probs.reduce(0, +)
            for i in probs.indices { probs[i] /= kept }
        }
        let u = Double(rng.next() >> 11) / Double(1 << 53)
        var acc = 0.0
        for (i, prob) in probs.enumerated() {
            acc += prob
            if u < acc { return order[i] }
        }
        return order[order.count - 1]
    }
}

