#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A fixed-size, 64-byte-aligned block of `Float`s owned by a reference.
///
/// Weights and activations live here rather than in `[Float]` so the hot loops
/// work on raw pointers without copy-on-write checks or bounds checks, and so
/// SIMD loads never straddle cache lines.
public final class FloatBuffer: @unchecked Sendable {
    // @unchecked: the pointer is owned by this object; callers synchronise writes
    // (weights are written once at load, activations by one decode at a time).
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    /// Bytes mapped with `mmap` (lazily zeroed storage), or 0 for heap storage.
    private let mappedBytes: Int

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        // Round up to a whole number of SIMD16 vectors so tail loads stay in bounds.
        let padded = max(16, (count + 15) & ~15)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: padded * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: padded)
        pointer.initialize(repeating: 0, count: padded)
        mappedBytes = 0
    }

    /// Allocates `count` zeroed floats whose pages only become resident when first written: a KV
    /// cache sized for the whole context costs memory for the positions actually used.
    public init(lazilyZeroed count: Int) {
        precondition(count >= 0)
        self.count = count
        let bytes = max(64, ((count + 15) & ~15) * MemoryLayout<Float>.stride)
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else { fatalError("FloatBuffer: cannot map \(bytes) bytes") }
        pointer = raw.bindMemory(to: Float.self, capacity: bytes / 4)
        mappedBytes = bytes
    }

    /// Allocates and copies `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        if mappedBytes > 0 { munmap(UnsafeMutableRawPointer(pointer), mappedBytes) } else { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    /// Bounds-checked element access, for tests and non-hot paths.
    public subscript(index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return pointer[index] }
        set { precondition(index >= 0 && index < count); pointer[index] = newValue }
    }

    /// A copy of the contents as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }
}
