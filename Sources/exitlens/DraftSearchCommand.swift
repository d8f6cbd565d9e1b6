import ArgumentParser
import Completion
import EarlyExit
import Evaluation
import Foundation

/// `exitlens draft-search`: chooses the layers a skip-layer speculative draft leaves out, on a few
/// files of the corpus's train split, and writes them beside the model as `skip-draft.json`.
struct DraftSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draft-search",
        abstract: "Choose the skip-layer draft's layers by greedy removal; write skip-draft.json beside the model."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Source files to sample windows from (the train split; never the test split).")
    var data: String = "training/data/train"

    @Option(help: "Files, spread evenly over the sorted list; one window from the start of each.")
    var files: Int = 8

    @Option(help: "Tokens per window; positions after the first 16 are scored.")
    var window: Int = 64

    @Option(name: .customLong("max-skip"), help: "Most layers to skip (the search stops there).")
    var maxSkip: Int = 12

    @Option(name: .customLong("draft-length"), help: "Drafts per verification the choice assumes.")
    var draftLength: Int = PolicyConfiguration.defaultDraftLength

    @Option(help: "Where to write the result (default: skip-draft.json beside the model's weights; '-' prints only).")
    var out: String?

    func validate() throws {
        guard (1...1000).contains(files) else { throw ValidationError("--files must be in 1…1000") }
        guard (17...4096).contains(window) else { throw ValidationError("--window must be in 17…4096") }
        guard maxSkip >= 1 else { throw ValidationError("--max-skip must be ≥ 1") }
        guard (1...64).contains(draftLength) else { throw ValidationError("--draft-length must be in 1…64") }
    }

    func run() throws {
        let model = try modelOptions.load()
        let all = SourceFiles.list(data)
        guard !all.isEmpty else { throw CommandError("\(data): no source files found") }
        let count = min(files, all.count)
        let chosen = (0..<count).map { all[$0 * all.count / count] }
        let windows = chosen.compactMap { url -> [Int]? in
            guard let d = FileManager.default.contents(atPath: url.path), let text = String(data: d, encoding: .utf8) else { return nil }
            return Array(model.tokenizer.encode(text).prefix(window))
        }
        let search = SkipLayerSearch(network: model.network, windows: windows, draftLength: draftLength)
        let url: URL?
        if out == "-" { url = nil }
        else if let out { url = URL(fileURLWithPath: out) }
        else if model.directory.pathExtension == "gguf" {
            url = model.directory.deletingLastPathComponent()
                .appendingPathComponent("\(model.directory.deletingPathExtension().lastPathComponent).\(SkipDraftFile.name)")
        } else {
            url = model.directory.appendingPathComponent(SkipDraftFile.name)
        }
        // The file is rewritten after every step, so a search cut short still leaves its best so far.
        let result = try search.run(maxSkipped: maxSkip) { step, sofar in
            FileHandle.standardError.write(Data(String(format: "skip %@ (+%d): agreement %.3f, draft step %.2f ms, est. speed-up %.2f×\n",
                                                       step.skipped.description, step.added, step.agreement,
                                                       1000 * step.draftSeconds, step.estimatedSpeedup).utf8))
            if let url, let file = skipDraftFile(sofar, model: model, windows: windows.count) { try file.write(to: url) }
        }
        guard let file = skipDraftFile(result, model: model, windows: windows.count) else {
            throw CommandError("\(data): no window longer than 16 tokens to score")
        }
        print("chosen: skip \(file.layers) (\(file.layers.layers.count) of \(model.network.shape.layerCount) layers)")
        if let url { print("wrote \(url.path)") }
    }

    private func skipDraftFile(_ result: SkipLayerSearch.Result, model: LanguageModel, windows: Int) -> SkipDraftFile? {
        guard let best = result.chosen else { return nil }
        let method = String(format: """
            exitlens draft-search --data %@ --files %d --window %d --max-skip %d --draft-length %d --threads %d: greedy removal, \
            each step skipping the layer whose removal keeps the draft's argmax equal to full depth's most often \
            (first-draft agreement on %d positions of %d train files, full-depth context); the size with the best \
            estimated speed-up of %d searched was kept (measured full step %.2f ms, verification of %d rows %.2f ms, \
            draft step by FLOPs %.2f ms, agreement %.3f, estimate %.2f×)
            """, data, files, window, maxSkip, draftLength, modelOptions.threads, result.positions, windows, result.steps.count,
            1000 * result.fullStepSeconds, draftLength + 1, 1000 * result.verifySeconds, 1000 * best.draftSeconds,
            best.agreement, best.estimatedSpeedup)
        return SkipDraftFile(layers: best.skipped, layerCount: model.network.shape.layerCount, method: method,
                             agreementBySize: result.steps.map { ($0.agreement * 1000).rounded() / 1000 }, draftLength: draftLength)
    }
}
