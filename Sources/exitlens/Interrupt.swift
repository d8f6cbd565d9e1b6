import Foundation
import Synchronization

/// Set by SIGINT so long runs can stop between items and print what they have.
let interrupted = Atomic<Bool>(false)

/// Routes the first Ctrl-C to `interrupted`; a second one kills the process as usual.
func installInterruptHandler() {
    signal(SIGINT) { _ in
        if interrupted.exchange(true, ordering: .relaxed) { exit(130) }
    }
}

/// A one-line progress bar with ETA on stderr.
struct ProgressBar {
    let label: String
    let start = Date()

    func update(_ done: Int, _ total: Int) {
        guard total > 0 else { return }
        let fraction = Double(done) / Double(total)
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let filled = Int(fraction * 30)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
        FileHandle.standardError.write(Data(String(format: "\r%@ %@ %d/%d  ETA %ds ", label, bar, done, total, Int(eta)).utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
