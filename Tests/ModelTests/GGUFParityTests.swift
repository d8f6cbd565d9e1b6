import Foundation
import GGUF
import Model
import Testing

/// GPT-2, Llama and Qwen2 read from GGUF files (written by `training/llama_fixtures.py` and
/// `training/gpt2_gguf_fixture.py` the way llama.cpp's converter writes them, Q/K rows permuted for
/// `llama`) against Hugging Face transformers.
///
/// Float files are compared with the model itself (F32) or with transformers run on the file's own
/// F16 weights, to the GPT-2 bound of 1e-4. Block-quantised files are compared with transformers on
/// the dequantised weights: the engine rounds activations to int8 per 32-block (as llama.cpp does),
/// so logits differ by up to `quantisedLogitTolerance`; the argmax must still agree almost everywhere.
@Suite struct GGUFParityTests {
    struct Case: CustomStringConvertible, Sendable {
        let file: String
        let expected: String
        var quantised: Bool { !file.hasSuffix(".f32.gguf") && !file.hasSuffix(".f16.gguf") }
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "tiny-llama.f32.gguf", expected: "tiny-llama"),
        Case(file: "tiny-f32.gguf", expected: "tiny-f32"),
        Case(file: "tiny-llama-tied.f32.gguf", expected: "tiny-llama-tied"),
        Case(file: "tiny-qwen2.f32.gguf", expected: "tiny-qwen2"),
        Case(file: "tiny-llama.f16.gguf", expected: "tiny-llama.f16"),
        Case(file: "tiny-llama.q8_0.gguf", expected: "tiny-llama.q8_0"),
        Case(file: "tiny-llama.q4_0.gguf", expected: "tiny-llama.q4_0"),
        Case(file: "tiny-llama.q4_1.gguf", expected: "tiny-llama.q4_1"),
        Case(file: "tiny-llama-tied.q4_1.gguf", expected: "tiny-llama-tied.q4_1"),
        Case(file: "tiny-qwen2.q8_0.gguf", expected: "tiny-qwen2.q8_0"),
    ]

    static let floatTolerance: Float = 1e-4
    /// Relative to the largest reference logit of the prompt. These random models attend almost
    /// one-hot (large random Q·K), so the int8 rounding of activations (≈0.5% RMS per product on
    /// real SmolLM2 tensors, see Kernels' tests) grows through 3 blocks to at most ~13% of the
    /// logit scale here; a broken kernel or a wrong permutation gives errors of order 100%.
    static let quantisedLogitTolerance: Float = 0.15

    static func load(_ c: Case) throws -> any Transformer {
        try loadNetwork(gguf: GGUFFile(path: Fixtures.resources.appendingPathComponent(c.file).path))
    }

    @Test(arguments: cases)
    func logitsAndHiddenStatesMatchTransformers(_ c: Case) throws {
        let model = try Self.load(c)
        let (expected, tensors) = try Fixtures.expected(c.expected)
        let tolerance = c.quantised ? Self.quantisedLogitTolerance : Self.floatTolerance
        let V = model.shape.vocabularySize
        var agree = 0, positions = 0
        for (i, prompt) in expected.prompts.enumerated() {
            let out = try model.prefill(prompt.ids, cache: model.makeCache(), allLogits: true, captureHidden: true)
            let reference = try tensors.floats("prompt\(i).logits")
            // Quantised: relative to the largest reference logit, since int8 activation error scales with it.
            let scale = c.quantised ? max(1, reference.map(abs).max() ?? 1) : 1
            let diff = maxAbsDifference(out.logits, reference) / scale
            #expect(diff <= tolerance, "\(c) prompt \(i): max |Δlogit| = \(diff) (scale \(scale))")
            for p in 0..<prompt.ids.count {
                let ours = Array(out.logits[(p * V)..<((p + 1) * V)]), theirs = Array(reference[(p * V)..<((p + 1) * V)])
                if ours.firstIndex(of: ours.max() ?? 0) == theirs.firstIndex(of: theirs.max() ?? 0) { agree += 1 }
                positions += 1
            }
            if !c.quantised {
                let hidden = try tensors.floats("prompt\(i).hidden")
                let perLayer = prompt.ids.count * model.shape.embeddingSize
                for layer in 0..<expected.layers {
                    let ref = Array(hidden[(layer * perLayer)..<((layer + 1) * perLayer)])
                    // Float rounding grows with the residual stream's magnitude (up to ~20 here).
                    let bound = max(Self.floatTolerance, 1e-5 * (ref.map(abs).max() ?? 0))
                    let d = maxAbsDifference(out.hiddenStates[layer], ref)
                    #expect(d <= bound, "\(c) prompt \(i) block \(layer): max |Δh| = \(d)")
                }
            }
        }
        // Top-1 agreement: exact for float files; quantised activations may flip a near-tie.
        #expect(Double(agree) >= (c.quantised ? 0.85 : 1.0) * Double(positions), "\(c): top-1 agrees at \(agree)/\(positions)")
    }

    @Test(arguments: cases.filter { !$0.quantised })
    func greedyContinuationIsIdentical(_ c: Case) throws {
        let model = try Self.load(c)
        let (expected, _) = try Fixtures.expected(c.expected)
        for prompt in expected.prompts {
            let cache = model.makeCache(), ws = model.makeWorkspace()
            var logits = try model.prefill(prompt.ids, cache: cache).logits
            var tokens: [Int] = []
            for _ in 0..<prompt.greedy.count {
                let next = logits.firstIndex(of: logits.max() ?? 0) ?? 0
                tokens.append(next)
                logits = Array(try model.decode(next, cache: cache, workspace: ws))
            }
            #expect(tokens == prompt.greedy, "\(c) prompt '\(prompt.text)'")
        }
    }

    /// The GGUF and Hugging Face forms of one model are the same network.
    @Test func ggufAndSafetensorsGiveTheSameLogits() throws {
        let gguf = try Self.load(Self.cases[0])
        let hf = try loadNetwork(directory: Fixtures.modelDirectory("tiny-llama"))
        let (expected, _) = try Fixtures.expected("tiny-llama")
        let ids = expected.prompts[1].ids
        let a = try gguf.prefill(ids, cache: gguf.makeCache(), allLogits: true).logits
        let b = try hf.prefill(ids, cache: hf.makeCache(), allLogits: true).logits
        #expect(maxAbsDifference(a, b) <= 1e-5)
    }
}
