import ArgumentParser
import Foundation
import Playground

/// `exitlens report LOG…`: the playground's session logs summarised per model and policy.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise playground session logs: acceptance, exit layers and latency per model and policy.",
        discussion: "The playground appends to $XDG_STATE_HOME/exitlens/play-log.jsonl (or ~/.local/state/…) unless run with --no-log."
    )

    @Argument(help: "Session logs (JSON Lines) written by `exitlens play`.")
    var logs: [String] = []

    func run() throws {
        let paths = logs.isEmpty ? [SessionLog.defaultPath()].compactMap { $0 } : logs
        if logs.isEmpty, let path = paths.first, !FileManager.default.fileExists(atPath: path) {
            print("no session log yet at \(path) (`exitlens play` writes it unless run with --no-log)")
            return
        }
        let report: SessionReport
        do { report = try SessionReport.load(paths: paths) } catch { throw CommandError("\(error)") }
        if report.rows.isEmpty {
            print("no suggestions recorded in \(paths.joined(separator: ", "))")
            return
        }
        print(report.table(), terminator: "")
    }
}
