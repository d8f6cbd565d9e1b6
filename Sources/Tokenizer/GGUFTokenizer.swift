// The byte-level BPE tokenizer that a GGUF file (llama.cpp) carries in its
// `tokenizer.ggml.*` metadata. This target does not read GGUF itself: the
// caller passes the values, and errors name the metadata key at fault.

extension BPETokenizer {
    /// Builds the tokenizer described by a GGUF file's metadata.
    ///
    /// - Parameters:
    ///   - model: `tokenizer.ggml.model`; must be "gpt2" (byte-level BPE).
    ///   - tokens: `tokenizer.ggml.tokens`, the vocabulary by id. Normal tokens
    ///     are in GPT-2's byte-level spelling ("Ġthe"); control and
    ///     user-defined ones are plain text ("<|im_start|>"), as llama.cpp reads them.
    ///   - tokenTypes: `tokenizer.ggml.token_type`, one per token: 1 normal,
    ///     2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. Control and
    ///     user-defined tokens are matched whole by ``encode(_:)``; the others
    ///     are ordinary vocabulary. nil: all normal.
    ///   - merges: `tokenizer.ggml.merges`, "left right" strings, best first.
    ///   - pre: `tokenizer.ggml.pre`: "smollm" (each digit alone, then GPT-2's
    ///     regex), "qwen2", "llama-bpe" (also "llama3", "llama-v3"), "gpt-2".
    ///     "default" or nil means GPT-2's regex, as Hugging Face transformers
    ///     reads such files (llama.cpp's "default" also splits punctuation
    ///     and digit runs first). Anything else is refused, naming it.
    ///   - bosTokenID, eosTokenID: `tokenizer.ggml.bos_token_id` / `eos_token_id`.
    ///   - addBOS: `tokenizer.ggml.add_bos_token`; when absent, true for the
    ///     Llama 3 pre-tokenizer and false otherwise, as in llama.cpp.
    ///   - source: the file name, for error messages.
    ///
    /// Unlike the other loaders this accepts a vocabulary without all 256
    /// single-byte tokens (SmolLM2 lacks 21, e.g. 0x04 and 0xFF): a byte
    /// without a token encodes to nothing, as in HF `tokenizers` and llama.cpp.
    /// - Throws: ``TokenizerError`` naming `source` and the offending key.
    public convenience init(
        ggufModel model: String, tokens: [String], tokenTypes: [Int]?, merges: [String], pre: String?,
        bosTokenID: Int?, eosTokenID: Int?, addBOS: Bool?, source: String
    ) throws {
        try self.init(parts: Self.parseGGUF(
            model: model, tokens: tokens, tokenTypes: tokenTypes, merges: merges, pre: pre,
            bosTokenID: bosTokenID, eosTokenID: eosTokenID, addBOS: addBOS, source: source))
    }

    static func parseGGUF(
        model: String, tokens: [String], tokenTypes: [Int]?, merges: [String], pre: String?,
        bosTokenID: Int?, eosTokenID: Int?, addBOS: Bool?, source: String
    ) throws -> Parts {
        var parts = Parts(source: source)
        guard model == "gpt2" else {
            throw TokenizerError(
                "tokenizer.ggml.model is \(debugQuoted(model)); only \"gpt2\" (byte-level BPE) is supported",
                file: source)
        }
        guard let kind = ggufPreTokenizers[pre ?? "default"] else {
            let names = ggufPreTokenizers.keys.sorted().joined(separator: ", ")
            throw TokenizerError(
                "tokenizer.ggml.pre \(debugQuoted(pre ?? "")) is not a supported pre-tokenizer (supported: \(names))",
                file: source)
        }
        parts.preTokenizer = kind
        // llama.cpp's Llama 3 group takes a piece that is itself a token as
        // that token, as Llama 3's tokenizer.json does (`ignore_merges`).
        parts.ignoreMerges = kind == .llama3
        parts.addsBOS = addBOS ?? (kind == .llama3)
        parts.allowsMissingBytes = true

        guard !tokens.isEmpty else { throw TokenizerError("tokenizer.ggml.tokens is empty", file: source) }
        guard tokens.count <= maximumID + 1 else {
            throw TokenizerError("tokenizer.ggml.tokens has \(tokens.count) entries, more than \(maximumID + 1)",
                                 file: source)
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError(
                "tokenizer.ggml.token_type has \(tokenTypes.count) entries but tokenizer.ggml.tokens has \(tokens.count)",
                file: source)
        }
        for (id, token) in tokens.enumerated() {
            let type = tokenTypes?[id] ?? 1
            guard (1...6).contains(type) else {
                throw TokenizerError("tokenizer.ggml.token_type[\(id)] is \(type); expected 1...6", file: source)
            }
            if (type == 3 || type == 4), !token.isEmpty {
                parts.specialTokens[token] = id
            } else {
                // Outside the byte alphabet a token stands for its own UTF-8,
                // as transformers' GGUF loader respells it.
                parts.tokenBytes[id] = ByteLevel.bytes(forString: token) ?? Array(token.utf8)
            }
            // Merges name tokens by spelling; a repeated spelling means the last id, as in llama.cpp.
            parts.tokenStrings[token] = id
        }

        for (index, merge) in merges.enumerated() {
            let halves = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard halves.count == 2 else {
                throw TokenizerError(
                    "tokenizer.ggml.merges[\(index)] \(debugQuoted(merge)) is not two tokens separated by one space",
                    file: source)
            }
            try addMerge(String(halves[0]), String(halves[1]), rank: index, to: &parts,
                         field: "tokenizer.ggml.merges[\(index)]")
        }

        for (key, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw TokenizerError(
                    "tokenizer.ggml.\(key) \(id) is out of range for \(tokens.count) tokens", file: source)
            }
        }
        parts.bosTokenID = bosTokenID
        parts.eosTokenID = eosTokenID
        return parts
    }

    /// `tokenizer.ggml.pre` values understood, with the split each stands for.
    static let ggufPreTokenizers: [String: PreTokenizer.Kind] = [
        "default": .gpt2, "gpt-2": .gpt2,
        "smollm": .gpt2Digits,
        "qwen2": .qwen2,
        "llama-bpe": .llama3, "llama3": .llama3, "llama-v3": .llama3,
    ]
}
