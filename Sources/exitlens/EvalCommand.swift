import ArgumentParser
import Completion
import EarlyExit
import Evaluation
import Foundation

/// `exitlens eval`: the paper's completion protocol, per decoding setting.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "ROUGE-L, exact match, edit similarity, acceptance, FLOPs and same-run speedup per decoding setting."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Source files: a file or a directory (searched recursively).")
    var data: String

    @Option(help: "Number of examples (default: one per file).") var samples: Int?
    @Option(help: "Seed of the split points.") var seed: UInt64 = 42
    @Option(help: "Prompt: at most this many tokens before the split.") var context: Int = 256
    @Option(name: .customLong("max-new"), help: "New tokens per completion (and target length).") var maxNew: Int = 10
    @Flag(help: "Target = the rest of the current line, as an editor would complete.") var line = false
    @Option(name: .customLong("policy"), help: ArgumentHelp(
        "Settings to compare with full (repeatable): sec:τexit:τstop, softmax:λ, saturation:λ, fixed:k, speculative:k:n, speculative:skip:layers:n (a bare name takes the defaults).",
        valueName: "spec"), transform: parsePolicySpec)
    var policies: [PolicyConfiguration] = []
    @Flag(help: "Run the default grid (τ_exit × τ_stop, λ, k, speculative).") var sweep = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print a Markdown table.") var markdown = false
    @Option(help: "Write the quality/speed chart as SVG to this file.") var svg: String?

    func validate() throws {
        if let samples, samples < 1 { throw ValidationError("--samples must be ≥ 1") }
        guard context >= 1 else { throw ValidationError("--context must be ≥ 1") }
        guard maxNew >= 1 else { throw ValidationError("--max-new must be ≥ 1") }
    }

    func run() throws {
        installInterruptHandler()
        let model = try modelOptions.load()
        let files = SourceFiles.list(data)
        guard !files.isEmpty else { throw CommandError("\(data): no source files found") }
        var proto = ExampleProtocol()
        proto.seed = seed
        proto.context = context
        proto.targetLength = maxNew
        proto.lineMode = line
        let examples = proto.examples(files: files, tokenizer: model.tokenizer, count: samples)
        guard !examples.isEmpty else { throw CommandError("\(data): no file has enough tokens for an example") }
        let specs = (sweep ? try Evaluator.sweep(layerCount: model.network.shape.layerCount) : []) + policies
        let bar = ProgressBar(label: "eval")
        let report = try Evaluator(model: model, maxNewTokens: line ? 64 : maxNew).run(
            examples: examples, settings: specs, seed: seed, lineMode: line, progress: bar.update,
            shouldStop: { interrupted.load(ordering: .relaxed) })
        bar.finish()
        if interrupted.load(ordering: .relaxed) {
            FileHandle.standardError.write(Data("interrupted: results for the first \(counted(report.examples, "example"))\n".utf8))
        }
        if let svg {
            try Charts.paretoSVG(report, title: "Quality vs speed — \(model.name), \(counted(report.examples, "example"))").write(toFile: svg, atomically: true, encoding: .utf8)
        }
        if json {
            try printJSON(report)
        } else {
            print(Charts.evaluation(report, markdown: markdown))
            if report.rows.count > 1 { print("\n" + Charts.pareto(report)) }
        }
    }
}
