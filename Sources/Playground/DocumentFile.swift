import Foundation

/// Why a file cannot be edited, said in one line.
public struct DocumentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reading, atomically saving and recovering the file behind the editor.
public enum DocumentFile {
    /// What opening a path gave.
    public struct Opened: Sendable {
        public var text: String
        /// Binary or non-UTF-8 content: shown (lossily) but never written back.
        public var readOnlyReason: String?
        /// The file did not exist yet: a new file saved on Ctrl-S.
        public var isNew: Bool
    }

    /// Opens `path`: UTF-8 text is editable; a file with NUL bytes or invalid UTF-8 opens
    /// read-only so saving can never corrupt it.
    public static func open(_ path: String) throws -> Opened {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return Opened(text: "", readOnlyReason: nil, isNew: true)
        }
        if isDirectory.boolValue { throw DocumentError("\(path) is a directory") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DocumentError("cannot read \(path): \(error.localizedDescription)")
        }
        if data.contains(0) {
            return Opened(text: String(decoding: data.prefix(1_000_000), as: UTF8.self), readOnlyReason: "binary file (NUL bytes): read-only", isNew: false)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return Opened(text: String(decoding: data, as: UTF8.self), readOnlyReason: "not valid UTF-8: read-only", isNew: false)
        }
        return Opened(text: text, readOnlyReason: nil, isNew: false)
    }

    /// Writes `text` to `path` without ever leaving a half-written file: a temporary file in
    /// the same directory, fsync, then rename over the original (keeping its permissions).
    public static func saveAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temp = directory + "/.\(url.lastPathComponent).exitlens-\(getpid()).tmp"
        let fd = Foundation.open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DocumentError("cannot save \(path): \(String(cString: strerror(errno)))") }
        var ok = true
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue }; ok = false; break }
            written += n
        }
        let err = errno
        if ok && fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(temp)
            throw DocumentError("cannot save \(path): \(String(cString: strerror(err)))")
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = attributes[.posixPermissions] as? NSNumber {
            chmod(temp, mode_t(mode.uint16Value))
        }
        guard rename(temp, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temp)
            throw DocumentError("cannot save \(path): \(message)")
        }
    }

    /// Where unsaved text goes when the playground is killed: beside the file.
    public static func recoveryPath(for path: String?) -> String {
        guard let path else { return FileManager.default.currentDirectoryPath + "/.exitlens-scratch.recovery" }
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path + "/.\(url.lastPathComponent).exitlens-recovery"
    }
}
