/// A validation, read, lookup or write failure.
///
/// `description` is one line: `<file name>: <field>: <what is wrong>`, e.g.
/// `model.gguf: tensor 'blk.0.attn_q.weight' offset: 4100 is not a multiple of the alignment 32`.
public struct GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    /// File name (last path component), or the name given for in-memory data.
    public let file: String
    /// The header field, metadata key or tensor concerned.
    public let field: String
    /// What is wrong, without the prefix.
    public let reason: String

    public init(file: String, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(file): \(field): \(reason)" }
}

/// Last path component without Foundation, so messages stay short and stable.
func displayName(_ path: String) -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    guard let last = parts.last else { return path.isEmpty ? "<unnamed>" : path }
    return String(last)
}

/// Quotes untrusted text for a one-line message: control characters (newlines
/// included) are escaped and very long text is cut, so a hostile key cannot
/// break the one-line rule or flood a terminal.
func quoted(_ s: String) -> String {
    var out = "'"
    var n = 0
    for scalar in s.unicodeScalars {
        if n == 80 { out += "…"; break }
        n += 1
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += scalar.escaped(asASCII: true)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + "'"
}
