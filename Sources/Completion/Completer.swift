import Foundation
import Model
import Tokenizer

/// One completion request.
public struct CompletionRequest: Sendable {
    /// Text before the cursor.
    public var prompt: String
    /// Maximum number of new tokens.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// End the completion at `<|endoftext|>` (not emitted).
    public var stopAtEndOfText: Bool

    public init(prompt: String, maxTokens: Int = 32, sampling: SamplingParameters = .greedy, stopAtEndOfText: Bool = true) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopAtEndOfText = stopAtEndOfText
    }
}

/// A generated token as it streams out.
public struct GeneratedToken: Sendable, Equatable, Codable {
    /// Token id.
    public var id: Int
    /// Text that became complete with this token (may be empty mid-character).
    public var text: String
    /// Wall time to produce this token, seconds (for the first token: prefill + first step).
    public var seconds: Double
}

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    case maxTokens = "max_tokens"
    case endOfText = "end_of_text"
    case contextFull = "context_full"
}

/// The outcome of one completion.
public struct CompletionResult: Sendable, Codable {
    public var text: String
    public var tokens: [GeneratedToken]
    public var promptTokenCount: Int
    /// The prompt's token ids as fed to the model (after any truncation).
    public var promptTokenIDs: [Int]
    /// Prompt tokens dropped from the front because prompt + completion exceed the context.
    public var truncatedPromptTokens: Int
    public var prefillSeconds: Double
    public var totalSeconds: Double
    public var finishReason: FinishReason
}

/// Runs completions on a `LanguageModel`: tokenize, prefill, decode token by token.
///
/// Each completer owns its KV cache and scratch memory, so it serves one
/// request at a time; create one per concurrent user.
public final class Completer: @unchecked Sendable {
    // @unchecked: the cache and workspace are used by one `complete` call at a time.
    public let model: LanguageModel
    private let cache: KVCache
    private let workspace: Workspace

    public init(model: LanguageModel) {
        self.model = model
        cache = model.network.makeCache()
        workspace = model.network.makeWorkspace()
    }

    /// Completes `request.prompt`, calling `onToken` as each token is produced.
    public func complete(_ request: CompletionRequest, onToken: (GeneratedToken) -> Void = { _ in }) throws -> CompletionResult {
        let network = model.network
        let start = DispatchTime.now()
        var ids = model.tokenizer.encode(request.prompt)
        if ids.isEmpty, let bos = network.config.bosTokenID ?? model.tokenizer.endOfTextID {
            ids = [bos] // GPT-2 needs at least one token to condition on.
        }
        guard !ids.isEmpty else { throw ModelError.invalidInput("the prompt is empty and the model has no <|endoftext|> token") }
        // Keep the end of the prompt: that is what a completion continues.
        let maxNew = max(0, min(request.maxTokens, network.config.contextLength - 1))
        let room = network.config.contextLength - maxNew
        let dropped = max(0, ids.count - room)
        if dropped > 0 { ids.removeFirst(dropped) }

        cache.truncate(to: 0)
        var logits = try network.prefill(ids, cache: cache).logits
        let prefillSeconds = seconds(since: start)

        var sampler = Sampler(request.sampling)
        var decoder = StreamingDecoder(tokenizer: model.tokenizer)
        var tokens: [GeneratedToken] = []
        var context = ids
        var text = ""
        var reason = FinishReason.maxTokens
        var stepStart = start
        while tokens.count < maxNew {
            let next = logits.withUnsafeBufferPointer { sampler.next($0, context: context) }
            if request.stopAtEndOfText, next == model.tokenizer.endOfTextID || next == network.config.eosTokenID {
                reason = .endOfText
                break
            }
            let piece = decoder.push(next)
            text += piece
            context.append(next)
            let token = GeneratedToken(id: next, text: piece, seconds: seconds(since: stepStart))
            tokens.append(token)
            onToken(token)
            stepStart = DispatchTime.now()
            if tokens.count == maxNew { break }
            if cache.length >= cache.capacity { reason = .contextFull; break }
            logits = Array(try network.decode(next, cache: cache, workspace: workspace))
        }
        let tail = decoder.finish()
        text += tail
        if !tail.isEmpty, var last = tokens.popLast() {
            last.text += tail
            tokens.append(last)
        }
        return CompletionResult(text: text, tokens: tokens, promptTokenCount: ids.count, promptTokenIDs: ids, truncatedPromptTokens: dropped,
                                prefillSeconds: prefillSeconds, totalSeconds: seconds(since: start), finishReason: reason)
    }
}

@inline(__always)
func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
