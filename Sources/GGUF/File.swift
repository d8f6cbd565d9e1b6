#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor's validated header entry.
public struct GGUFTensor: Sendable, Equatable {
    public let name: String
    /// Dimensions in ggml order: `dims[0]` (ne[0]) varies fastest and is the row length,
    /// so a `[out, in]` matrix has `dims == [in, out]`.
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute offset of the first byte in the file.
    public let offset: Int
    /// Bytes of stored data (whole blocks).
    public let byteCount: Int

    /// Product of `dims`; validated not to overflow when the file was opened.
    public var elementCount: Int { dims.reduce(1, *) }
    /// Number of rows: every dimension but the first.
    public var rowCount: Int { elementCount / dims[0] }
}

/// A validated GGUF file (version 2 or 3, little-endian), memory-mapped read-only.
///
/// The initializer validates the whole header — every count, string, value,
/// tensor shape, offset and overlap — against the file size before returning,
/// so `bytes(of:)` never reads outside the file. Tensor data is not copied: it
/// is read from the mapping, which lives as long as this object. (Truncating
/// the file on disk while it is mapped would fault, as with any mmap reader.)
public final class GGUFFile: @unchecked Sendable {
    // @unchecked: the only non-Sendable state is the read-only mapping, never written after init.

    /// The path as given (or the name given to `init(bytes:name:)`).
    public let path: String
    /// 2 or 3.
    public let version: Int
    /// `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// Every metadata entry by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensor]
    /// Absolute offset of the data section.
    public let dataOffset: Int
    /// Size of the file in bytes.
    public var fileSize: Int { buffer.count }

    private let buffer: UnsafeRawBufferPointer
    private let isMapped: Bool
    private let tensorIndex: [String: Int]
    /// File name used in error messages.
    let displayFile: String

    /// Maps and validates the file at `path`.
    /// - Throws: `GGUFError` for a missing or unreadable file or any format problem.
    public convenience init(path: String) throws {
        let file = displayName(path)
        let buffer = try mapFile(path, file: file)
        do {
            let header = try GGUFParser.parse(buffer, file: file)
            self.init(path: path, buffer: buffer, isMapped: true, header: header)
        } catch {
            if let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), buffer.count) }
            throw error
        }
    }

    /// Validates an in-memory file image (copied); `name` is used as `path` and in messages.
    public convenience init(bytes: [UInt8], name: String) throws {
        let file = displayName(name)
        // 64-byte aligned so tensor data is as aligned as in a page-aligned mapping, up to 64.
        let owned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        owned.copyBytes(from: bytes)
        do {
            let header = try GGUFParser.parse(UnsafeRawBufferPointer(owned), file: file)
            self.init(path: name, buffer: UnsafeRawBufferPointer(owned), isMapped: false, header: header)
        } catch {
            owned.deallocate()
            throw error
        }
    }

    private init(path: String, buffer: UnsafeRawBufferPointer, isMapped: Bool, header: ParsedHeader) {
        self.path = path
        self.displayFile = displayName(path)
        self.buffer = buffer
        self.isMapped = isMapped
        self.version = header.version
        self.alignment = header.alignment
        self.metadata = header.metadata
        self.metadataKeys = header.metadataKeys
        self.tensors = header.tensors
        self.dataOffset = header.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    deinit {
        if isMapped {
            if let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), buffer.count) }
        } else {
            buffer.deallocate()
        }
    }

    /// The tensor called `name`, or `nil`.
    public func tensor(_ name: String) -> GGUFTensor? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Lets the kernel drop the file pages of `tensor` from this process's memory once a loader has
    /// copied them (they are read back from disk if touched again), so loading a model costs about
    /// its own size in resident memory rather than twice that.
    public func releasePages(of tensor: GGUFTensor) {
        guard isMapped, let base = buffer.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Only whole pages inside the tensor: a neighbour's bytes are never dropped early (harmless anyway).
        let start = (tensor.offset + page - 1) / page * page, end = (tensor.offset + tensor.byteCount) / page * page
        guard page > 0, end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    /// The tensor's stored bytes, valid while this `GGUFFile` lives.
    /// `tensor` must come from this file.
    public func bytes(of tensor: GGUFTensor) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= dataOffset && tensor.byteCount <= buffer.count - tensor.offset,
                     "tensor '\(tensor.name)' does not belong to \(displayFile)")
        return UnsafeRawBufferPointer(rebasing: buffer[tensor.offset..<(tensor.offset + tensor.byteCount)])
    }
}

/// Maps a regular file read-only; every failure becomes a one-line `GGUFError`.
private func mapFile(_ path: String, file: String) throws(GGUFError) -> UnsafeRawBufferPointer {
    func posixFailure(_ what: String) -> GGUFError {
        let code = errno
        return GGUFError(file: file, field: "file", reason: "\(what): \(String(cString: strerror(code)))")
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw posixFailure("cannot open '\(path)'") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw posixFailure("cannot stat '\(path)'") }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        throw GGUFError(file: file, field: "file", reason: "'\(path)' is not a regular file")
    }
    guard let size = Int(exactly: st.st_size), size > 0 else {
        throw GGUFError(file: file, field: "magic", reason: "file is empty, too short for a GGUF header")
    }
    // MAP_PRIVATE + PROT_READ: nothing we do can reach the file.
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
        throw posixFailure("cannot map '\(path)'")
    }
    return UnsafeRawBufferPointer(start: base, count: size)
}
