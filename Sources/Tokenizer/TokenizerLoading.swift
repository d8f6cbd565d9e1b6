import Foundation

// Loaders for the three file formats GPT-2's BPE is distributed in. Each one
// only extracts `BPETokenizer.Parts`; validation shared by all formats (ids in
// range, all 256 byte tokens present) happens in `BPETokenizer.init(parts:)`.

extension BPETokenizer {
    /// Loads a Hugging Face `tokenizer.json` whose model is byte-level BPE.
    ///
    /// Accepts merges as "a b" strings or as `["a", "b"]` pairs, a
    /// `ByteLevel` pre-tokenizer (alone, or after a `Split` on GPT-2's
    /// pattern), and `added_tokens`, which ``encode(_:)`` matches as whole
    /// strings. Added-token flags (`lstrip`, `rstrip`, `single_word`) and the
    /// post-processor are ignored; GPT-2's file uses none of them.
    public convenience init(tokenizerJSON url: URL) throws {
        try self.init(parts: Self.parseTokenizerJSON(url))
    }

    /// Loads GPT-2's original `vocab.json` + `merges.txt` pair. Entries of
    /// `specialTokens` found in the vocabulary are matched as whole strings
    /// by ``encode(_:)``, as are the tokens of `addedTokens`, an
    /// `added_tokens.json` (`{content: id}`; CodeGen's runs of spaces and tabs).
    public convenience init(vocabJSON: URL, merges: URL, specialTokens: [String] = ["<|endoftext|>"],
                            addedTokens: URL? = nil) throws {
        try self.init(parts: Self.parseVocabAndMerges(vocabJSON, merges, specialTokens: specialTokens, addedTokens: addedTokens))
    }

    /// Loads tiktoken's rank file (`base64(token bytes) rank` per line, as in
    /// `gpt2.tiktoken`). Special tokens are not in that file, so the caller
    /// supplies them (GPT-2: `["<|endoftext|>": 50256]`). As in tiktoken, two
    /// adjacent tokens merge when their concatenation is a token, lowest rank
    /// first, and a piece that is itself a token is never split.
    public convenience init(tiktokenRanks url: URL, specialTokens: [String: Int]) throws {
        try self.init(parts: Self.parseTiktoken(url, specialTokens: specialTokens))
    }

    /// Loads `tokenizer.json` from a model directory, or `vocab.json` +
    /// `merges.txt` (with `added_tokens.json` when present) if that is what is there.
    public static func load(directory: URL) throws -> BPETokenizer {
        let manager = FileManager.default
        let json = directory.appendingPathComponent("tokenizer.json")
        if manager.fileExists(atPath: json.path) { return try BPETokenizer(tokenizerJSON: json) }
        let vocab = directory.appendingPathComponent("vocab.json")
        let merges = directory.appendingPathComponent("merges.txt")
        if manager.fileExists(atPath: vocab.path), manager.fileExists(atPath: merges.path) {
            let added = directory.appendingPathComponent("added_tokens.json")
            return try BPETokenizer(vocabJSON: vocab, merges: merges,
                                    addedTokens: manager.fileExists(atPath: added.path) ? added : nil)
        }
        throw TokenizerError("no tokenizer.json, nor vocab.json with merges.txt, in this directory",
                             file: directory.path)
    }
}

// MARK: - Reading files

extension BPETokenizer {
    static func readFile(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError("cannot read file: \(error.localizedDescription)", file: url.path)
        }
    }

    static func readJSON(_ url: URL) throws -> Any {
        let data = try readFile(url)
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw TokenizerError("malformed JSON (truncated or not JSON): \(error.localizedDescription)",
                                 file: url.path)
        }
    }

    /// An integer JSON value; fractions and strings are rejected (bridged
    /// `NSNumber`s convert to `Int` only when exact).
    static func integer(_ value: Any?) -> Int? {
        value as? Int
    }

    static func isNull(_ value: Any?) -> Bool { value == nil || value is NSNull }

    /// Parses a `{token: id}` object into `parts`.
    static func addVocabulary(_ value: Any?, to parts: inout Parts, what: String) throws {
        guard let vocab = value as? [String: Any] else {
            throw TokenizerError(isNull(value) ? "missing \(what)" : "\(what) is not an object of token → id",
                                 file: parts.source)
        }
        guard !vocab.isEmpty else { throw TokenizerError("\(what) is empty", file: parts.source) }
        for (token, rawID) in vocab {
            guard let id = integer(rawID), id >= 0, id <= maximumID else {
                throw TokenizerError("\(what): token \(debugQuoted(token)) has id \(rawID), not an integer in 0...\(maximumID)",
                                     file: parts.source)
            }
            // Two tokens with one id would make decoding depend on dictionary order.
            if let other = parts.tokenBytes[id] {
                let otherSpelling = parts.tokenStrings.first { $0.value == id }?.key ?? ByteLevel.string(forBytes: other)
                let pair = [token, otherSpelling].sorted().map(debugQuoted).joined(separator: " and ")
                throw TokenizerError("\(what): tokens \(pair) both have id \(id)", file: parts.source)
            }
            parts.tokenStrings[token] = id
            // Tokens outside the byte-level alphabet (plain-text added
            // tokens) stand for their own UTF-8, as in HF's ByteLevel decoder.
            parts.tokenBytes[id] = ByteLevel.bytes(forString: token) ?? Array(token.utf8)
        }
    }

    /// Adds merge `rank` of `left` + `right`, both given in vocabulary spelling.
    /// `field` names the merge in errors (GGUF: "tokenizer.ggml.merges[7]").
    static func addMerge(
        _ left: String, _ right: String, rank: Int, to parts: inout Parts, line: Int? = nil, field: String? = nil
    ) throws {
        let pair = debugQuoted(left + " " + right)
        let label = field.map { "\($0) (\(pair))" } ?? (line == nil ? "merge #\(rank + 1) (\(pair))" : "merge \(pair)")
        guard let leftID = parts.tokenStrings[left] else {
            throw TokenizerError("\(label) references unknown token \(debugQuoted(left))", file: parts.source, line: line)
        }
        guard let rightID = parts.tokenStrings[right] else {
            throw TokenizerError("\(label) references unknown token \(debugQuoted(right))", file: parts.source, line: line)
        }
        guard let mergedID = parts.tokenStrings[left + right] else {
            throw TokenizerError("\(label) produces \(debugQuoted(left + right)), which is not in the vocabulary",
                                 file: parts.source, line: line)
        }
        parts.merges.add(left: leftID, right: rightID, rank: rank, merged: mergedID)
    }

    static func debugQuoted(_ text: String) -> String {
        text.count > 60 ? String(reflecting: String(text.prefix(60)) + "…") : String(reflecting: text)
    }
}

// MARK: - tokenizer.json

extension BPETokenizer {
    static func parseTokenizerJSON(_ url: URL) throws -> Parts {
        var parts = Parts(source: url.path)
        guard let root = try readJSON(url) as? [String: Any] else {
            throw TokenizerError("top level is not a JSON object", file: url.path)
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError(isNull(root["model"]) ? "missing \"model\"" : "\"model\" is not an object", file: url.path)
        }
        if let type = model["type"] {
            guard let name = type as? String, name == "BPE" else {
                throw TokenizerError("unsupported model type \(type); only BPE is supported", file: url.path)
            }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw TokenizerError("model.\(key) \(debugQuoted(affix)) is not supported by byte-level BPE",
                                     file: url.path)
            }
        }
        parts.ignoreMerges = (model["ignore_merges"] as? Bool) ?? false

        try checkNormalizer(root["normalizer"], file: url.path)
        (parts.addPrefixSpace, parts.useRegex) = try byteLevelOptions(root["pre_tokenizer"], file: url.path)
        if let decoder = root["decoder"], !isNull(decoder) {
            let type = (decoder as? [String: Any])?["type"] as? String
            guard type == "ByteLevel" else {
                throw TokenizerError("unsupported decoder \(type ?? "\(decoder)"); only ByteLevel is supported",
                                     file: url.path)
            }
        }

        try addVocabulary(model["vocab"], to: &parts, what: "model.vocab")

        guard let merges = model["merges"] as? [Any] else {
            throw TokenizerError(isNull(model["merges"]) ? "missing model.merges" : "model.merges is not an array",
                                 file: url.path)
        }
        for (rank, entry) in merges.enumerated() {
            // Older files write "a b"; newer ones ["a", "b"] so tokens may contain spaces.
            if let text = entry as? String {
                let halves = text.split(separator: " ", omittingEmptySubsequences: false)
                guard halves.count == 2 else {
                    throw TokenizerError("merge #\(rank + 1) \(debugQuoted(text)) is not two tokens separated by one space",
                                         file: url.path)
                }
                try addMerge(String(halves[0]), String(halves[1]), rank: rank, to: &parts)
            } else if let pair = entry as? [Any], pair.count == 2, let left = pair[0] as? String,
                let right = pair[1] as? String
            {
                try addMerge(left, right, rank: rank, to: &parts)
            } else {
                throw TokenizerError("merge #\(rank + 1) is neither \"a b\" nor [\"a\", \"b\"]", file: url.path)
            }
        }

        if let added = root["added_tokens"], !isNull(added) {
            guard let list = added as? [Any] else {
                throw TokenizerError("added_tokens is not an array", file: url.path)
            }
            for (index, item) in list.enumerated() {
                guard let token = item as? [String: Any], let id = integer(token["id"]),
                    let content = token["content"] as? String
                else {
                    throw TokenizerError("added_tokens[\(index)] needs an integer \"id\" and a string \"content\"",
                                         file: url.path)
                }
                guard id >= 0, id <= maximumID, !content.isEmpty else {
                    throw TokenizerError("added_tokens[\(index)] has id \(id) or empty content", file: url.path)
                }
                parts.specialTokens[content] = id
            }
        }
        return parts
    }

    private static func checkNormalizer(_ normalizer: Any?, file: String) throws {
        guard let normalizer, !isNull(normalizer) else { return }
        if let object = normalizer as? [String: Any], object["type"] as? String == "Sequence",
            let members = object["normalizers"] as? [Any], members.isEmpty
        {
            return
        }
        let type = (normalizer as? [String: Any])?["type"] as? String ?? "\(normalizer)"
        throw TokenizerError("unsupported normalizer \(type); GPT-2 byte-level BPE uses none", file: file)
    }

    /// GPT-2's split pattern as spelled by GPT-2 itself and by tiktoken.
    private static let gpt2Patterns: Set<String> = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
        #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
    ]

    /// (add_prefix_space, use_regex) of the pre-tokenizer: `ByteLevel`, alone
    /// or as the only member of a `Sequence`, or the pair
    /// `[Split(GPT-2 pattern, Isolated), ByteLevel(use_regex: false)]` that
    /// converters from tiktoken write. Other patterns would need a general
    /// regex engine, so they are refused rather than silently mis-split.
    private static func byteLevelOptions(_ preTokenizer: Any?, file: String) throws -> (Bool, Bool) {
        guard var object = preTokenizer as? [String: Any] else {
            throw TokenizerError(isNull(preTokenizer) ? "missing pre_tokenizer; ByteLevel is required"
                                     : "pre_tokenizer is not an object", file: file)
        }
        if object["type"] as? String == "Sequence", let members = object["pretokenizers"] as? [Any] {
            let objects = members.compactMap { $0 as? [String: Any] }
            if objects.count == 1, members.count == 1 {
                object = objects[0]
            } else if objects.count == 2, members.count == 2, objects[0]["type"] as? String == "Split",
                objects[1]["type"] as? String == "ByteLevel"
            {
                let split = objects[0], byteLevel = objects[1]
                let pattern = (split["pattern"] as? [String: Any])?["Regex"] as? String
                guard let pattern, gpt2Patterns.contains(pattern), split["behavior"] as? String == "Isolated",
                    (split["invert"] as? Bool) != true
                else {
                    throw TokenizerError("unsupported Split pre_tokenizer \(pattern.map(debugQuoted) ?? "without a Regex"); "
                                             + "only GPT-2's pattern is supported", file: file)
                }
                guard (byteLevel["add_prefix_space"] as? Bool) != true else {
                    throw TokenizerError("unsupported ByteLevel add_prefix_space after Split", file: file)
                }
                return (false, true)
            }
        }
        guard object["type"] as? String == "ByteLevel" else {
            let type = object["type"] as? String ?? "without a type"
            throw TokenizerError("unsupported pre_tokenizer \(type); only ByteLevel is supported", file: file)
        }
        return ((object["add_prefix_space"] as? Bool) ?? false, (object["use_regex"] as? Bool) ?? true)
    }
}

// MARK: - vocab.json + merges.txt

extension BPETokenizer {
    static func parseVocabAndMerges(_ vocabURL: URL, _ mergesURL: URL, specialTokens: [String], addedTokens: URL? = nil) throws -> Parts {
        var parts = Parts(source: vocabURL.path)
        try addVocabulary(try readJSON(vocabURL), to: &parts, what: "vocabulary")
        for token in specialTokens {
            if let id = parts.tokenStrings[token] { parts.specialTokens[token] = id }
        }

        parts.source = mergesURL.path
        guard let text = String(data: try readFile(mergesURL), encoding: .utf8) else {
            throw TokenizerError("merges file is not valid UTF-8", file: mergesURL.path)
        }
        var rank = 0
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            // GPT-2's file starts with "#version: 0.2"; blank lines carry nothing.
            if line.isEmpty || line.hasPrefix("#version") { continue }
            let halves = line.split(separator: " ", omittingEmptySubsequences: false)
            guard halves.count == 2 else {
                throw TokenizerError("expected two tokens separated by one space, got \(debugQuoted(String(line)))",
                                     file: mergesURL.path, line: index + 1)
            }
            try addMerge(String(halves[0]), String(halves[1]), rank: rank, to: &parts, line: index + 1)
            rank += 1
        }
        if let addedTokens {
            // Like tokenizer.json's added_tokens: matched whole in text, decoded as their own UTF-8.
            guard let object = try readJSON(addedTokens) as? [String: Any] else {
                throw TokenizerError("is not an object of token → id", file: addedTokens.path)
            }
            for (content, rawID) in object {
                guard let id = integer(rawID), id >= 0, id <= maximumID, !content.isEmpty else {
                    throw TokenizerError("token \(debugQuoted(content)) has id \(rawID), not an integer in 0...\(maximumID)",
                                         file: addedTokens.path)
                }
                parts.specialTokens[content] = id
            }
        }
        parts.source = vocabURL.path
        return parts
    }
}

// MARK: - tiktoken ranks

extension BPETokenizer {
    static func parseTiktoken(_ url: URL, specialTokens: [String: Int]) throws -> Parts {
        var parts = Parts(source: url.path)
        parts.ignoreMerges = true
        let data = try readFile(url)
        var idByBytes: [[UInt8]: Int] = [:]
        var lineNumber = 0
        var lines: [(bytes: [UInt8], rank: Int)] = []
        for rawLine in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine[...]
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let space = line.firstIndex(of: 0x20) else {
                throw TokenizerError("expected \"<base64> <rank>\"", file: url.path, line: lineNumber)
            }
            guard let bytes = Base64.decode(line[line.startIndex..<space]), !bytes.isEmpty else {
                throw TokenizerError("invalid base64 token", file: url.path, line: lineNumber)
            }
            let digits = line[line.index(after: space)...]
            guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw TokenizerError("rank is not a non-negative integer", file: url.path, line: lineNumber)
            }
            let rank = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard rank <= maximumID else {
                throw TokenizerError("rank \(rank) is out of range 0...\(maximumID)", file: url.path, line: lineNumber)
            }
            guard idByBytes.updateValue(rank, forKey: bytes) == nil else {
                throw TokenizerError("token listed twice", file: url.path, line: lineNumber)
            }
            guard parts.tokenBytes.updateValue(bytes, forKey: rank) == nil else {
                throw TokenizerError("rank \(rank) listed twice", file: url.path, line: lineNumber)
            }
            lines.append((bytes, rank))
        }
        guard !lines.isEmpty else { throw TokenizerError("no ranks in file", file: url.path) }
        for (bytes, rank) in lines {
            parts.tokenStrings[ByteLevel.string(forBytes: bytes)] = rank
            // tiktoken merges two adjacent parts when their concatenation is
            // a token, with that token's rank, so every split of a token
            // into two tokens is a merge.
            guard bytes.count >= 2 else { continue }
            for cut in 1..<bytes.count {
                guard let left = idByBytes[Array(bytes[..<cut])], let right = idByBytes[Array(bytes[cut...])]
                else { continue }
                parts.merges.add(left: left, right: right, rank: rank, merged: rank)
            }
        }
        for (content, id) in specialTokens {
            if let existing = parts.tokenBytes[id] {
                throw TokenizerError("special token \(debugQuoted(content)) has id \(id), already the rank of "
                                         + debugQuoted(ByteLevel.string(forBytes: existing)), file: url.path)
            }
            parts.specialTokens[content] = id
        }
        return parts
    }
}
