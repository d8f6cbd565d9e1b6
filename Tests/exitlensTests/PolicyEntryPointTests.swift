import EarlyExit
import Foundation
import Model
import Playground
import SafeTensors
import Testing
@testable import exitlens

/// Every way to ask for a decoding setting — `complete`'s and `play`'s options, `bench`'s and
/// `eval`'s specs, `bench --playground`, the playground's knobs — gives the same configuration.
@Suite struct PolicyEntryPointTests {
    /// A spec and the same setting as `complete`/`play` options.
    static let spellings: [(spec: String, options: [String])] = [
        ("full", ["--policy", "full"]),
        ("sec", ["--policy", "sec"]),
        ("sec:0.5:0.9", ["--policy", "sec", "--tau-exit", "0.5", "--tau-stop", "0.9"]),
        ("sec::0.5", ["--policy", "sec", "--tau-stop", "0.5"]),
        ("sec:0.6:2", ["--policy", "sec", "--tau-exit", "0.6", "--tau-stop", "2"]),
        ("softmax", ["--policy", "softmax"]),
        ("softmax:0.5", ["--policy", "softmax", "--lambda", "0.5"]),
        ("saturation", ["--policy", "saturation"]),
        ("saturation:0.95", ["--policy", "saturation", "--lambda", "0.95"]),
        ("fixed", ["--policy", "fixed"]),
        ("fixed:3", ["--policy", "fixed", "--exit-layer", "3"]),
        ("speculative", ["--policy", "speculative"]),
        ("speculative:2", ["--policy", "speculative", "--exit-layer", "2"]),
        ("speculative:2:8", ["--policy", "speculative", "--exit-layer", "2", "--draft-length", "8"]),
        ("speculative::8", ["--policy", "speculative", "--draft-length", "8"]),
        ("speculative:fixed:3:4", ["--policy", "speculative", "--draft", "fixed", "--exit-layer", "3"]),
        ("speculative:sec:0.5:0.9:3", ["--policy", "speculative", "--draft", "sec", "--tau-exit", "0.5", "--tau-stop", "0.9", "--draft-length", "3"]),
        ("speculative:softmax:0.5", ["--policy", "speculative", "--draft", "softmax", "--lambda", "0.5"]),
        ("speculative:saturation", ["--policy", "speculative", "--draft", "saturation"]),
        ("speculative:skip", ["--policy", "speculative", "--draft", "skip"]),
        ("speculative:skip:3,5-6:2", ["--policy", "speculative", "--draft", "skip", "--skip-layers", "3,5-6", "--draft-length", "2"]),
    ]

    @Test func everyEntryPointParsesEverySpellingAlike() throws {
        for (spec, options) in Self.spellings {
            let expected = try PolicyConfiguration(parsing: spec)
            let complete = try Complete.parse(options + ["x"]).policyOptions.configuration()
            let play = try Play.parse(options).policyOptions.configuration()
            let bench = try Bench.parse(["--policy", spec]).policies
            let playground = try Bench.parse(["--playground", "--policy", spec]).policies
            let eval = try EvalCommand.parse(["--data", "samples", "--policy", spec]).policies
            #expect(complete == expected, "complete \(options)")
            #expect(play == expected, "play \(options)")
            #expect(bench == [expected], "bench --policy \(spec)")
            #expect(playground == [expected], "bench --playground --policy \(spec)")
            #expect(eval == [expected], "eval --policy \(spec)")
            // The playground's knobs start from the same setting and build the same policy.
            let L = 12
            let knobs = PolicyKnobs(expected, layerCount: L)
            let made = try expected.makePolicy(layerCount: L)
            #expect(knobs.policy.label == made.policy.label, "\(spec)")
            #expect(knobs.speculative?.draft.label == made.speculative?.draft.label, "\(spec)")
            #expect(knobs.speculative?.draftLength == made.speculative?.draftLength, "\(spec)")
        }
    }

    /// `complete` and `play` share one default, `PolicyConfiguration.defaultKind` (sec, as README says).
    @Test func oneDefaultPolicyForEveryCommand() throws {
        let expected = PolicyConfiguration(PolicyConfiguration.defaultKind)
        #expect(expected == .sec)
        #expect(try Complete.parse(["x"]).policyOptions.configuration() == expected)
        #expect(try Play.parse([]).policyOptions.configuration() == expected)
        // The default policy's knobs apply without --policy, in both.
        var sec = PolicyConfiguration.sec
        sec.tauExit = 0.7
        #expect(try Play.parse(["--tau-exit", "0.7"]).policyOptions.configuration() == sec)
        #expect(try Complete.parse(["--tau-exit", "0.7", "x"]).policyOptions.configuration() == sec)
    }

    /// `bench --playground --policy sec:0.5:0.9` used to keep only "sec".
    @Test func playgroundBenchmarkKeepsTheThresholds() throws {
        let setting = try #require(try Bench.parse(["--playground", "--policy", "sec:0.5:0.9"]).policies.first)
        #expect(PolicyKnobs(setting, layerCount: 6).summary == "sec ▸τexit=0.5 τstop=0.9")
    }

    @Test func everyEntryPointRefusesTheSameBadValues() {
        let bad: [(spec: String, options: [String])] = [
            ("sec:nan", ["--policy", "sec", "--tau-exit", "nan"]),
            ("sec:inf", ["--policy", "sec", "--tau-exit", "inf"]),
            ("sec:-1", ["--policy", "sec", "--tau-exit=-1"]),
            ("sec:0.9:nan", ["--policy", "sec", "--tau-stop", "nan"]),
            ("softmax:nan", ["--policy", "softmax", "--lambda", "nan"]),
            ("saturation:-5", ["--policy", "saturation", "--lambda=-5"]),
            ("fixed:0", ["--policy", "fixed", "--exit-layer", "0"]),
            ("speculative:3:0", ["--policy", "speculative", "--draft-length", "0"]),
            ("oracle", ["--policy", "oracle"]),
            ("speculative:full", ["--policy", "speculative", "--draft", "full"]),
        ]
        for (spec, options) in bad {
            #expect(throws: (any Error).self, "complete \(options)") { try Complete.parse(options + ["x"]) }
            #expect(throws: (any Error).self, "play \(options)") { try Play.parse(options) }
            #expect(throws: (any Error).self, "bench \(spec)") { try Bench.parse(["--policy", spec]) }
            #expect(throws: (any Error).self, "eval \(spec)") { try EvalCommand.parse(["--data", "samples", "--policy", spec]) }
        }
    }

    /// A knob the chosen policy does not read is an error, not silently ignored.
    @Test func knobsThatDoNotApplyAreRefused() {
        for options in [["--policy", "full", "--tau-exit", "0.5"], ["--policy", "fixed", "--lambda", "0.5"],
                        ["--policy", "sec", "--exit-layer", "3"], ["--policy", "sec", "--draft", "sec"],
                        ["--policy", "softmax", "--draft-length", "2"],
                        ["--policy", "speculative", "--draft", "sec", "--exit-layer", "2"]] {
            #expect(throws: (any Error).self, "\(options)") { try Complete.parse(options + ["x"]) }
        }
    }
}

/// The default model: SmolLM2 when `make smollm2` has fetched it, else models/default, said in one line.
@Suite struct DefaultModelTests {
    @Test func smolLM2WhenItsGGUFIsThereElseTheFallbackWithANote() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-default-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let smol = base.appendingPathComponent(ModelOptions.smolLM2Directory)
        try FileManager.default.createDirectory(at: smol, withIntermediateDirectories: true)
        try Data("exits".utf8).write(to: smol.appendingPathComponent("exits.safetensors"))
        var notes: [String] = []
        #expect(ModelOptions.defaultModel(in: base) { notes.append($0) } == "models/default")
        #expect(notes.count == 1 && notes[0].contains("models/smollm2-135m") && !notes[0].contains("\n"))
        try Data().write(to: smol.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf"))
        notes = []
        #expect(ModelOptions.defaultModel(in: base) { notes.append($0) } == "models/smollm2-135m")
        #expect(notes.isEmpty)
        // An explicit --model is kept as given.
        #expect(try Complete.parse(["--model", "somewhere", "x"]).modelOptions.model == "somewhere")
    }
}

/// A controller file may carry the thresholds it was tuned for (metadata `tau_exit`, `tau_stop`):
/// they replace the paper's defaults for `sec` in `complete` and `play`, and flags still win.
@Suite struct ControllerThresholdTests {
    func controllerFile(_ metadata: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("controller-\(UUID().uuidString).safetensors")
        try SafeTensorsWriter.write([.init(name: "controller.weight", shape: [3, 4], values: (0..<12).map { Float($0) / 10 })],
                                    metadata: metadata.merging(["classes": "stop,exit,continue"]) { a, _ in a }, to: url.path)
        return url
    }

    func load(_ metadata: [String: String]) throws -> StopExitController? {
        let url = try controllerFile(metadata)
        defer { try? FileManager.default.removeItem(at: url) }
        return try StopExitController.load(url: url, shape: ModelShape(architecture: .gpt2, layerCount: 2, embeddingSize: 4, headCount: 1,
                                                                       kvHeadCount: 1, headSize: 4, innerSize: 8, vocabularySize: 10,
                                                                       contextLength: 16, normEpsilon: 1e-5))
    }

    @Test func metadataThresholdsBecomeTheDefaults() throws {
        let t = try #require(try load(["tau_exit": "0.99", "tau_stop": "0.999"])?.recommendedThresholds)
        #expect(t.tauExit == 0.99 && t.tauStop == 0.999)
        #expect(try load([:])?.recommendedThresholds == nil)
        let sec = try Play.parse([]).policyOptions.configuration(controllerThresholds: t)
        #expect(sec.kind == .sec && sec.tauExit == 0.99 && sec.tauStop == 0.999)
        let flagged = try Complete.parse(["--tau-stop", "0.5", "x"]).policyOptions.configuration(controllerThresholds: t)
        #expect(flagged.tauExit == 0.99 && flagged.tauStop == 0.5, "a flag wins over the model's default")
        let paper = try Play.parse([]).policyOptions.configuration()
        #expect(paper.tauExit == 0.9 && paper.tauStop == 0.8)
    }

    @Test func malformedThresholdsAreRefusedNamingTheField() throws {
        for (metadata, field) in [(["tau_exit": "nan", "tau_stop": "0.9"], "tau_exit"), (["tau_exit": "0.9", "tau_stop": "-1"], "tau_stop"),
                                  (["tau_exit": "0.9"], "tau_stop")] {
            do {
                _ = try load(metadata)
                Issue.record("\(metadata) loaded")
            } catch {
                #expect("\(error)".contains(field) && "\(error)".contains(".safetensors"), "\(error)")
            }
        }
    }
}
