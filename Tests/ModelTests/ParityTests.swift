import Foundation
import Kernels
import Model
import Testing

/// The forward pass against Hugging Face transformers (fixtures from `training/fixtures.py`).
@Suite struct ParityTests {
    /// F32 logits must match PyTorch to 1e-4 (the bound); F16 weights are exact in
    /// the file, so the same bound applies.
    static let logitTolerance: Float = 1e-4
    /// The residual stream grows to |h| ≈ 15 here; 1e-4 absolute is ~1e-5 relative.
    static let hiddenTolerance: Float = 1e-4

    @Test(arguments: Fixtures.names)
    func logitsMatchTransformersAtEveryPosition(name: String) throws {
        let model = try Fixtures.model(name)
        let (expected, tensors) = try Fixtures.expected(name)
        for (i, prompt) in expected.prompts.enumerated() {
            let cache = model.makeCache()
            let out = try model.prefill(prompt.ids, cache: cache, allLogits: true)
            let reference = try tensors.floats("prompt\(i).logits")
            let diff = maxAbsDifference(out.logits, reference)
            #expect(diff <= Self.logitTolerance, "\(name) prompt \(i): max |Δlogit| = \(diff)")
        }
    }

    @Test(arguments: Fixtures.names)
    func hiddenStateAfterEveryLayerMatches(name: String) throws {
        let model = try Fixtures.model(name)
        let (expected, tensors) = try Fixtures.expected(name)
        for (i, prompt) in expected.prompts.enumerated() {
            let out = try model.prefill(prompt.ids, cache: model.makeCache(), captureHidden: true)
            let reference = try tensors.floats("prompt\(i).hidden")
            let perLayer = prompt.ids.count * model.shape.embeddingSize
            #expect(out.hiddenStates.count == expected.layers)
            for layer in 0..<expected.layers {
                let ref = Array(reference[(layer * perLayer)..<((layer + 1) * perLayer)])
                // Float rounding grows with the residual stream's magnitude (|h| up to ~20 in tiny-qwen2).
                let bound = max(Self.hiddenTolerance, 1e-5 * (ref.map(abs).max() ?? 0))
                let diff = maxAbsDifference(out.hiddenStates[layer], ref)
                #expect(diff <= bound, "\(name) prompt \(i) layer \(layer): max |Δh| = \(diff)")
            }
        }
    }

    @Test(arguments: Fixtures.names)
    func incrementalDecodeEqualsFullRecompute(name: String) throws {
        let model = try Fixtures.model(name)
        let (expected, tensors) = try Fixtures.expected(name)
        let prompt = expected.prompts[2]
        let reference = try tensors.floats("prompt2.logits")
        let V = model.shape.vocabularySize
        // Prefill a few tokens, then decode the rest one at a time through the KV cache.
        let cache = model.makeCache()
        _ = try model.prefill(Array(prompt.ids.prefix(5)), cache: cache)
        let ws = model.makeWorkspace()
        for (offset, token) in prompt.ids.dropFirst(5).enumerated() {
            let logits = Array(try model.decode(token, cache: cache, workspace: ws))
            let position = 5 + offset
            let diff = maxAbsDifference(logits, Array(reference[(position * V)..<((position + 1) * V)]))
            #expect(diff <= Self.logitTolerance, "position \(position): max |Δlogit| = \(diff)")
        }
        #expect(cache.length == prompt.ids.count)
    }

    @Test(arguments: Fixtures.names)
    func greedyContinuationIsIdentical(name: String) throws {
        let model = try Fixtures.model(name)
        let (expected, _) = try Fixtures.expected(name)
        for prompt in expected.prompts {
            let cache = model.makeCache()
            let ws = model.makeWorkspace()
            var logits = try model.prefill(prompt.ids, cache: cache).logits
            var generated: [Int] = []
            var sampler = Sampler(.greedy)
            while generated.count < prompt.greedy.count {
                let next = logits.withUnsafeBufferPointer { sampler.next($0) }
                generated.append(next)
                logits = Array(try model.decode(next, cache: cache, workspace: ws))
            }
            #expect(generated == prompt.greedy, "prompt \(prompt.text.debugDescription)")
        }
    }

    @Test(arguments: [1, 3, 16])
    func chunkedPrefillAndThreadsAgree(chunkSize: Int) throws {
        let one = try Fixtures.model("tiny-f32", threads: 1)
        let two = try Fixtures.model("tiny-f32", threads: 2)
        let (expected, _) = try Fixtures.expected("tiny-f32")
        let ids = expected.prompts[2].ids
        let a = try one.prefill(ids, cache: one.makeCache(), allLogits: true, chunkSize: 64).logits
        let b = try two.prefill(ids, cache: two.makeCache(), allLogits: true, chunkSize: chunkSize).logits
        #expect(maxAbsDifference(a, b) <= 1e-5)
    }

    @Test func contextOverflowAndBadTokensAreErrors() throws {
        let model = try Fixtures.model("tiny-f32")
        let cache = model.makeCache()
        #expect(throws: ModelError.self) { try model.prefill([model.shape.vocabularySize], cache: cache) }
        #expect(throws: ModelError.self) { try model.prefill([-1], cache: cache) }
        let tooLong = Array(repeating: 1, count: model.shape.contextLength + 1)
        #expect(throws: ModelError.self) { try model.prefill(tooLong, cache: cache) }
        #expect(cache.length == 0)
    }
}

/// Multi-threaded decoding must be bit-for-bit as deterministic as single-threaded decoding.
@Suite struct ThreadDeterminismTests {
    @Test func twoThreadDecodeRepeatsExactly() throws {
        let one = try Fixtures.gpt2("tiny-f32", threads: 1)
        let two = GPT2(weights: one.weights, threads: 2)
        let (expected, _) = try Fixtures.expected("tiny-f32")
        let prompt = expected.prompts[1].ids
        func run(_ model: GPT2) throws -> [Float] {
            let cache = model.makeCache()
            let ws = model.makeWorkspace()
            var out = try model.prefill(prompt, cache: cache).logits
            for t in [5, 17, 99, 3, 250, 42] { out += try model.decode(t, cache: cache, workspace: ws) }
            return out
        }
        let reference = try run(one)
        for attempt in 0..<20 {
            let got = try run(two)
            let diff = maxAbsDifference(got, reference)
            #expect(diff <= 1e-5, "attempt \(attempt): max |Δ| = \(diff)")
            if diff > 1e-5 { break }
        }
    }
}
