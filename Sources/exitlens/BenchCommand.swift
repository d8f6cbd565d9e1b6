import ArgumentParser
import Completion
import EarlyExit
import Evaluation
import Foundation
import Model
import Playground

/// `exitlens bench`: prefill and decode speed of the full-depth model.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill tokens/s, decode ms/token (median, p95) and peak memory."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Context lengths to decode at, comma-separated.")
    var contexts: String = "64,256,512"

    @Option(name: .customLong("thread-counts"), help: "Thread counts to compare, comma-separated, measured interleaved.")
    var threadCounts: String = "1,2"

    @Option(name: .customLong("pass-rows"), help: "Also time one full-depth pass over each of these row counts (a speculative verification of r − 1 drafts) at context 256, in single-token steps, e.g. 1,2,3,5.")
    var passRows: String?

    @Option(help: "Tokens decoded per measurement.")
    var tokens: Int = 32

    @Option(help: "Repetitions (interleaved across thread counts).")
    var repeats: Int = 5


    @Flag(help: "Print JSON.")
    var json = false

    @Option(name: .customLong("policy"), help: ArgumentHelp(
        "Compare decoding settings with full, interleaved: full, sec:τexit:τstop, softmax:λ, saturation:λ, fixed:k, speculative:k:n, speculative:skip:layers:n (repeatable; a bare name takes the defaults).",
        valueName: "spec"), transform: parsePolicySpec)
    var policies: [PolicyConfiguration] = []

    @Option(help: "Prompt source for --policy and --playground: a file or directory of source files.")
    var prompts: String = "samples"

    @Option(name: .customLong("prompt-count"), help: "Prompts for --policy, cut evenly from the files.")
    var promptCount: Int = 64

    @Option(name: .customLong("max-tokens"), help: "Tokens per completion for --policy and --playground.")
    var maxTokens: Int = 16

    @Flag(help: "Measure the playground's latency from request (end of debounce) to the first ghost token on screen, typing --prompts files through the real session, worker and renderer (--policy: its setting, default sec).")
    var playground = false

    @Flag(name: .customLong("no-background-prefill"), help: "--playground: do not pre-fill each file into the prefix cache when it opens and after each suggestion (the playground does).")
    var noBackgroundPrefill = false

    func validate() throws {
        if playground && policies.count > 1 { throw ValidationError("--playground measures one --policy setting at a time") }
        guard promptCount >= 1 else { throw ValidationError("--prompt-count must be at least 1") }
    }

    func run() throws {
        if playground { return try runPlayground() }
        if !policies.isEmpty { return try runPolicies() }
        var options = DecodeBenchmark.Options()
        options.contexts = try parseList(contexts, "--contexts")
        options.threads = try parseList(threadCounts, "--thread-counts")
        if let passRows { options.passRows = try parseList(passRows, "--pass-rows") }
        options.decodeTokens = max(1, tokens)
        options.repeats = max(1, repeats)
        // Only the network is needed: benchmark models need not ship a tokenizer.
        let network = try loadNetwork(at: modelOptions.directory, threads: 1, precision: modelOptions.precision,
                                      contextLimit: LanguageModel.defaultGGUFContext)
        let report = try DecodeBenchmark(options: options).run(network: network, modelName: modelOptions.directory.lastPathComponent) { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        if json {
            try printJSON(report)
        } else {
            print(BenchReportFormatter.text(report))
        }
    }

    private func runPolicies() throws {
        let model = try modelOptions.load()
        let files = SourceFiles.list(prompts)
        guard !files.isEmpty else { throw CommandError("\(prompts): no readable source files") }
        let report = try PolicyBenchmark(maxTokens: maxTokens, repeats: repeats).run(
            model: model, specs: policies, prompts: PolicyBenchmark.prompts(files: files, limit: promptCount)) { line in
            FileHandle.standardError.write(Data("bench: \(line)\r".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        if json {
            try printJSON(report)
        } else {
            print(PolicyBenchmark.text(report))
        }
    }

    private func runPlayground() throws {
        var options = PlaygroundBenchmark.Options()
        options.maxTokens = max(1, maxTokens)
        options.backgroundPrefill = !noBackgroundPrefill
        if let policy = policies.first { options.policy = policy }
        let model = try modelOptions.load()
        do { try options.policy.validate(layerCount: model.network.shape.layerCount) } catch var error as PolicyConfigurationError {
            error.spec = options.policy.description
            throw error
        }
        let files = SourceFiles.list(prompts)
        guard !files.isEmpty else { throw CommandError("\(prompts): no readable source files") }
        let report = try PlaygroundBenchmark(options: options).run(model: model, threads: modelOptions.threads, files: files) { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        let machine = MachineInfo.current()
        if json {
            struct Output: Encodable { var machine: MachineInfo; var playground: PlaygroundBenchmark.Report }
            try printJSON(Output(machine: machine, playground: report))
        } else {
            print(PlaygroundBenchmark.text(report))
            print("machine \(machine.cpu) · \(machine.cores) cores · \(machine.date)")
        }
    }

    private func parseList(_ text: String, _ flag: String) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else { throw ValidationError("\(flag) wants positive integers, e.g. 1,2") }
        return values
    }
}
