/// How a weight matrix stores its elements in memory.
///
/// Decoding is memory-bound: every weight is read once per token. Keeping a
/// half-precision checkpoint in half precision halves the bytes read (and
/// lets a 12-layer d=256 model sit in L3), while the arithmetic stays in
/// `Float` — so results are bit-identical to converting at load time.
public enum WeightPrecision: String, Sendable, CaseIterable {
    case float32 = "f32"
    case float16 = "f16"

    /// Bytes per stored element.
    public var byteCount: Int { self == .float32 ? 4 : 2 }
}

/// A scalar type a weight matrix can be stored as; loads 16 elements widened to `Float`.
public protocol WeightElement: Sendable {
    static func load16(_ p: UnsafePointer<Self>) -> Vec16
    static func load1(_ p: UnsafePointer<Self>) -> Float
    init(_ value: Float)
}

extension Float: WeightElement {
    @inline(__always) public static func load16(_ p: UnsafePointer<Float>) -> Vec16 {
        UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
    }
    @inline(__always) public static func load1(_ p: UnsafePointer<Float>) -> Float { p.pointee }
}

extension Float16: WeightElement {
    @inline(__always) public static func load16(_ p: UnsafePointer<Float16>) -> Vec16 {
        Vec16(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
    }
    @inline(__always) public static func load1(_ p: UnsafePointer<Float16>) -> Float { Float(p.pointee) }
}

/// An owned, 64-byte-aligned array of weight elements.
final class ElementBuffer<Element: WeightElement>: @unchecked Sendable {
    // @unchecked: written once during construction, read-only afterwards.
    let count: Int
    let pointer: UnsafeMutablePointer<Element>

    init(count: Int) {
        self.count = count
        let padded = max(16, (count + 15) & ~15)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: padded * MemoryLayout<Element>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Element.self, capacity: padded)
        pointer.initialize(repeating: Element(0), count: padded)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
