import Foundation

/// Replays a keystroke script against the in-memory screen and writes screen dumps, so the
/// playground can be exercised without a terminal (`exitlens play --script keys.txt --dump DIR`).
///
/// One command per line (`#` starts a comment):
///
///     size 100x30          resize the screen
///     type def fib(n):     type the rest of the line, character by character
///     key Enter Tab F2     press keys by name (Ctrl-S, Alt-], Ctrl-Right, F1…)
///     wait model           fire the debounce now and wait for the model to finish
///     wait 200             wait 200 ms, then deliver whatever the model produced
///     dump NAME            write DIR/NAME.txt (text, styles, legend)
public struct ScriptRunner {
    public let session: PlaygroundSession
    public let screen: MemoryScreen
    public let dumpDirectory: String?

    public init(session: PlaygroundSession, screen: MemoryScreen, dumpDirectory: String?) {
        self.session = session
        self.screen = screen
        self.dumpDirectory = dumpDirectory
    }

    /// Runs `script`; returns the names of the dumps written. Stops at a quit.
    @discardableResult
    public func run(_ script: String) throws -> [String] {
        var dumps: [String] = []
        if let dumpDirectory {
            try FileManager.default.createDirectory(atPath: dumpDirectory, withIntermediateDirectories: true)
        }
        for (number, raw) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let command = trimmed.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            // `type` keeps everything after one space, including leading spaces.
            let argument = line.drop { $0 == " " }.dropFirst(command.count).dropFirst()
            func fail(_ why: String) -> DocumentError { DocumentError("script line \(number + 1): \(why)") }
            switch command {
            case "size":
                let parts = argument.split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw fail("size wants WxH") }
                guard parts.allSatisfy({ (1...1000).contains($0) }) else { throw fail("size wants WxH within 1…1000") }
                screen.resize(width: parts[0], height: parts[1])
                session.resize(width: parts[0], height: parts[1])
                _ = session.handle(.resize, now: monotonicSeconds())
            case "type":
                for ch in argument {
                    if session.handle(.character(ch), now: monotonicSeconds()) == .quit { return dumps }
                }
            case "key":
                for name in argument.split(separator: " ") {
                    guard let key = Key(name: String(name)) else { throw fail("unknown key '\(name)'") }
                    if session.handle(key, now: monotonicSeconds()) == .quit { return dumps }
                }
            case "wait":
                if argument == "model" {
                    guard session.waitForModel(timeout: 120, now: monotonicSeconds) else { throw fail("the model did not finish in 120 s") }
                } else if let ms = Int(argument) {
                    Thread.sleep(forTimeInterval: Double(ms) / 1000)
                    session.tick(now: monotonicSeconds())
                    session.receive(session.drainWorker(), now: monotonicSeconds())
                } else {
                    throw fail("wait wants 'model' or milliseconds")
                }
            case "dump":
                let name = argument.trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, !name.contains("/") else { throw fail("dump wants a plain name") }
                session.render(to: screen)
                if let dumpDirectory {
                    try screen.dump().write(toFile: dumpDirectory + "/" + name + ".txt", atomically: true, encoding: .utf8)
                }
                dumps.append(name)
            default:
                throw fail("unknown command '\(command)' (size, type, key, wait, dump)")
            }
        }
        session.render(to: screen)
        return dumps
    }
}
