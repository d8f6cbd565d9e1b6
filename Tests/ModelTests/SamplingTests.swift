import Foundation
import Model
import Testing

/// Sampling: each option changes the distribution the way its definition says.
@Suite struct SamplingTests {
    let logits: [Float] = [2.0, 1.0, 0.5, 3.0, -1.0, 2.9]

    func draw(_ p: SamplingParameters, times: Int = 4000, context: [Int] = []) -> [Int: Int] {
        var sampler = Sampler(p)
        var counts: [Int: Int] = [:]
        for _ in 0..<times { counts[logits.withUnsafeBufferPointer { sampler.next($0, context: context) }, default: 0] += 1 }
        return counts
    }

    @Test func greedyIsArgmaxAndFirstOnTies() {
        #expect(draw(.greedy, times: 5) == [3: 5])
        let tied: [Float] = [1, 4, 4, 0]
        #expect(tied.withUnsafeBufferPointer { Sampler.argmax($0) } == 1)
    }

    @Test func topKKeepsOnlyTheKMostLikely() {
        let counts = draw(SamplingParameters(temperature: 1, topK: 2, seed: 1))
        #expect(Set(counts.keys) == [3, 5])
    }

    @Test func topPKeepsTheSmallestNucleus() {
        // Probabilities ∝ e^logit: 3.0 and 2.9 carry ~0.67 together; p = 0.6 keeps both, not the third.
        let counts = draw(SamplingParameters(temperature: 1, topP: 0.6, seed: 2))
        #expect(Set(counts.keys) == [3, 5])
        #expect(Set(draw(SamplingParameters(temperature: 1, topP: 0.3, seed: 2)).keys) == [3])
    }

    @Test func temperatureSharpensAndFlattens() {
        let cold = draw(SamplingParameters(temperature: 0.2, seed: 3))
        let hot = draw(SamplingParameters(temperature: 5, seed: 3))
        #expect((cold[3] ?? 0) > (hot[3] ?? 0))
        #expect(hot.keys.count == logits.count) // every token shows up when hot
        // Frequencies follow softmax(logits / T) within sampling noise.
        let t: Float = 1
        let counts = draw(SamplingParameters(temperature: t, seed: 4), times: 20000)
        let z = logits.map { exp(Double($0 / t)) }, total = z.reduce(0, +)
        for (i, zi) in z.enumerated() {
            #expect(abs(Double(counts[i] ?? 0) / 20000 - zi / total) < 0.015, "token \(i)")
        }
    }

    @Test func seedsReproduceAndDiffer() {
        let a = draw(SamplingParameters(temperature: 1, seed: 7), times: 50)
        let b = draw(SamplingParameters(temperature: 1, seed: 7), times: 50)
        #expect(a == b)
        var s1 = Sampler(SamplingParameters(temperature: 1, seed: 7)), s2 = Sampler(SamplingParameters(temperature: 1, seed: 8))
        let x = (0..<50).map { _ in logits.withUnsafeBufferPointer { s1.next($0) } }
        let y = (0..<50).map { _ in logits.withUnsafeBufferPointer { s2.next($0) } }
        #expect(x != y)
    }

    @Test func repetitionPenaltyIsOffByDefaultAndDemotesSeenTokens() {
        #expect(SamplingParameters().repetitionPenalty == 1)
        // Token 3 (logit 3.0) seen: 3.0 / 1.5 = 2.0 < 2.9, so greedy picks token 5.
        #expect(draw(SamplingParameters(repetitionPenalty: 1.5), times: 3, context: [3]) == [5: 3])
        // A negative logit is multiplied, pushing it further down.
        #expect(draw(SamplingParameters(repetitionPenalty: 1.5), times: 3, context: [4]) == [3: 3])
    }
}
