import ArgumentParser
import Completion
import Foundation

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (Hugging Face GPT-2 layout).")
    var model: String = "models/default"

    @Option(name: .long, help: "Compute threads.")
    var threads: Int = 2

    @Option(name: .long, help: "Keep weights in memory as f32 or f16 (default: f16 for F16 checkpoints, else f32).")
    var precision: WeightPrecision?

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
    }

    var directory: URL { URL(fileURLWithPath: model) }

    func load(threads override: Int? = nil) throws -> LanguageModel {
        try LanguageModel.load(directory: directory, threads: override ?? threads, precision: precision)
    }
}

extension WeightPrecision: ExpressibleByArgument {}

/// A failure reported as one line on stderr with a non-zero exit.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
