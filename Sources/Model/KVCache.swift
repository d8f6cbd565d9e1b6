import Kernels

/// Keys and values of every past position, per layer: what attention reads.
///
/// Row `t` of layer `l` holds the keys (or values) of position `t`, all heads
/// side by side (`[capacity, d]`). `length` counts committed positions; rows at
/// or past it are scratch. Rolling back (speculative decoding, an edit earlier
/// in the buffer) is just lowering `length`.
public final class KVCache: @unchecked Sendable {
    // @unchecked: a cache belongs to one decoding session at a time.
    public let layerCount: Int
    public let capacity: Int
    public let width: Int
    public let keys: [FloatBuffer]
    public let values: [FloatBuffer]
    /// Number of committed positions.
    public private(set) var length: Int = 0

    /// Creates an empty cache for `capacity` positions.
    public init(layerCount: Int, capacity: Int, width: Int) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.width = width
        keys = (0..<layerCount).map { _ in FloatBuffer(count: capacity * width) }
        values = (0..<layerCount).map { _ in FloatBuffer(count: capacity * width) }
    }

    /// Pointer to the key row of `position` in `layer`.
    @inline(__always) public func keyRow(_ layer: Int, _ position: Int) -> UnsafeMutablePointer<Float> {
        keys[layer].pointer + position * width
    }

    /// Pointer to the value row of `position` in `layer`.
    @inline(__always) public func valueRow(_ layer: Int, _ position: Int) -> UnsafeMutablePointer<Float> {
        values[layer].pointer + position * width
    }

    /// Marks `count` more positions as committed.
    public func commit(_ count: Int = 1) {
        precondition(length + count <= capacity, "KVCache overflow")
        length += count
    }

    /// Forgets every position at or after `newLength`.
    public func truncate(to newLength: Int) {
        length = max(0, min(length, newLength))
    }

    /// Bytes held.
    public var byteCount: Int { 2 * layerCount * capacity * width * 4 }
}
