import ArgumentParser
import Completion
import EarlyExit
import Foundation
import Model

/// `exitlens complete`: print a completion of a prompt.
struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Complete a prompt (argument, --file, or standard input) and print the continuation."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var policyOptions: PolicyOptions

    @Argument(help: "The prompt. Omit it to read --file or standard input.")
    var prompt: String?

    @Option(name: .long, help: "Read the prompt from this file.")
    var file: String?

    @Option(name: .customLong("max-tokens"), help: "Maximum number of new tokens.")
    var maxTokens: Int = 32

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: off).")
    var topK: Int = 0

    @Option(name: .customLong("top-p"), help: "Nucleus sampling threshold (1: off).")
    var topP: Float = 1

    @Option(name: .customLong("repetition-penalty"), help: "Penalty on tokens already in the context (1: off).")
    var repetitionPenalty: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: "Print JSON: text, tokens, ids, per-token timings and traces.")
    var json = false

    @Flag(help: "After the completion, print a per-token table: exit layer, signal, FLOPs.")
    var trace = false

    @Flag(help: "Token healing, as the playground does: a prompt ending inside a word gives up its last token and the first new token must re-spell it (prints only what follows the prompt).")
    var heal = false

    @Option(name: .customLong("trace-top-k"), help: "Record the top-k tokens of every visited layer's head in the trace.")
    var traceTopK: Int = 0

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be ≥ 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw ValidationError("--repetition-penalty must be a finite number > 0") }
        guard traceTopK >= 0 else { throw ValidationError("--trace-top-k must be ≥ 0") }
        _ = try policyOptions.configuration()
        if prompt != nil && file != nil { throw ValidationError("give the prompt as an argument or --file, not both") }
    }

    func run() throws {
        let text = try readPrompt()
        let model = try modelOptions.load()
        let completer = Completer(model: model)
        let L = model.network.shape.layerCount
        var configuration = try policyOptions.configuration(controllerThresholds: model.earlyExit.controller?.recommendedThresholds)
        // The default policy on a model that cannot run it: full depth, said in one line (as `play` does).
        if policyOptions.policy == nil {
            do { try model.earlyExit.check(configuration.makePolicy(layerCount: L).policy) } catch {
                FileHandle.standardError.write(Data("exitlens: \(error): using full (--policy picks another)\n".utf8))
                configuration = .full
            }
        }
        var request = try CompletionRequest(
            prompt: text, maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP,
                                         repetitionPenalty: repetitionPenalty, seed: seed),
            configuration: configuration, layerCount: L,
            traceTopK: traceTopK)
        request.healsPartialWord = heal
        if json {
            let result = try completer.complete(request)
            try printJSON(result)
        } else {
            // Stream the text as it is generated, like an editor's ghost text.
            var printed = 0
            let result = try completer.complete(request) { token in
                FileHandle.standardOutput.write(Data(token.text.utf8))
                printed += token.text.utf8.count
            }
            // Bytes of an unfinished character are flushed only at the end.
            print(String(decoding: Array(result.text.utf8.dropFirst(printed)), as: UTF8.self))
            if trace { print(TraceTable.render(result, tokenizer: model.tokenizer, layerCount: L)) }
        }
    }

    private func readPrompt() throws -> String {
        if let prompt {
            // Swift repairs invalid UTF-8 in arguments with U+FFFD; the bytes as given are refused
            // like the same bytes in a file.
            if prompt.contains("\u{FFFD}") && Self.invalidUTF8Arguments().contains(prompt) {
                throw CommandError("the prompt argument: is not UTF-8 text")
            }
            return prompt
        }
        let data: Data
        if let file {
            guard let d = FileManager.default.contents(atPath: file) else { throw CommandError("\(file): cannot be read") }
            data = d
        } else {
            guard isatty(STDIN_FILENO) == 0 else {
                throw CommandError("no prompt: give it as an argument, with --file, or on standard input")
            }
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        // Byte for byte, like an argument: Foundation's String(data:encoding:) would drop a
        // leading byte-order mark, so the same text tokenised differently by where it came from.
        guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
            throw CommandError("\(file ?? "standard input"): is not UTF-8 text")
        }
        return text
    }

    /// The command-line arguments whose bytes are not valid UTF-8, as Swift decoded them.
    static func invalidUTF8Arguments() -> [String] {
        (0..<Int(CommandLine.argc)).compactMap { i in
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { return nil }
            return String(cString: raw)
        }
    }
}
