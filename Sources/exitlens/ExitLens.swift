import ArgumentParser

/// `exitlens`: early-exit code completion from the terminal.
@main
struct ExitLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exitlens",
        abstract: "Early-exit code completion: a GPT-2 engine, its benchmarks and playground.",
        subcommands: [Complete.self, Bench.self, StudyCommand.self, EvalCommand.self, Play.self, Report.self, DraftSearchCommand.self]
    )
}
