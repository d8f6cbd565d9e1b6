/// A validation, read or write failure.
///
/// `description` is one line naming the file (last path component), the
/// tensor when one is involved, and the problem, e.g.
/// `model.safetensors: tensor 'h.0.attn.c_attn.weight': data_offsets 0..<400 extend past the end of the file (data section holds 320 bytes)`.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// File name (last path component) or the name given for in-memory data.
    public let file: String
    /// The tensor concerned, if the problem is specific to one.
    public let tensor: String?
    /// What is wrong, without the file/tensor prefix.
    public let reason: String

    /// Creates an error; pass the file's last path component as `file`.
    public init(file: String, tensor: String? = nil, reason: String) {
        self.file = file
        self.tensor = tensor
        self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(reason)" }
        return "\(file): \(reason)"
    }
}

/// Last path component without Foundation, so messages stay short and stable.
func displayName(_ path: String) -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    guard let last = parts.last else { return path.isEmpty ? "<unnamed>" : path }
    return String(last)
}
