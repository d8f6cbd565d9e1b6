import Completion
import EarlyExit
import Evaluation
import Foundation
#if canImport(FoundationXML)
import FoundationXML // XMLParser lives here on Linux
#endif
import Model
import TestSupport
import Testing

private var resources: URL {
    guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else { fatalError("test resources are missing") }
    return url
}

/// The repository root, for the sample source files (repository content, not a fixture).
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct MetricTests {
    @Test func handComputedCases() {
        #expect(Metrics.lcsLength([1, 2, 3, 4], [2, 4]) == 2)
        // LCS 2, P = 2/4, R = 2/2 → F = 2·0.5·1 / 1.5 = 2/3.
        #expect(abs(Metrics.rougeL(candidate: [1, 2, 3, 4], reference: [2, 4]) - 2.0 / 3.0) < 1e-12)
        #expect(Metrics.rougeL(candidate: [Int](), reference: [1]) == 0)
        #expect(Metrics.rougeL(candidate: [5, 6], reference: [5, 6]) == 1)
        #expect(Metrics.editDistance("kitten", "sitting") == 3)
        #expect(abs(Metrics.editSimilarity("kitten", "sitting") - (1 - 3.0 / 7.0)) < 1e-12)
        #expect(Metrics.editSimilarity("", "") == 1)
        #expect(Metrics.accepted(completion: "return self", reference: "return self.value"))
        #expect(!Metrics.accepted(completion: "", reference: "x"))
        #expect(!Metrics.accepted(completion: "return x", reference: "return self"))
    }

    struct Fixture: Decodable {
        struct Rouge: Decodable { let candidate: [Int]; let reference: [Int]; let rougeL: Double }
        struct Edit: Decodable { let a: String; let b: String; let distance: Int }
        let rouge: [Rouge]
        let edit: [Edit]
    }

    @Test func matchRougeScoreAndLevenshteinReferences() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: resources.appendingPathComponent("metrics.json")))
        #expect(f.rouge.count >= 300)
        for c in f.rouge {
            #expect(abs(Metrics.rougeL(candidate: c.candidate, reference: c.reference) - c.rougeL) < 1e-9, "\(c.candidate) vs \(c.reference)")
        }
        for c in f.edit { #expect(Metrics.editDistance(c.a, c.b) == c.distance, "\(c.a.debugDescription) vs \(c.b.debugDescription)") }
    }
}

@Suite struct ProtocolTests {
    @Test func splitPointsAreReproducibleAndInRange() throws {
        let model = try LanguageModel.load(directory: EarlyExitFixtures.directory("ee-shared"))
        let files = SourceFiles.list(root.appendingPathComponent("samples").path)
        var p = ExampleProtocol()
        p.seed = 9
        let a = p.examples(files: files, tokenizer: model.tokenizer, count: 40)
        let b = p.examples(files: files, tokenizer: model.tokenizer, count: 40)
        #expect(a == b && a.count == 40)
        p.seed = 10
        #expect(p.examples(files: files, tokenizer: model.tokenizer, count: 40) != a)
        for e in a {
            #expect(e.prompt.count <= 256 && !e.target.isEmpty && e.target.count <= 10)
            #expect(e.split >= 1)
        }
        var sampler = ExampleSampler(seed: 3)
        let draws = (0..<1000).map { _ in sampler.randint(4, 7) }
        #expect(Set(draws) == [4, 5, 6, 7])
    }
}

@Suite struct SweepTests {
    /// The sweep's rows keep the labels EVALUATION.md reports (printed back from the configurations).
    @Test func sweepLabelsAreTheSpecsAsWritten() throws {
        var expected = ["sec:0.95:0.9", "sec:0.9:0.7", "sec:0.8:0.6", "sec:0.6:0"]
        for tauExit in ["0.99", "0.9", "0.7", "0.5"] { for tauStop in ["2", "0.8"] { expected.append("sec:\(tauExit):\(tauStop)") } }
        expected += ["softmax:0.9", "softmax:0.5", "saturation:0.99", "saturation:0.95", "fixed:3", "fixed:6", "fixed:9",
                     "speculative:3:4", "speculative:6:4"]
        var seen = Set<String>()
        expected = expected.filter { seen.insert($0).inserted }
        #expect(try Evaluator.sweep(layerCount: 12).map(\.description) == expected)
    }
}

@Suite struct StudyTests {
    struct Expected: Decodable {
        struct Prompt: Decodable { let ids: [Int] }
        struct StudyCounts: Decodable { let firstCorrect: [Int]; let correct: [Int] }
        let prompts: [Prompt]
        let study: StudyCounts
    }

    @Test func firstCorrectDistributionEqualsPyTorch() throws {
        let dir = EarlyExitFixtures.directory("ee-shared")
        let model = try EarlyExitModel(network: GPT2.load(directory: dir), directory: dir)
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: resources.appendingPathComponent("study-ee-shared.json")))
        let result = try Study(model: model).run(sequences: expected.prompts.map(\.ids))
        #expect(result.firstCorrect == expected.study.firstCorrect)
        let tokens = expected.study.firstCorrect.reduce(0, +)
        #expect(result.tokens == tokens)
        for l in 0..<result.layers {
            #expect(abs(result.accuracy[l] - Double(expected.study.correct[l]) / Double(tokens)) < 1e-12, "layer \(l + 1)")
        }
    }

    /// With heads at layers 1, 4, 7 of 8 (CodeGen's every third layer), only those and layer L are
    /// scored, and the tables say "no head" for the rest instead of a 0% accuracy and a 0 loss.
    @Test func layersWithoutAHeadAreMarkedNotScored() throws {
        let model = try EarlyExitFixtures.model("ee-codegen")
        let ids = [[80, 141, 145, 296, 117, 145, 263, 30, 12, 190], [372, 390, 12, 184, 159]]
        let result = try Study(model: model).run(sequences: ids)
        #expect(result.headLayers == [1, 4, 7, 8])
        for l in 1...result.layers where !result.hasHead(l) { #expect(result.accuracy[l - 1] == 0 && result.loss[l - 1] == 0 && result.firstCorrect[l] == 0) }
        #expect([1, 4, 7, 8].allSatisfy { result.loss[$0 - 1] > 0 })
        let table = Charts.study(result).split(separator: "\n")
        #expect(table.filter { $0.contains("no head") }.count == 4, "\(table)")
        #expect(Charts.studyMarkdown(result).split(separator: "\n").filter { $0.contains("no head") }.count == 4)
    }

    @Test func svgChartsAreWellFormedXML() throws {
        let dir = EarlyExitFixtures.directory("ee-shared")
        let model = try LanguageModel.load(directory: dir)
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: resources.appendingPathComponent("study-ee-shared.json")))
        let study = try Study(model: model.earlyExit).run(sequences: expected.prompts.map(\.ids))
        var p = ExampleProtocol()
        p.seed = 1
        let examples = p.examples(files: SourceFiles.list(root.appendingPathComponent("samples").path), tokenizer: model.tokenizer, count: 4)
        let report = try Evaluator(model: model).run(examples: examples, settings: [try PolicyConfiguration(parsing: "fixed:2"), try PolicyConfiguration(parsing: "sec:0.5:0.5")],
                                                     seed: 1, lineMode: false)
        #expect(report.rows.count == 3 && report.rows.allSatisfy { $0.examples == 4 })
        for svg in [Charts.studySVG(study, title: "a <b> & c"), Charts.paretoSVG(report, title: "t & \"u\"")] {
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        }
        #expect(!Charts.paretoFront(report.rows).isEmpty)
    }
}

/// Progress ends at its total and counts are what was asked for (issue #12's minor items).
@Suite struct ProgressAndCountTests {
    @Test func progressEndsAtTheTotal() throws {
        let dir = EarlyExitFixtures.directory("ee-shared")
        let model = try LanguageModel.load(directory: dir)
        // 300 scored tokens: not a multiple of the study's 256-token reports.
        let sequences = [Array(repeating: 5, count: 201), Array(repeating: 7, count: 101), [3]]
        var reported: [Int] = []
        _ = try Study(model: model.earlyExit).run(sequences: sequences, progress: { reported.append($0) })
        #expect(reported.last == 300)
        var p = ExampleProtocol()
        p.seed = 1
        let examples = p.examples(files: SourceFiles.list(root.appendingPathComponent("samples").path), tokenizer: model.tokenizer, count: 3)
        var steps: [(Int, Int)] = []
        _ = try Evaluator(model: model).run(examples: examples, settings: [], seed: 1, lineMode: false, progress: { steps.append(($0, $1)) })
        #expect(steps.first.map { [$0.0, $0.1] } == [0, 3])
        #expect(steps.last.map { [$0.0, $0.1] } == [3, 3])
    }

    /// `bench --prompt-count 8` on three files: 8 prompts (3 + 3 + 2), not 6.
    @Test func promptCountIsKept() throws {
        let dir = try TestFixtures.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try (0..<3).map { i -> URL in
            let url = dir.appendingPathComponent("f\(i).py")
            try String(repeating: "x = \(i)  # a line of code\n", count: 40).write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        for limit in [1, 2, 3, 4, 8, 64] {
            #expect(PolicyBenchmark.prompts(files: files, limit: limit).count == limit, "limit \(limit)")
        }
        #expect(counted(1, "token") == "1 token")
        #expect(counted(0, "completion") == "0 completions")
    }
}

/// `exitlens draft-search`: the skip-layer draft's agreement with full depth, and the greedy removal.
@Suite struct SkipLayerSearchTests {
    static func windows(vocabulary V: Int) -> [[Int]] {
        var rng = SeededRandom(seed: 11)
        return (0..<3).map { _ in (0..<28).map { _ in Int(rng.next() % UInt64(V)) } }
    }

    /// The same agreement computed the slow, obvious way: a fresh cache per position.
    static func reference(_ network: any Transformer, windows: [[Int]], skipping layers: LayerSet, from first: Int) throws -> Double {
        let L = network.shape.layerCount, V = network.shape.vocabularySize
        let kept = layers.keptBlocks(layerCount: L)
        let ws = network.makeWorkspace()
        var agree = 0, total = 0
        for tokens in windows {
            for t in first..<tokens.count {
                let full = network.makeCache()
                let target = try network.prefill(Array(tokens[...t]), cache: full).logits.withUnsafeBufferPointer { Sampler.argmax($0) }
                let cache = network.makeCache()
                _ = try network.prefill(Array(tokens[..<t]), cache: cache)
                try network.beginToken(tokens[t], workspace: ws, cache: cache)
                for block in kept { network.runBlock(block, workspace: ws, cache: cache) }
                network.finalLogits(ws.residual.pointer, into: ws.logits.pointer, workspace: ws)
                if Sampler.argmax(UnsafeBufferPointer(start: ws.logits.pointer, count: V)) == target { agree += 1 }
                total += 1
            }
        }
        return Double(agree) / Double(total)
    }

    @Test func agreementMatchesAFreshCacheReference() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let windows = Self.windows(vocabulary: model.network.shape.vocabularySize)
        let search = SkipLayerSearch(network: model.network, windows: windows, minimumContext: 16)
        var seen = Set<Double>()
        for layers in [[2], [3, 5], [1, 2, 3, 4, 5], [6], [1, 2, 3, 4, 5, 6]] {
            let set = try LayerSet(layers)
            let got = try search.agreement(skipping: set)
            #expect(got == (try Self.reference(model.network, windows: windows, skipping: set, from: 16)), "\(set)")
            seen.insert(got)
        }
        #expect(seen.count > 1, "the sets must not all agree alike for this to test anything")
        #expect(throws: LayerSetError.self) { try search.agreement(skipping: LayerSet([7])) }
    }

    @Test func greedyRemovalAddsTheLeastHarmfulLayer() throws {
        let model = try EarlyExitFixtures.model("ee-separate")
        let windows = Self.windows(vocabulary: model.network.shape.vocabularySize)
        let search = SkipLayerSearch(network: model.network, windows: windows, minimumContext: 16, draftLength: 3)
        let result = try search.run(maxSkipped: 2)
        #expect(result.steps.count == 2 && result.positions == 3 * 12)
        #expect(result.steps[1].skipped.layers.contains(result.steps[0].added))
        // Step 1's layer is the best single layer to skip.
        let singles = try (1...6).map { try search.agreement(skipping: LayerSet([$0])) }
        #expect(result.steps[0].agreement == singles.max())
        #expect(result.steps[0].added == (singles.firstIndex(of: singles.max() ?? 0) ?? -1) + 1)
        #expect(result.steps[1].agreement == (try search.agreement(skipping: result.steps[1].skipped)))
        #expect(result.chosen != nil)
    }
}
