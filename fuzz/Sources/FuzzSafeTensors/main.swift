import FuzzSupport
import SafeTensors

/// Any byte string either fails validation with a SafeTensorsError or is a file whose every
/// tensor can be read: no trap, no out-of-bounds read (ASan), no giant allocation.
func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let file = try? SafeTensorsFile(bytes: bytes, name: "fuzz.safetensors") else { return 0 }
    var total = 0
    for name in file.names {
        guard let entry = file.entry(name), let raw = try? file.rawBytes(name) else { fatalError("listed tensor \(name) unreadable") }
        fuzzCheck(raw.count == entry.byteRange.count, "raw size of \(name)")
        total += raw.count
        if entry.dtype.isFloatConvertible {
            guard let values = try? file.floats(name) else { fatalError("float tensor \(name) unreadable") }
            fuzzCheck(values.count == entry.elementCount, "element count of \(name)")
            _ = try? file.floats(name, shape: entry.shape)
        }
    }
    // The tensors tile the data section exactly (the format's rule, enforced by the reader).
    fuzzCheck(total == file.dataSectionByteCount, "tensors cover \(total) of \(file.dataSectionByteCount) bytes")
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzSafeTensors(data, count) }

runFuzzer { fuzzSafeTensors($0, $1) }
