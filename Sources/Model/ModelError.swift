/// Why a model could not be loaded or run. Every case prints as one line that
/// names the file (and tensor, where there is one).
public enum ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A problem with a specific file.
    case file(String, String)
    /// A tensor is missing or mis-shaped.
    case tensor(file: String, name: String, String)
    /// A configuration this engine does not implement.
    case unsupported(String)
    /// A request the model cannot serve (e.g. past the context length, a bad token id).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .file(let file, let why): return "\(file): \(why)"
        case .tensor(let file, let name, let why): return "\(file): tensor '\(name)': \(why)"
        case .unsupported(let what): return "unsupported model configuration: \(what)"
        case .invalidInput(let why): return why
        }
    }
}
