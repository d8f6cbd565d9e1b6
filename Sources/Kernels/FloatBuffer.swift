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

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        // Round up to a whole number of SIMD16 vectors so tail loads stay in bounds.
        let padded = max(16, (count + 15) & ~15)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: padded * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: padded)
        pointer.initialize(repeating: 0, count: padded)
    }

    /// Allocates and copies `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

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
