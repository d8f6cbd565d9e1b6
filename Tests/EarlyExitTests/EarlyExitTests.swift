import EarlyExit
import Foundation
import Kernels
import Model
import SafeTensors
import TestSupport
import Testing

/// Exit heads and the controller against PyTorch; policies that never exit against `full`.
@Suite struct EarlyExitReferenceTests {
    @Test(arguments: EarlyExitFixtures.names)
    func exitHeadLogitsMatchPyTorch(name: String) throws {
        let model = try EarlyExitFixtures.model(name)
        let network = model.network, L = network.shape.layerCount, V = network.shape.vocabularySize, d = network.shape.embeddingSize
        let heads = try #require(model.heads)
        let ws = network.makeWorkspace()
        let (expected, tensors) = try EarlyExitFixtures.expected(name)
        for (i, prompt) in expected.prompts.enumerated() {
            let n = prompt.ids.count
            let hidden = try network.prefill(prompt.ids, cache: network.makeCache(), captureHidden: true).hiddenStates
            let reference = try tensors.floats("prompt\(i).exit_logits")
            var got: [Float] = []
            let out = FloatBuffer(count: V)
            for l in 1..<L {
                for t in 0..<n {
                    hidden[l - 1].withUnsafeBufferPointer { h in
                        heads.logits(layer: l, hidden: h.baseAddress! + t * d, into: out.pointer, network: network, workspace: ws)
                    }
                    got += out.array
                }
            }
            let diff = maxAbsDifference(got, reference)
            #expect(diff <= 1e-4, "\(name) prompt \(i): max |Δlogit| = \(diff)")
        }
    }

    @Test(arguments: EarlyExitFixtures.names)
    func controllerDecisionsMatchPyTorch(name: String) throws {
        let model = try EarlyExitFixtures.model(name)
        let network = model.network, L = network.shape.layerCount, d = network.shape.embeddingSize
        let controller = try #require(model.controller)
        let (expected, tensors) = try EarlyExitFixtures.expected(name)
        var decided = Set<ExitDecision>()
        for (i, prompt) in expected.prompts.enumerated() {
            let n = prompt.ids.count
            let hidden = try network.prefill(prompt.ids, cache: network.makeCache(), captureHidden: true).hiddenStates
            let probs = try tensors.floats("prompt\(i).controller")
            let decisions = try tensors.floats("prompt\(i).decisions")
            for l in 1...L {
                for t in 0..<n {
                    let p = hidden[l - 1].withUnsafeBufferPointer { controller.probabilities($0.baseAddress! + t * d) }
                    let base = ((l - 1) * n + t) * 3
                    #expect(abs(p.stop - probs[base]) <= 1e-5 && abs(p.exit - probs[base + 1]) <= 1e-5
                            && abs(p.continue - probs[base + 2]) <= 1e-5, "\(name) prompt \(i) layer \(l) position \(t)")
                    guard l < L else { continue }
                    for (k, pair) in expected.pairs.enumerated() {
                        let want = [ExitDecision.stop, .exit, .continue][Int(decisions[(k * (L - 1) + (l - 1)) * n + t])]
                        let got = StopExitController.decide(p, tauExit: pair[0], tauStop: pair[1])
                        #expect(got == want, "\(name) prompt \(i) layer \(l) pos \(t) τ=\(pair): \(got) vs \(want)")
                        decided.insert(got)
                    }
                }
            }
        }
        // The fixture exercises all three outcomes, so a rule that ignores one would fail above.
        #expect(decided == [.stop, .exit, .continue])
    }

    @Test(arguments: EarlyExitFixtures.names)
    func policiesThatCannotFireEqualFull(name: String) throws {
        let model = try EarlyExitFixtures.model(name)
        let L = model.network.shape.layerCount
        let (expected, _) = try EarlyExitFixtures.expected(name)
        let never: [any ExitPolicy] = [
            SECPolicy(tauExit: 1.01, tauStop: 1.01), SoftmaxConfidencePolicy(lambda: 1.01),
            SaturationPolicy(lambda: 1.01), FixedLayerPolicy(layer: L), FullDepthPolicy(),
        ]
        for prompt in expected.prompts {
            let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt.ids, count: 16)
            for policy in never {
                let (ids, traces) = try EarlyExitFixtures.policyGreedy(model, policy: policy, prompt: prompt.ids, count: 16)
                #expect(ids == reference, "\(policy.label) on \(prompt.text.debugDescription)")
                #expect(traces.allSatisfy { $0.exitLayer == L && !$0.stopped })
            }
        }
    }

    @Test func earlyPoliciesDoExitAndStop() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let (expected, _) = try EarlyExitFixtures.expected("ee-separate")
        let prompt = expected.prompts[0].ids
        let (_, fixed) = try EarlyExitFixtures.policyGreedy(model, policy: FixedLayerPolicy(layer: 2), prompt: prompt, count: 10)
        #expect(fixed.allSatisfy { $0.exitLayer == 2 })
        // τ = 0 is plain argmax: across the fixture prompts the controller must exit and stop somewhere.
        var exited = false, stopped = false
        for name in EarlyExitFixtures.names {
            let m = try EarlyExitFixtures.model(name)
            for p in try EarlyExitFixtures.expected(name).0.prompts {
                let (_, sec) = try EarlyExitFixtures.policyGreedy(m, policy: SECPolicy(tauExit: 0, tauStop: 0), prompt: p.ids, count: 10)
                exited = exited || sec.contains { !$0.stopped && $0.exitLayer < m.network.shape.layerCount }
                stopped = stopped || sec.contains { $0.stopped }
            }
        }
        #expect(exited && stopped, "exited \(exited), stopped \(stopped)")
    }

    @Test func missingAndMisshapenExitsAreClearErrors() throws {
        let dir = EarlyExitFixtures.directory("ee-shared")
        let config = try GPT2Config.load(from: dir.appendingPathComponent("config.json"))
        let good = try SafeTensorsFile(path: dir.appendingPathComponent("exits.safetensors").path)
        // Drop one layer's bias.
        let tensors = try good.names.filter { $0 != "exits.3.ln.bias" }.map {
            SafeTensorsWriter.Tensor(name: $0, shape: good.entry($0)!.shape, values: try good.floats($0))
        }
        let missing = try SafeTensorsFile(bytes: try SafeTensorsWriter.encode(tensors, metadata: good.metadata), name: "exits.safetensors")
        #expect { try ExitHeads(file: missing, shape: config.shape) } throws: { "\($0)".contains("exits.3.ln.bias") }
        // Wrong width.
        let wide = try good.names.map {
            SafeTensorsWriter.Tensor(name: $0, shape: [config.embeddingSize + 1], values: [Float](repeating: 1, count: config.embeddingSize + 1))
        }
        let misshapen = try SafeTensorsFile(bytes: try SafeTensorsWriter.encode(wide, metadata: good.metadata), name: "exits.safetensors")
        #expect { try ExitHeads(file: misshapen, shape: config.shape) } throws: { "\($0)".contains("exits.") && "\($0)".contains("shape") }
        var badKind = good.metadata
        badKind["kind"] = "mystery"
        let unknown = try SafeTensorsFile(bytes: try SafeTensorsWriter.encode(tensors, metadata: badKind), name: "exits.safetensors")
        #expect { try ExitHeads(file: unknown, shape: config.shape) } throws: { "\($0)".contains("kind") }
    }
}

/// State copying: the K/V appended for a skipped layer equal a reference computed here.
@Suite struct StateCopyTests {
    @Test func skippedLayersGetKeysAndValuesFromTheExitHiddenState() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let network = model.network, c = network.shape, d = c.embeddingSize, L = c.layerCount
        let dir = EarlyExitFixtures.directory("ee-separate")
        let raw = try SafeTensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        let (expected, _) = try EarlyExitFixtures.expected("ee-separate")
        let prompt = expected.prompts[1].ids
        let exitLayer = 2
        let cache = network.makeCache()
        let first = try network.prefill(prompt, cache: cache).logits
        let token = first.withUnsafeBufferPointer { Sampler.argmax($0) }
        // The hidden state after block `exitLayer` for this token, computed by the plain forward pass.
        let probeCache = network.makeCache()
        _ = try network.prefill(prompt, cache: probeCache)
        let hidden = try network.prefill([token], cache: probeCache, captureHidden: true).hiddenStates[exitLayer - 1]

        let decoder = EarlyExitDecoder(model: model, policy: FixedLayerPolicy(layer: exitLayer))
        guard case .logits(_, let trace) = try decoder.step(token, cache: cache) else { Issue.record("stopped"); return }
        #expect(trace.exitLayer == exitLayer)
        let position = prompt.count
        for j in exitLayer..<L { // blocks after the exit layer (0-based index)
            let gamma = try raw.floats("transformer.h.\(j).ln_1.weight"), beta = try raw.floats("transformer.h.\(j).ln_1.bias")
            let w = try raw.floats("transformer.h.\(j).attn.c_attn.weight"), b = try raw.floats("transformer.h.\(j).attn.c_attn.bias")
            let mean = hidden.reduce(0, +) / Float(d)
            let variance = hidden.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(d)
            let normed = (0..<d).map { (hidden[$0] - mean) / (variance + c.normEpsilon).squareRoot() * gamma[$0] + beta[$0] }
            var kv = [Float](repeating: 0, count: 2 * d)
            for o in 0..<(2 * d) {
                var s = Double(b[d + o])
                for i in 0..<d { s += Double(normed[i]) * Double(w[i * 3 * d + d + o]) }
                kv[o] = Float(s)
            }
            #expect(maxAbsDifference(cache.key(layer: j, position: position), Array(kv[0..<d])) <= 1e-4, "keys, block \(j)")
            #expect(maxAbsDifference(cache.value(layer: j, position: position), Array(kv[d...])) <= 1e-4, "values, block \(j)")
        }
        #expect(cache.length == position + 1)
    }
}

/// Lossless self-speculative decoding.
@Suite struct SpeculativeTests {
    /// 200+ prompts: the fixtures' texts plus seeded random token sequences of varied length.
    static func prompts(vocabulary: Int) throws -> [[Int]] {
        var rng = SeededRandom(seed: 7)
        var prompts = try EarlyExitFixtures.names.flatMap { try EarlyExitFixtures.expected($0).0.prompts.map(\.ids) }
        while prompts.count < 204 {
            let n = 1 + Int(rng.next() % 24)
            prompts.append((0..<n).map { _ in Int(rng.next() % UInt64(vocabulary)) })
        }
        return prompts
    }

    @Test(arguments: EarlyExitFixtures.names)
    func speculativeEqualsFullGreedy(name: String) throws {
        let model = try EarlyExitFixtures.model(name)
        let L = model.network.shape.layerCount
        var roundsWithFirstRejected = 0, roundsWithLastRejected = 0, roundsAllAccepted = 0, checked = 0
        for (index, prompt) in try Self.prompts(vocabulary: model.network.shape.vocabularySize).enumerated() {
            let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt, count: 12)
            let draftLayer = [1, L / 2, L - 1][index % 3]
            let speculative = Generator(model: model, strategy: .speculative(draft: .earlyExit(FixedLayerPolicy(layer: draftLayer)), draftLength: 3))
            let out = try speculative.generate(prompt: prompt, cache: model.network.makeCache(), maxTokens: 12, stopToken: nil) { _, _ in }
            #expect(out.tokens == reference, "prompt \(index) (draft layer \(draftLayer))")
            for m in out.acceptedLengths ?? [] {
                if m == 0 { roundsWithFirstRejected += 1 }
                if m == 2 { roundsWithLastRejected += 1 }
                if m == 3 { roundsAllAccepted += 1 }
            }
            checked += 1
        }
        #expect(checked >= 200)
        #expect(roundsWithFirstRejected > 0 && roundsWithLastRejected > 0 && roundsAllAccepted > 0,
                "first \(roundsWithFirstRejected), last \(roundsWithLastRejected), none \(roundsAllAccepted)")
    }
}

/// The cost model.
@Suite struct CostModelTests {
    @Test func fullCountEqualsClosedForm() {
        let c = GPT2Config(layerCount: 12, headCount: 4, embeddingSize: 256, contextLength: 512, vocabularySize: 8192)
        let L = 12.0, d = 256.0, H = 4.0, V = 8192.0
        for position in [0, 63, 255, 511] {
            let n = Double(position + 1)
            // Per block: 24·d² multiply-adds ×… (QKV 6d², out 2d², MLP 16d²), attention 4·n·d + 5·n·H,
            // biases/residuals/GELU 3d + 2d + (4d + 32d + 2d), two LayerNorms 16d.
            let block = 24 * d * d + 4 * n * d + 5 * n * H + 3 * d + 2 * d + 38 * d + 16 * d
            let closedForm = d + L * block + 8 * d + 2 * d * V
            #expect(CostModel.fullToken(shape: c.shape, position: position).total == closedForm, "position \(position)")
        }
    }

    @Test func anExitCostsLessAndCountsStateCopyAndHead() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let (expected, _) = try EarlyExitFixtures.expected("ee-separate")
        let (_, traces) = try EarlyExitFixtures.policyGreedy(model, policy: FixedLayerPolicy(layer: 2), prompt: expected.prompts[0].ids, count: 4)
        for t in traces {
            #expect(t.flops.total < t.fullFlops)
            #expect(t.flops.stateCopy == Double(model.network.shape.layerCount - 2) * CostModel.stateCopy(shape: model.network.shape))
            #expect(t.flops.head == 2 * Double(model.network.shape.embeddingSize * model.network.shape.vocabularySize))
            #expect(t.flops.decisionHeads == 0)
        }
    }
}

/// With half-precision weights in memory the matrix-vector (decode) and matrix-matrix
/// (verification) kernels are separate C code; speculative decoding stays lossless only if
/// they sum in the same order.
@Suite struct HalfPrecisionSpeculativeTests {
    @Test func speculativeEqualsFullGreedyWithF16Weights() throws {
        let dir = EarlyExitFixtures.directory("ee-separate")
        let model = try EarlyExitModel(network: GPT2.load(directory: dir, precision: .float16), directory: dir)
        for (index, prompt) in try SpeculativeTests.prompts(vocabulary: model.network.shape.vocabularySize).prefix(40).enumerated() {
            let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt, count: 10)
            let spec = Generator(model: model, strategy: .speculative(draft: .earlyExit(FixedLayerPolicy(layer: 1 + index % 5)), draftLength: 3))
            #expect(try spec.generate(prompt: prompt, cache: model.network.makeCache(), maxTokens: 10, stopToken: nil) { _, _ in }.tokens == reference)
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
