import Foundation

/// One suggestion as the user met it: what was shown, what was accepted, how it was made.
/// A line of the session log (JSON Lines) that `exitlens report` reads.
public struct SuggestionRecord: Codable, Sendable, Equatable {
    /// Seconds since 1970 when the suggestion was retired (dismissed, replaced or used up).
    public var time: Double
    public var model: String
    public var layers: Int
    /// Policy kind ("sec", "fixed", …) and its full setting ("sec τexit=0.9 τstop=0.8").
    public var policy: String
    public var setting: String
    /// 0 for the greedy suggestion, n for the n-th sampled one (Alt-]).
    public var alternative: Int
    /// The ghost text as first shown in full (after shaping).
    public var shown: String
    public var shownChars: Int
    /// Characters and tokens accepted with Tab / word / line, and typed through.
    public var acceptedChars: Int
    public var acceptedTokens: Int
    public var typedChars: Int
    /// Every generated token's exit layer (the first from the prompt's full-depth pass).
    public var exitLayers: [Int]
    /// Keystroke to first ghost token, and mean decode time of the later tokens, milliseconds.
    public var firstTokenMs: Double?
    public var perTokenMs: Double?
    /// FLOPs over full depth's.
    public var costRatio: Double?
    /// The controller stopped it.
    public var stopped: Bool

    public var wasAccepted: Bool { acceptedChars > 0 }
}

/// Appends records to a JSON Lines file; a write that fails turns the log off with one message
/// (the editor must never stop over its log).
public final class SessionLog {
    public let path: String
    private var handle: FileHandle?
    public private(set) var failure: String?

    public init(path: String) {
        self.path = path
    }

    /// `$XDG_STATE_HOME/exitlens/play-log.jsonl`, else `~/.local/state/exitlens/play-log.jsonl`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/exitlens/play-log.jsonl" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.local/state/exitlens/play-log.jsonl" }
        return nil
    }

    public func append(_ record: SuggestionRecord) {
        guard failure == nil else { return }
        do {
            if handle == nil {
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
                guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
                h.seekToEndOfFile()
                handle = h
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var line = try encoder.encode(record)
            line.append(0x0A)
            try handle?.write(contentsOf: line)
        } catch {
            failure = "session log \(path): \(error.localizedDescription) (logging off)"
        }
    }

    deinit { try? handle?.close() }
}
