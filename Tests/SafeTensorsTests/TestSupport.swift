import Testing
@testable import SafeTensors

/// Builds a raw file image from header text, so tests can write malformed headers.
func rawFile(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    rawFile(headerBytes: Array(header.utf8), data: data, headerLength: headerLength)
}

func rawFile(headerBytes h: [UInt8], data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let n = headerLength ?? UInt64(h.count)
    var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
    out += h
    out += data
    return out
}

/// Asserts that validating `bytes` fails with the given tensor and a
/// one-line description that names the file and mentions each phrase.
func expectInvalid(
    _ bytes: [UInt8], tensor: String?, mentions phrases: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let name = "dir/bad.safetensors"
    let error = #expect(throws: SafeTensorsError.self, sourceLocation: sourceLocation) {
        _ = try SafeTensorsFile(bytes: bytes, name: name)
    }
    guard let error else { return }
    expectDescribes(error, tensor: tensor, mentions: phrases, sourceLocation: sourceLocation)
}

func expectDescribes(
    _ error: SafeTensorsError, file: String = "bad.safetensors", tensor: String?, mentions phrases: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(error.file == file, sourceLocation: sourceLocation)
    #expect(error.tensor == tensor, "\(error)", sourceLocation: sourceLocation)
    let d = error.description
    #expect(d.hasPrefix(file + ": "), "\(d)", sourceLocation: sourceLocation)
    #expect(!d.contains("\n"), sourceLocation: sourceLocation)
    if let tensor { #expect(d.contains("tensor '\(tensor)'"), "\(d)", sourceLocation: sourceLocation) }
    for p in phrases { #expect(d.contains(p), "\(d) should mention \(p)", sourceLocation: sourceLocation) }
}

/// Small deterministic RNG (SplitMix64) so the robustness test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
