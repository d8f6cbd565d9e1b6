import Completion
import Foundation
import TestSupport
import Testing
@testable import Playground

/// `exitlens bench --playground` on the tiny random early-exit model: one latency per request,
/// and the prefix cache serves the later requests. No timing thresholds.
@Suite struct PlaygroundBenchmarkTests {
    /// The repository root, for samples/ (repository content, not a fixture).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    @Test(arguments: [false, true])
    func measuresEveryRequestAndReusesThePrefix(backgroundPrefill: Bool) throws {
        let model = try LanguageModel.load(directory: EarlyExitFixtures.directory("ee-shared"))
        var options = PlaygroundBenchmark.Options()
        // The fixture's context is 64 tokens: stay in the first lines so prompts are not cut
        // (a cut shifts the prompt and nothing can be reused).
        options.placementsPerFile = 2
        options.lineLimit = 2
        options.bursts = 2
        options.charactersPerBurst = 2
        options.maxTokens = 2
        options.debounce = 0.01
        options.backgroundPrefill = backgroundPrefill
        let file = Self.root.appendingPathComponent("samples/fibonacci.py")
        let report = try PlaygroundBenchmark(options: options).run(model: model, threads: 1, files: [file])

        let requested = report.samples.count + report.emptySuggestions + report.typedThrough
        #expect(requested == 2 * 2)
        #expect(report.samples.count >= 2)
        #expect(report.samples.allSatisfy { $0.latency > 0 && $0.sinceKeystroke >= $0.latency })
        // Requests after the first continue (or extend) the previous prompt; with the background
        // prefill the first finds the file already cached too.
        #expect(report.backgroundPrefill == backgroundPrefill)
        if backgroundPrefill {
            #expect((report.samples.first?.reusedPromptTokens ?? 0) > 0)
            #expect(report.meanPrefillWait != nil)
        } else {
            #expect(report.samples.first?.reusedPromptTokens == 0)
            #expect(report.meanPrefillWait == nil)
        }
        #expect(report.samples.dropFirst().allSatisfy { $0.reusedPromptTokens > 0 },
                "\(report.samples.map { "\($0.line): \($0.reusedPromptTokens)/\($0.promptTokens)" })")
        #expect((report.meanPrefixReuse ?? 0) > 0)
        #expect(report.p95Latency != nil && report.medianLatency != nil)
        #expect(report.samples.allSatisfy { $0.promptTokens < 62 })
    }
}
