import EarlyExit
import Foundation
import Kernels
import Model
import SafeTensors
import TestSupport
import Testing

/// Exit heads at some layers only: `ee-codegen` is a tiny random 8-layer CodeGen (from
/// `training/codegen_fixtures.py`) with heads at layers 1, 4 and 7 — the paper's CodeGen setup,
/// a head every third layer. Every policy must exit only where a head exists.
@Suite struct CodeGenExitTests {
    static let headLayers: Set<Int> = [1, 4, 7]

    struct Expected: Decodable {
        struct Prompt: Decodable { let text: String; let ids: [Int]; let greedy: [Int] }
        let prompts: [Prompt]
        let layers: Int
        let exit_layers: [Int]
    }

    static func fixture() throws -> (EarlyExitModel, Expected, SafeTensorsFile) {
        let model = try EarlyExitFixtures.model("ee-codegen")
        let resources = TestFixtures.resources
        let meta = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: resources.appendingPathComponent("expected-ee-codegen.json")))
        let tensors = try SafeTensorsFile(path: resources.appendingPathComponent("expected-ee-codegen.safetensors").path)
        return (model, meta, tensors)
    }

    @Test func headsLoadAtTheListedLayersAndMatchPyTorch() throws {
        let (model, expected, tensors) = try Self.fixture()
        let network = model.network
        #expect(network.shape.architecture == .codegen)
        #expect(model.heads?.layers == Self.headLayers)
        #expect(Set(expected.exit_layers) == Self.headLayers)
        let d = network.shape.embeddingSize, V = network.shape.vocabularySize
        let ws = network.makeWorkspace()
        let out = FloatBuffer(count: V)
        for (i, prompt) in expected.prompts.enumerated() {
            let hidden = try network.prefill(prompt.ids, cache: network.makeCache(), captureHidden: true).hiddenStates
            let reference = try tensors.floats("prompt\(i).exit_logits") // [heads, n, V]
            let n = prompt.ids.count
            for (slot, l) in expected.exit_layers.enumerated() {
                for t in 0..<n {
                    hidden[l - 1].withUnsafeBufferPointer { h in
                        model.heads?.logits(layer: l, hidden: h.baseAddress! + t * d, into: out.pointer, network: network, workspace: ws)
                    }
                    let start = (slot * n + t) * V
                    let diff = maxAbsDifference(Array(UnsafeBufferPointer(start: out.pointer, count: V)), Array(reference[start..<(start + V)]))
                    #expect(diff <= 1e-4, "prompt \(i) layer \(l) token \(t): max |Δlogit| = \(diff)")
                }
            }
        }
    }

    @Test func fullGreedyMatchesTransformers() throws {
        let (model, expected, _) = try Self.fixture()
        for prompt in expected.prompts {
            let ids = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt.ids, count: prompt.greedy.count)
            #expect(ids == prompt.greedy, "\(prompt.text.debugDescription)")
        }
    }

    /// Permissive and strict settings of every policy; each exit layer must be a head or L.
    @Test func everyPolicyExitsOnlyWhereAHeadExists() throws {
        let (model, expected, _) = try Self.fixture()
        let L = model.network.shape.layerCount
        let policies: [any ExitPolicy] = [
            SECPolicy(tauExit: 0, tauStop: 2), SECPolicy(tauExit: 0, tauStop: 0), SECPolicy(tauExit: 0.5, tauStop: 0.5),
            SoftmaxConfidencePolicy(lambda: 0), SoftmaxConfidencePolicy(lambda: 0.2),
            SaturationPolicy(lambda: 0), SaturationPolicy(lambda: 0.8), OraclePolicy(),
        ] + (1...L).map { FixedLayerPolicy(layer: $0) }
        var earlyExits = 0
        for policy in policies {
            for prompt in expected.prompts {
                let (_, traces) = try EarlyExitFixtures.policyGreedy(model, policy: policy, prompt: prompt.ids, count: 12)
                for t in traces where !t.stopped {
                    #expect(Self.headLayers.contains(t.exitLayer) || t.exitLayer == L, "\(policy.label) exited at \(t.exitLayer)")
                    if t.exitLayer < L { earlyExits += 1 }
                }
            }
        }
        // The permissive settings must exit early often, or this test could not see a wrong layer.
        #expect(earlyExits > 100, "\(earlyExits) early exits")
    }

    /// fixed:k leaves at the deepest head at or below k: never deeper than asked.
    @Test(arguments: [(1, 1), (2, 1), (3, 1), (4, 4), (5, 4), (6, 4), (7, 7), (8, 8), (20, 8)])
    func fixedExitsAtTheDeepestHeadAtOrBelowK(k: Int, exitLayer: Int) throws {
        let (model, expected, _) = try Self.fixture()
        try model.check(FixedLayerPolicy(layer: k))
        let (_, traces) = try EarlyExitFixtures.policyGreedy(model, policy: FixedLayerPolicy(layer: k), prompt: expected.prompts[1].ids, count: 6)
        #expect(!traces.isEmpty && traces.allSatisfy { $0.exitLayer == exitLayer }, "k = \(k): \(traces.map(\.exitLayer))")
    }

    @Test func fixedWithNoHeadAtOrBelowKIsAOneLineError() throws {
        let (model, _, _) = try Self.fixture()
        // Heads at 4 and 7 only (kind lens: no tensors needed): k = 3 has nothing to exit through.
        let bytes = try SafeTensorsWriter.encode([], metadata: ["kind": "lens", "layers": "4,7", "format": "exitlens-exits-v1"])
        let heads = try ExitHeads(file: SafeTensorsFile(bytes: bytes, name: "exits.safetensors"), shape: model.network.shape)
        let deep = EarlyExitModel(network: model.network, heads: heads, controller: nil)
        #expect { try deep.check(FixedLayerPolicy(layer: 3)) } throws: { error in
            let text = "\(error)"
            return text.contains("fixed(k=3)") && text.contains("4, 7") && !text.contains("\n")
        }
        try deep.check(FixedLayerPolicy(layer: 4))
        try deep.check(FixedLayerPolicy(layer: 8))
    }

    /// Speculative decoding with drafts from every policy (fixed drafts at layers with and without
    /// a head) must equal full greedy decoding.
    @Test func speculativeEqualsFullGreedyWithEveryDraftPolicy() throws {
        let (model, expected, _) = try Self.fixture()
        let V = model.network.shape.vocabularySize
        var rng = SeededRandom(seed: 15)
        var prompts = expected.prompts.map(\.ids)
        while prompts.count < 24 { prompts.append((0..<(1 + Int(rng.next() % 20))).map { _ in Int(rng.next() % UInt64(V)) }) }
        let drafts: [any ExitPolicy] = [
            FixedLayerPolicy(layer: 1), FixedLayerPolicy(layer: 2), FixedLayerPolicy(layer: 5), FixedLayerPolicy(layer: 7),
            SECPolicy(tauExit: 0, tauStop: 2), SoftmaxConfidencePolicy(lambda: 0.1), SaturationPolicy(lambda: 0.5),
        ]
        var accepted = 0, rejected = 0
        for (index, prompt) in prompts.enumerated() {
            let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt, count: 12)
            for draft in drafts {
                let generator = Generator(model: model, strategy: .speculative(draft: .earlyExit(draft), draftLength: 3))
                let out = try generator.generate(prompt: prompt, cache: model.network.makeCache(), maxTokens: 12, stopToken: nil) { _, _ in }
                #expect(out.tokens == reference, "prompt \(index), draft \(draft.label)")
                accepted += out.accepted ?? 0
                rejected += (out.drafted ?? 0) - (out.accepted ?? 0)
            }
        }
        #expect(accepted > 0 && rejected > 0, "accepted \(accepted), rejected \(rejected)")
    }

    /// CodeGen's cost: one LayerNorm per block, rotation of rotary_dim of each head, no bias but the
    /// MLP's, no position embedding, and the head's bias — for codegen-350M's shape.
    @Test func codeGenCountEqualsClosedForm() {
        let c = CodeGenConfig(layerCount: 20, embeddingSize: 1024, headCount: 16, rotaryDimensions: 32,
                              vocabularySize: 51200, contextLength: 2048)
        let L = 20.0, d = 1024.0, H = 16.0, V = 51200.0
        for position in [0, 100, 2047] {
            let n = Double(position + 1)
            // Matrices 24d² (QKV 6d², out 2d², MLP 16d²); rotation 3 FLOPs × 32 dims × (16 q + 16 k heads);
            // attention 4nd + 5nH; one LayerNorm 8d, MLP biases 5d, GELU 32d, two residual adds 2d.
            let block = 24 * d * d + 3 * 32 * 32 + 4 * n * d + 5 * n * H + 8 * d + 5 * d + 32 * d + 2 * d
            let closedForm = L * block + 8 * d + 2 * d * V + V
            #expect(CostModel.fullToken(shape: c.shape, position: position).total == closedForm, "position \(position)")
        }
        // State copy: LayerNorm and the K/V columns (no bias), keys rotated.
        #expect(CostModel.stateCopy(shape: c.shape) == 8 * d + 4 * d * d + 3 * 32 * 16)
    }
}
