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
