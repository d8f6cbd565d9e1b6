#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a whole file so that readers see the old bytes or the new ones, never a mix: a
/// temporary file in the same directory (rename is atomic only within one file system), fsync,
/// then rename over the target. A target that exists keeps its permissions. Shared by the model
/// writers (safetensors, GGUF) and the playground's save.
public enum AtomicFile {
    /// Which step failed, on which path, and why.
    public struct Failure: Error, CustomStringConvertible, Sendable, Equatable {
        /// The step and its path, e.g. `cannot write '/d/.f.tmp-12-345'`.
        public let step: String
        /// The system's reason (strerror).
        public let reason: String
        public var description: String { "\(step): \(reason)" }
    }

    /// Replaces (or creates) `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        // Hidden, and unique per process and call, so two writers never share a temporary file.
        let temp = "\(directory).\(name).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        var info = stat()
        let existingMode: mode_t? = stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil

        func failure(_ step: String, code: Int32 = errno) -> Failure {
            Failure(step: step, reason: String(cString: strerror(code)))
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create temporary file '\(temp)'") }
        var failed: Failure?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count, let base = raw.baseAddress {
                let n = posixWrite(fd, base + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                // write(2) returning 0 for a non-empty buffer means no room.
                guard n > 0 else { failed = failure("cannot write '\(temp)'", code: n < 0 ? errno : ENOSPC); return }
                done += n
            }
        }
        if failed == nil, let existingMode, fchmod(fd, existingMode) != 0 { failed = failure("cannot set the mode of '\(temp)'") }
        if failed == nil, fsync(fd) != 0 { failed = failure("cannot fsync '\(temp)'") }
        if close(fd) != 0, failed == nil { failed = failure("cannot close '\(temp)'") }
        if failed == nil, rename(temp, path) != 0 { failed = failure("cannot rename onto '\(path)'") }
        if let failed {
            unlink(temp)
            throw failed
        }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
