import ArgumentParser
import Completion
import EarlyExit
import Evaluation
import Foundation

/// `exitlens study`: the paper's teacher-forced study on your model and your code.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "First-correct-layer distribution, per-layer head accuracy and loss, and acceptance after a wrong first token."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Source files: a file or a directory (searched recursively).")
    var data: String

    @Option(help: "Window advance in tokens (default: half the context).")
    var stride: Int?

    @Option(name: .customLong("max-tokens"), help: "Stop after this many scored tokens.")
    var maxTokens: Int = 200_000

    @Option(help: "Completion examples for the wrong-first-token analysis (0: skip).")
    var samples: Int = 200

    @Option(help: "Seed of the example split points.")
    var seed: UInt64 = 42

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print a Markdown table.") var markdown = false
    @Option(help: "Also write the distribution as an SVG chart to this file.") var svg: String?

    func run() throws {
        installInterruptHandler()
        let model = try modelOptions.load()
        let files = SourceFiles.list(data)
        guard !files.isEmpty else { throw CommandError("\(data): no source files found") }
        let sequences = files.compactMap { url -> [Int]? in
            guard let d = FileManager.default.contents(atPath: url.path), let text = String(data: d, encoding: .utf8) else { return nil }
            return model.tokenizer.encode(text)
        }
        let bar = ProgressBar(label: "study")
        let study = Study(model: model.earlyExit, stride: stride, maxTokens: maxTokens)
        // Every token but each file's first is scored once: that is the bar's total.
        let scored = min(maxTokens, sequences.reduce(0) { $0 + max(0, $1.count - 1) })
        let result = try study.run(sequences: sequences, progress: { bar.update(min($0, scored), scored) },
                                   shouldStop: { interrupted.load(ordering: .relaxed) })
        bar.finish()
        var wrong: Evaluator.WrongFirstToken?
        if samples > 0 && !interrupted.load(ordering: .relaxed) {
            var proto = ExampleProtocol()
            proto.seed = seed
            let examples = proto.examples(files: files, tokenizer: model.tokenizer, count: samples)
            let progress = ProgressBar(label: "examples")
            wrong = try Evaluator(model: model).run(examples: examples, settings: [], seed: seed, lineMode: false,
                                                    progress: progress.update, shouldStop: { interrupted.load(ordering: .relaxed) }).wrongFirstToken
            progress.finish()
        }
        if let svg {
            try Charts.studySVG(result, title: "First correct layer — \(model.name)").write(toFile: svg, atomically: true, encoding: .utf8)
        }
        if json {
            struct Output: Encodable { let study: Study.Result; let wrongFirstToken: Evaluator.WrongFirstToken? }
            try printJSON(Output(study: result, wrongFirstToken: wrong))
            return
        }
        print(markdown ? Charts.studyMarkdown(result) : Charts.study(result))
        if let w = wrong {
            print("\ngreedy full-depth completions (\(counted(w.rightFirst + w.wrongFirst, "example"))): " + String(format: "acceptance %.1f%% after a right first token, %.1f%% after a wrong one (paper: 4.2%%)",
                         100 * w.acceptanceRightFirst, 100 * w.acceptanceWrongFirst))
        }
    }
}
