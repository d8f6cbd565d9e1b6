import ArgumentParser
import Completion
import Foundation

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a Hugging Face directory (GPT-2, Llama, Qwen2, CodeGen), a .gguf file, or a directory holding one.")
    var model: String = "models/default"

    @Option(name: .customLong("exit-heads"), help: "Exit heads: the exits file beside the model (file), or the untrained logit lens at every layer (lens).")
    var exitHeads: ExitHeadSource = .file

    @Option(name: .long, help: "Compute threads.")
    var threads: Int = 2

    @Option(name: .long, help: "Keep weights in memory as f32 or f16 (default: f16 for F16 checkpoints, else f32).")
    var precision: WeightPrecision?

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
    }

    var directory: URL { URL(fileURLWithPath: model) }

    func load(threads override: Int? = nil) throws -> LanguageModel {
        let model = try LanguageModel.load(directory: directory, threads: override ?? threads, precision: precision)
        return exitHeads == .lens ? model.withLogitLens() : model
    }
}

/// Where exit heads come from.
enum ExitHeadSource: String, CaseIterable, ExpressibleByArgument {
    case file, lens
}

extension WeightPrecision: ExpressibleByArgument {}

/// A failure reported as one line on stderr with a non-zero exit.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
