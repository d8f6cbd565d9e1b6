/// Error thrown when a tokenizer file cannot be read or does not describe a
/// usable byte-level BPE tokenizer.
///
/// The description always names the offending file (and line, where the
/// format is line-based) so a user can fix a broken model directory without
/// reading the loader's source.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path of the file being loaded, if the error came from a file.
    public let file: String?
    /// 1-based line number, for line-based formats (merges.txt, .tiktoken).
    public let line: Int?
    /// What is wrong, in words.
    public let message: String

    /// Creates an error; `file` and `line` locate the problem when known.
    public init(_ message: String, file: String? = nil, line: Int? = nil) {
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String {
        switch (file, line) {
        case let (file?, line?): return "\(file):\(line): \(message)"
        case let (file?, nil): return "\(file): \(message)"
        default: return message
        }
    }
}
