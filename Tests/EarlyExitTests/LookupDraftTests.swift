import EarlyExit
import Foundation
import Model
import Testing
import TestSupport

/// Prompt-lookup drafts: copied from the context, verified at full depth like any other draft.
@Suite struct LookupDraftTests {
    @Test func draftsCopyWhatFollowedTheLatestEarlierOccurrence() {
        // The last three tokens (7, 8, 9) occurred at 1…3 and at 6…8: the later one wins.
        #expect(SpeculativeDecoder.lookupDrafts([5, 7, 8, 9, 1, 2, 7, 8, 9, 4, 6, 7, 8, 9], count: 3) == [4, 6, 7])
        // Without a recurring 3-gram, the last two tokens.
        #expect(SpeculativeDecoder.lookupDrafts([1, 8, 9, 3, 2, 8, 9], count: 2) == [3, 2])
        // What follows the occurrence may be shorter than asked.
        #expect(SpeculativeDecoder.lookupDrafts([4, 5, 6, 4, 5], count: 4) == [6, 4, 5])
        #expect(SpeculativeDecoder.lookupDrafts([1, 2, 3, 4], count: 4) == [])
        #expect(SpeculativeDecoder.lookupDrafts([1, 2, 1, 2], count: 0) == [])
        #expect(SpeculativeDecoder.lookupDrafts([], count: 3) == [])
    }

    /// Prompts that repeat a fragment, so lookups find drafts that the models sometimes continue
    /// and sometimes do not: the output must equal full greedy decoding either way.
    @Test func outputEqualsFullGreedy() throws {
        for (name, model) in try SkipDraftTests.models() {
            let V = model.network.shape.vocabularySize
            var rng = SeededRandom(seed: 5)
            var drafted = 0, accepted = 0, rejectedMidRound = 0
            for index in 0..<60 {
                let fragment = (0..<(3 + Int(rng.next() % 6))).map { _ in Int(rng.next() % UInt64(V)) }
                let prompt = Array((0..<3).flatMap { _ in fragment }.prefix(fragment.count * 2 + Int(rng.next() % UInt64(fragment.count))))
                let k = [1, 2, 3, 5][index % 4]
                let reference = try EarlyExitFixtures.fullGreedy(model.network, prompt: prompt, count: 12)
                let generator = Generator(model: model, strategy: .speculative(draft: .lookup, draftLength: k))
                let out = try generator.generate(prompt: prompt, cache: model.network.makeCache(), maxTokens: 12, stopToken: nil) { _, _ in }
                #expect(out.tokens == reference, "\(name) k=\(k) prompt \(index)")
                drafted += out.drafted ?? 0
                accepted += out.accepted ?? 0
                rejectedMidRound += (out.acceptedLengths ?? []).filter { $0 < k }.count
            }
            #expect(drafted > 0 && accepted > 0 && rejectedMidRound > 0, "\(name): drafted \(drafted), accepted \(accepted)")
        }
    }

    @Test func policySpecsNameLookupDrafts() throws {
        let c = try PolicyConfiguration(parsing: "speculative:lookup:3")
        #expect(c.draft == .lookup && c.draftLength == 3)
        #expect(c.description == "speculative:lookup:3")
        #expect(c.requirements(layerCount: 12) == [])
        guard case .lookup? = try c.makePolicy(layerCount: 6).speculative?.draft else { Issue.record("not a lookup draft"); return }
        #expect(throws: PolicyConfigurationError.self) { try PolicyConfiguration(parsing: "speculative:lookup:3:4") }
    }
}
