import FileIO
import Foundation

/// Why a file cannot be edited, said in one line.
public struct DocumentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How a file's text is stored, beyond the text itself: kept so that saving writes back the
/// bytes the user did not edit (vim's 'bomb' and 'fileformat').
public struct TextFormat: Sendable, Equatable {
    /// The file starts with a UTF-8 byte-order mark (EF BB BF).
    public var byteOrderMark: Bool
    /// Every line ends in CRLF; the buffer holds "\n" and saving writes "\r\n" again. A file
    /// with mixed endings is not converted: its CRs stay in the lines, byte for byte.
    public var crlf: Bool

    public init(byteOrderMark: Bool = false, crlf: Bool = false) {
        self.byteOrderMark = byteOrderMark
        self.crlf = crlf
    }

    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Splits file bytes into the format and the buffer text; nil when not UTF-8.
    public static func decode(_ bytes: [UInt8]) -> (text: String, format: TextFormat)? {
        var format = TextFormat()
        var body = bytes[...]
        if body.starts(with: bom) {
            format.byteOrderMark = true
            body = body.dropFirst(3)
        }
        guard var text = String(validating: body, as: UTF8.self) else { return nil }
        var newlines = 0, crlfs = 0, previous: UInt8 = 0
        for byte in body {
            if byte == 0x0A { newlines += 1; if previous == 0x0D { crlfs += 1 } }
            previous = byte
        }
        if newlines > 0 && crlfs == newlines {
            format.crlf = true
            text = String(decoding: Self.removingCR(body), as: UTF8.self)
        }
        return (text, format)
    }

    /// The bytes to write for buffer `text`.
    public func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = byteOrderMark ? Self.bom : []
        out.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            if crlf && byte == 0x0A { out.append(0x0D) }
            out.append(byte)
        }
        return out
    }

    private static func removingCR(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x0D, i + 1 < bytes.endIndex, bytes[i + 1] == 0x0A { i += 1; continue }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}

/// What the file on disk was when it was last opened or saved: its identity (device, inode)
/// and size and modification time, plus a hash of the bytes so a mere `touch` is no conflict.
public struct DiskState: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: timespec
    public var hash: UInt64

    public static func == (a: DiskState, b: DiskState) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.hash == b.hash
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }

    /// FNV-1a, 64-bit: not cryptographic, only "did the bytes change".
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// The state of `path` now (nil when it does not exist or cannot be read).
    public static func current(_ path: String) -> DiskState? {
        var st = stat()
        guard stat(path, &st) == 0, let bytes = FileManager.default.contents(atPath: path) else { return nil }
        return DiskState(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                         modified: st.st_mtim, hash: hash([UInt8](bytes)))
    }

    /// Whether `path` holds other bytes than `known` described, and its state now. The bytes are
    /// read only when identity, size or time moved; a `touch` (same bytes) is no change, and
    /// neither is a file that has gone (saving recreates it).
    public static func check(_ path: String, against known: DiskState?) -> (changed: Bool, now: DiskState?) {
        var st = stat()
        guard stat(path, &st) == 0 else { return (false, known) }
        if let known, known.device == UInt64(st.st_dev), known.inode == UInt64(st.st_ino), known.size == Int64(st.st_size),
           known.modified.tv_sec == st.st_mtim.tv_sec, known.modified.tv_nsec == st.st_mtim.tv_nsec {
            return (false, known)
        }
        guard let now = current(path) else { return (false, known) }
        return (now.hash != known?.hash, now)
    }
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
        /// BOM and line endings, written back on save.
        public var format = TextFormat()
        /// The file as read, to notice a change by another program before overwriting it.
        public var disk: DiskState?
    }

    /// Opens `path`: UTF-8 text is editable; a file with NUL bytes or invalid UTF-8 opens
    /// read-only so saving can never corrupt it.
    public static func open(_ path: String) throws -> Opened {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return Opened(text: "", readOnlyReason: nil, isNew: true)
        }
        if isDirectory.boolValue { throw DocumentError("\(path) is a directory") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DocumentError("cannot read \(path): \(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        var st = stat()
        let disk = stat(path, &st) == 0
            ? DiskState(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size), modified: st.st_mtim,
                        hash: DiskState.hash(bytes))
            : nil
        if bytes.contains(0) {
            return Opened(text: String(decoding: bytes.prefix(1_000_000), as: UTF8.self), readOnlyReason: "binary file (NUL bytes): read-only",
                          isNew: false, disk: disk)
        }
        guard let (text, format) = TextFormat.decode(bytes) else {
            return Opened(text: String(decoding: bytes, as: UTF8.self), readOnlyReason: "not valid UTF-8: read-only", isNew: false, disk: disk)
        }
        return Opened(text: text, readOnlyReason: nil, isNew: false, format: format, disk: disk)
    }

    /// Writes `text` to `path` without ever leaving a half-written file: a temporary file in
    /// the same directory, fsync, then rename over the original (keeping its permissions).
    /// Returns the file's new state on disk.
    @discardableResult
    public static func saveAtomically(_ text: String, format: TextFormat = TextFormat(), to path: String) throws -> DiskState? {
        try writeFile(format.encode(text), to: path)
        return DiskState.current(path)
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        do { try AtomicFile.write(bytes, to: path) } catch { throw DocumentError("cannot save \(path): \(error.reason)") }
    }

    // MARK: Recovery

    /// Where unsaved text goes when the playground is killed: beside the file.
    public static func recoveryPath(for path: String?) -> String {
        guard let path else { return FileManager.default.currentDirectoryPath + "/.exitlens-scratch.recovery" }
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path + "/.\(url.lastPathComponent).exitlens-recovery"
    }

    /// Every place a recovery file may go, best first: beside the file, then the user's state
    /// directory (`$XDG_STATE_HOME/exitlens`, else `~/.local/state/exitlens`), then the
    /// temporary directory. Away from the file, the name is the file's absolute path with "/"
    /// written as "%" (as vim names swap files), so two files never share one.
    public static func recoveryCandidates(for path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let beside = recoveryPath(for: path)
        let absolute = path.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? FileManager.default.currentDirectoryPath + "/.exitlens-scratch"
        let name = absolute.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "/", with: "%") + ".exitlens-recovery"
        var directories: [String] = []
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { directories.append(state + "/exitlens") }
        if let home = environment["HOME"], home.hasPrefix("/") { directories.append(home + "/.local/state/exitlens") }
        let temp = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        directories.append(temp + "/exitlens-\(getuid())")
        var seen: Set<String> = [beside]
        return [beside] + directories.map { $0 + "/" + name }.filter { seen.insert($0).inserted }
    }

    /// Writes the recovery file to the first place that takes it; returns where it went.
    public static func writeRecovery(_ text: String, for path: String?,
                                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var failures: [String] = []
        for candidate in recoveryCandidates(for: path, environment: environment) {
            let directory = URL(fileURLWithPath: candidate).deletingLastPathComponent().path
            // Private: the text may be anything the user typed.
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            do {
                try writeFile(Array(text.utf8), to: candidate)
                chmod(candidate, 0o600)
                return candidate
            } catch {
                failures.append("\(error)")
            }
        }
        throw DocumentError("could not write a recovery file anywhere (\(failures.joined(separator: "; ")))")
    }

    /// The recovery file left for `path`, if any (searched where `writeRecovery` writes).
    public static func findRecovery(for path: String?,
                                    environment: [String: String] = ProcessInfo.processInfo.environment) -> (path: String, text: String)? {
        for candidate in recoveryCandidates(for: path, environment: environment) {
            if let text = try? String(contentsOfFile: candidate, encoding: .utf8) { return (candidate, text) }
        }
        return nil
    }

    /// Removes every recovery file for `path` (after a save or a restore).
    public static func removeRecovery(for path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        for candidate in recoveryCandidates(for: path, environment: environment) { unlink(candidate) }
    }
}
