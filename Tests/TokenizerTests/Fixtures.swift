import Foundation
import Testing

import Tokenizer

/// Shared access to the files in Resources/ (made by training/tokenizer_fixtures.py).
enum Fixtures {
    static let resources: URL? = Bundle.module.url(forResource: "Resources", withExtension: nil)

    static func url(_ name: String) throws -> URL {
        let folder = try #require(resources, "Resources folder missing from the test bundle")
        let url = folder.appendingPathComponent(name)
        try #require(FileManager.default.fileExists(atPath: url.path), "missing fixture \(name)")
        return url
    }

    /// GPT-2 from the real tiktoken ranks, loaded once per test process.
    static func gpt2() throws -> BPETokenizer { try gpt2Result.get() }
    private static let gpt2Result = Result<BPETokenizer, any Error> {
        try BPETokenizer(tiktokenRanks: url("gpt2.tiktoken"), specialTokens: ["<|endoftext|>": 50256])
    }

    /// The small ByteLevel BPE trained with HF `tokenizers`.
    static func hfTiny() throws -> BPETokenizer { try hfTinyResult.get() }
    private static let hfTinyResult = Result<BPETokenizer, any Error> {
        try BPETokenizer(tokenizerJSON: url("hf_tiny/tokenizer.json"))
    }

    struct Case: Decodable, Sendable {
        let kind: String
        /// "text": valid UTF-8, encoded with `encode(_:)`; "bytes": `encode(bytes:)`.
        let path: String
        let b64: String
        let ids: [Int]
        /// Ids without special-token matching, when they differ from `ids`.
        let ordinary: [Int]?

        var bytes: [UInt8] { Data(base64Encoded: b64).map { [UInt8]($0) } ?? [] }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private struct CaseFile: Decodable { let cases: [Case] }

    static func cases(_ name: String) throws -> [Case] {
        let data = try Data(contentsOf: url(name))
        let cases = try JSONDecoder().decode(CaseFile.self, from: data).cases
        for item in cases { try #require(Data(base64Encoded: item.b64) != nil, "bad base64 in \(name)") }
        return cases
    }

    /// Readable form of a snippet for failure messages.
    static func describe(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return String(reflecting: text) }
        return "bytes " + bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}


/// Compares every case and records the first mismatch in full.
func expectParity(
    _ cases: [Fixtures.Case], name: String, sourceLocation: SourceLocation = #_sourceLocation,
    encode: (Fixtures.Case) -> [Int]
) {
    var mismatches = 0
    for (index, item) in cases.enumerated() {
        let got = encode(item)
        guard got != item.ids else { continue }
        mismatches += 1
        if mismatches == 1 {
            let firstDiff = Array(zip(got, item.ids)).firstIndex { $0.0 != $0.1 } ?? min(got.count, item.ids.count)
            Issue.record(
                """
                \(name): first mismatch at case #\(index) (\(item.kind), \(item.path) path)
                snippet: \(Fixtures.describe(item.bytes))
                expected: \(item.ids)
                got:      \(got)
                first differing position: \(firstDiff)
                """, sourceLocation: sourceLocation)
        }
    }
    #expect(mismatches == 0, "\(name): \(mismatches) of \(cases.count) cases differ", sourceLocation: sourceLocation)
}
