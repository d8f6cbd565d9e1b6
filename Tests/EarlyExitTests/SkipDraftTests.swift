import EarlyExit
import Foundation
import Model
import Testing
import TestSupport

/// Skip-layer self-speculative decoding: the draft is the same network with some blocks left out.
@Suite struct SkipDraftTests {
    /// Tiny models with different kernels under the verification: the two GPT-2 early-exit fixtures
    /// (F32 panels) and a Q4_1 Llama GGUF (int8 activations, gemm for the verification against gemv for
    /// decoding), read from ModelTests' resources beside this directory.
    static func models() throws -> [(String, EarlyExitModel)] {
        let llama = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelTests/Resources/tiny-llama.q4_1.gguf")
        return try EarlyExitFixtures.names.map { ($0, try EarlyExitFixtures.model($0)) }
            + [("tiny-llama.q4_1", EarlyExitModel(network: try loadNetwork(at: llama), heads: nil, controller: nil))]
    }

    /// The speculative tests' prompts that fit a vocabulary of `V` tokens.
    static func prompts(vocabulary V: Int) throws -> [[Int]] {
        try SpeculativeTests.prompts(vocabulary: V).filter { $0.allSatisfy { $0 < V } }
    }

    /// Several skip sets (a single layer, the fallback, shallow, deep, all but one) and draft lengths.
    static func skipSets(layerCount L: Int) throws -> [LayerSet] {
        var sets = [try LayerSet([1]), try LayerSet([L]), try LayerSet(2...max(2, L - 1)), try LayerSet(1..<L)]
        if let fallback = LayerSet.fallback(layerCount: L) { sets.append(fallback) }
        return sets
    }

    @Test func outputEqualsFullGreedy() throws {
        for (name, model) in try Self.models() {
            let L = model.network.shape.layerCount, V = model.network.shape.vocabularySize
            let prompts = try Self.prompts(vocabulary: V).prefix(60)
            var rejectedMidRound = 0, allAccepted = 0, checked = 0
            for (setIndex, skip) in try Self.skipSets(layerCount: L).enumerated() {
                for (index, prompt) in prompts.enumerated() where index % 2 == setIndex % 2 {
                    let k = [1, 2, 3, 5][index % 4]
                    let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt, count: 14)
                    let generator = Generator(model: model, strategy: .speculative(draft: .skipLayers(skip), draftLength: k))
                    let out = try generator.generate(prompt: prompt, cache: model.network.makeCache(), maxTokens: 14, stopToken: nil) { _, _ in }
                    #expect(out.tokens == reference, "\(name) skip \(skip) k=\(k) prompt \(index)")
                    for m in out.acceptedLengths ?? [] {
                        if m < k { rejectedMidRound += 1 } else { allAccepted += 1 }
                    }
                    checked += 1
                }
            }
            // Both outcomes happen, so the equality above rests on the verification, not on luck.
            #expect(checked >= 100, "\(name)")
            #expect(rejectedMidRound > 0 && allAccepted > 0, "\(name): rejected \(rejectedMidRound), all accepted \(allAccepted)")
        }
    }

    /// After every round the cache holds exactly the emitted tokens but the last (the next round's
    /// pending token), and every block's K/V of those positions — the skipped blocks' too — are what a
    /// full-depth prefill of the same tokens stores.
    @Test func cacheStaysConsistentAfterRejections() throws {
        for (name, model) in try Self.models() {
            let network = model.network, L = network.shape.layerCount
            var rejections = 0
            for prompt in try Self.prompts(vocabulary: network.shape.vocabularySize).prefix(8) {
                let decoder = SpeculativeDecoder(model: model, draft: .skipLayers(try LayerSet(2...L)), draftLength: 3)
                let cache = network.makeCache()
                var pending = try network.prefill(prompt, cache: cache).logits.withUnsafeBufferPointer { Sampler.argmax($0) }
                var tokens = prompt
                for _ in 0..<6 {
                    let before = cache.length
                    let emitted = try decoder.round(pending: pending, cache: cache, remaining: 100)
                    #expect(cache.length == before + emitted.count, "\(name)")
                    tokens.append(pending)
                    tokens += emitted.dropLast().map(\.0)
                    pending = emitted[emitted.count - 1].0
                }
                rejections += decoder.acceptedLengths.filter { $0 < 3 }.count
                let reference = network.makeCache()
                _ = try network.prefill(tokens, cache: reference)
                #expect(reference.length == cache.length)
                var worst: Float = 0
                for layer in 0..<L {
                    for position in prompt.count..<cache.length {
                        worst = max(worst, maxAbsDifference(cache.key(layer: layer, position: position), reference.key(layer: layer, position: position)))
                        worst = max(worst, maxAbsDifference(cache.value(layer: layer, position: position), reference.value(layer: layer, position: position)))
                    }
                }
                #expect(worst <= 1e-4, "\(name): K/V differ by \(worst)")
            }
            #expect(rejections > 0, "\(name): a round must reject for this check to mean anything")
        }
    }

    /// A round costs k draft tokens through the kept blocks and one verification of k+1 full-depth
    /// rows, shared by the tokens it emits.
    @Test func roundCostCountsDraftsAndVerification() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let network = model.network, shape = network.shape, L = shape.layerCount
        let skip = try LayerSet([2, 3, 5])
        let prompt = try EarlyExitFixtures.expected("ee-separate").0.prompts[0].ids
        let k = 3
        let decoder = SpeculativeDecoder(model: model, draft: .skipLayers(skip), draftLength: k)
        let cache = network.makeCache()
        let pending = try network.prefill(prompt, cache: cache).logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        let p = cache.length
        let emitted = try decoder.round(pending: pending, cache: cache, remaining: 100)
        let spent = emitted.reduce(0) { $0 + $1.1.flops.total }
        var expected = CostModel.verification(shape: shape, firstPosition: p, rows: k + 1).total
        for i in 0..<k { expected += CostModel.skipDraftToken(shape: shape, position: p + i, keptBlocks: L - 3).total }
        #expect(abs(spent - expected) <= 1e-9 * expected, "spent \(spent), expected \(expected)")
        // A draft token is the full token less its skipped blocks; the verification is k+1 full tokens.
        let draft = CostModel.skipDraftToken(shape: shape, position: p, keptBlocks: L - 3).total
        let full = CostModel.fullToken(shape: shape, position: p).total
        #expect(abs(full - draft - 3 * CostModel.block(shape: shape, position: p).total) <= 1e-9 * full)
        #expect(CostModel.verification(shape: shape, firstPosition: p, rows: 2).total
                == full + CostModel.fullToken(shape: shape, position: p + 1).total)
        for (i, (_, trace)) in emitted.enumerated() {
            #expect(trace.fullFlops == CostModel.fullToken(shape: shape, position: p + i).total)
        }
    }

    @Test func layerSetsParseAndPrint() throws {
        for (text, canonical) in [("3", "3"), ("5,3,4", "3-5"), ("1,3-4,4,9", "1,3-4,9"), ("2-2", "2"), ("8,10,12-15", "8,10,12-15")] {
            let set = try LayerSet(parsing: text)
            #expect(set.description == canonical, "\(text)")
            #expect(try LayerSet(parsing: set.description) == set)
        }
        for bad in ["", "0", "-1", "3-1", "x", "1,,2", "1-2-3", "1-99999", "2.5"] {
            #expect(throws: LayerSetError.self, "\(bad)") { try LayerSet(parsing: bad) }
        }
        #expect(try LayerSet(parsing: "3,7").keptBlocks(layerCount: 8) == [0, 1, 3, 4, 5, 7])
        #expect(LayerSet.fallback(layerCount: 30)?.description == "8,10,12,14,16,18,20,22")
        #expect(LayerSet.fallback(layerCount: 6)?.description == "2,4")
        #expect(LayerSet.fallback(layerCount: 1) == nil)
        #expect(throws: LayerSetError.self) { try LayerSet(parsing: "7").validate(layerCount: 6) }
    }

    @Test func policySpecsNameSkipDrafts() throws {
        let c = try PolicyConfiguration(parsing: "speculative:skip:8,10,12-15:3")
        #expect(c.draft == .skip && c.skipLayers?.layers == [8, 10, 12, 13, 14, 15] && c.draftLength == 3)
        #expect(c.description == "speculative:skip:8,10,12-15:3")
        #expect(try PolicyConfiguration(parsing: "speculative:skip").description == "speculative", "skip is the default draft")
        #expect(try PolicyConfiguration(parsing: "speculative:skip::3").description == "speculative:skip::3")
        #expect(try PolicyConfiguration(parsing: "speculative:skip::2").draftLength == 2)
        #expect(try PolicyConfiguration(parsing: "speculative:skip").requirements(layerCount: 12) == [])
        let made = try PolicyConfiguration(parsing: "speculative:skip:2-3").makePolicy(layerCount: 6)
        guard case .skipLayers(let layers)? = made.speculative?.draft else { Issue.record("not a skip draft"); return }
        #expect(layers?.description == "2-3")
        for bad in ["speculative:skip:0", "speculative:skip:3-1", "speculative:skip:x", "speculative:skip:1:2:3"] {
            let error = #expect(throws: PolicyConfigurationError.self, "\(bad)") { try PolicyConfiguration(parsing: bad) }
            #expect(error?.description.hasPrefix("policy '\(bad)': ") == true, "\(String(describing: error))")
        }
        let deep = try PolicyConfiguration(parsing: "speculative:skip:7")
        let error = #expect(throws: PolicyConfigurationError.self) { try deep.makePolicy(layerCount: 6) }
        #expect(error?.knob == .skipLayers)
    }

    @Test func skipDraftFileLoadsAndRefusesBadInput() throws {
        let dir = try TestFixtures.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(SkipDraftFile.name)
        #expect(try SkipDraftFile.load(url: url, layerCount: 6) == nil)
        let file = SkipDraftFile(layers: try LayerSet([2, 4]), layerCount: 6, method: "test", agreementBySize: [0.9, 0.8], draftLength: 4)
        try file.write(to: url)
        #expect(try SkipDraftFile.load(url: url, layerCount: 6) == file)
        // The model picks it up as its default skip set.
        let network = try EarlyExitFixtures.model("ee-shared").network
        #expect(try EarlyExitModel(network: network, directory: dir).resolvedSkipLayers(nil)?.description == "2,4")
        let cases: [(String, String)] = [
            (#"{"layers": "2,4", "layer_count": 12}"#, "field 'layer_count' is 12, but the model has 6 layers"),
            (#"{"layers": "2,9", "layer_count": 6}"#, "field 'layers': layer 9 is outside 1…6"),
            (#"{"layers": "2-", "layer_count": 6}"#, "field 'layers'"),
            (#"{"layer_count": 6}"#, "field 'layers' is missing"),
            (#"{"layers": 3, "layer_count": 6}"#, "field 'layers' has the wrong type"),
            ("[1, 2", "is not a JSON object"),
        ]
        for (json, message) in cases {
            try Data(json.utf8).write(to: url)
            let error = #expect(throws: ModelError.self, "\(json)") { try SkipDraftFile.load(url: url, layerCount: 6) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains(SkipDraftFile.name) && text.contains(message) && !text.contains("\n"), "\(json): \(text)")
        }
    }
}
