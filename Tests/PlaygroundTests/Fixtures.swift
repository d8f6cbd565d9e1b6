import Completion
import EarlyExit
import Foundation
import Playground

/// Builders for tokens and results: `GeneratedToken` and `CompletionResult` have no public
/// memberwise initialisers, but they are Codable.
enum Fixtures {
    static func token(_ id: Int, _ text: String, layer: Int, topTokens: Bool = false, layerCount: Int = 6) -> GeneratedToken {
        var trace = TokenTrace(token: id, exitLayer: layer)
        trace.flops.qkv = 1000 * Double(layer)
        trace.flops.mlp = 2000 * Double(layer)
        trace.flops.head = 500
        trace.fullFlops = 3000 * Double(layerCount) + 500
        trace.seconds = 0.004
        if topTokens {
            trace.layers = (1...layer).map { l in
                var s = LayerSignals(layer: l)
                let pExit = Float(l) / Float(layer) * 0.9
                s.controller = decode(["stop": 0.05, "exit": pExit, "continue": max(0, 0.95 - pExit)])
                s.topTokens = [decode(["id": id, "probability": 0.5 + 0.05 * Float(l)]),
                               decode(["id": id + 1, "probability": 0.2]),
                               decode(["id": id + 2, "probability": 0.1])]
                return s
            }
        }
        return decode(["id": id, "text": text, "seconds": 0.004, "trace": json(trace)])
    }

    static func result(_ tokens: [GeneratedToken], stop: TokenTrace? = nil, reused: Int = 10, prompt: Int = 12) -> CompletionResult {
        var object: [String: Any] = [
            "text": tokens.map(\.text).joined(), "tokens": tokens.map(json), "promptTokenCount": prompt,
            "promptTokenIDs": Array(0..<prompt), "truncatedPromptTokens": 0, "reusedPromptTokens": reused,
            "prefillSeconds": 0.01, "totalSeconds": 0.05, "finishReason": stop == nil ? "max_tokens" : "stopped",
            "policy": "test", "flops": tokens.reduce(0) { $0 + $1.trace.flops.total },
            "fullFlops": tokens.reduce(0) { $0 + $1.trace.fullFlops },
        ]
        if let stop { object["stop"] = json(stop) }
        return decode(object)
    }

    static func stopTrace(layer: Int, p: Float) -> TokenTrace {
        var t = TokenTrace(token: nil, exitLayer: layer)
        t.stopped = true
        t.stopProbability = p
        return t
    }

    static func json<T: Encodable>(_ value: T) -> Any {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data)) ?? [:]
    }

    static func decode<T: Decodable>(_ object: Any) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
        } catch {
            fatalError("fixture does not decode as \(T.self): \(error)")
        }
    }

    /// A model of `layers` layers, as the sidebar and legend see it.
    static func model(layers: Int) -> ModelInfo {
        ModelInfo(name: "test-\(layers)L", layerCount: layers, embeddingSize: 64, parameterCount: 123_456,
                  hasExitHeads: true, hasController: true, tokenText: { "t\($0)" })
    }

    static let model = ModelInfo(name: "test-6L", layerCount: 6, embeddingSize: 64, parameterCount: 123_456,
                                 hasExitHeads: true, hasController: true, tokenText: { "t\($0)" })
}

/// A completion engine that plays back scripted tokens; `hold` keeps it streaming (blocked
/// after the tokens) until `release()`, so tests can look at a half-finished suggestion.
final class ScriptedEngine: CompletionEngine, @unchecked Sendable {
    // @unchecked: fields are set before use and guarded by the semaphore/lock.
    var tokens: [GeneratedToken]
    var stop: TokenTrace?
    /// What a `full` request gets instead of `tokens` (the comparison's other side), when set.
    var fullTokens: [GeneratedToken]?
    /// Layers of the model the layer grid describes (every layer has a head).
    var gridLayers = 6
    let hold: Bool
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var _requests: [CompletionRequest] = []
    var requests: [CompletionRequest] { lock.withLock { _requests } }
    private var _gridRequests: [LayerGridRequest] = []
    var gridRequests: [LayerGridRequest] { lock.withLock { _gridRequests } }
    private var _prefills: [String] = []
    /// Texts of the background prefills asked for, in order.
    var prefills: [String] { lock.withLock { _prefills } }

    func prefill(_ text: String, reservingTokens: Int, chunkSize: Int, cancellation: CancellationFlag?,
                 progress: (Int, Int) -> Void) throws -> PrefixFill {
        lock.withLock { _prefills.append(text) }
        return PrefixFill(tokens: text.count, reused: 0, seconds: 0)
    }

    init(tokens: [GeneratedToken], stop: TokenTrace? = nil, hold: Bool = false) {
        self.tokens = tokens
        self.stop = stop
        self.hold = hold
    }

    func release() { gate.signal() }

    func complete(_ request: CompletionRequest, onToken: (GeneratedToken) -> Void) throws -> CompletionResult {
        lock.withLock { _requests.append(request) }
        let tokens = request.policy is FullDepthPolicy ? (fullTokens ?? self.tokens) : self.tokens
        for t in tokens {
            if request.cancellation?.isCancelled == true { throw ScriptedCancellation() }
            onToken(t)
        }
        if hold {
            // Wait to be released or cancelled, checking the flag as the engine does between blocks.
            while gate.wait(timeout: .now() + .milliseconds(5)) == .timedOut {
                if request.cancellation?.isCancelled == true { throw ScriptedCancellation() }
            }
        }
        return Fixtures.result(tokens, stop: stop)
    }

    /// A made-up lens: column j's token is first predicted at layer 1 + 5j mod L; shallower layers
    /// predict token 100 + layer.
    func layerGrid(_ request: LayerGridRequest, cancellation: CancellationFlag?) throws -> LayerGrid {
        lock.withLock { _gridRequests.append(request) }
        let L = gridLayers
        let top1 = request.tokens.enumerated().map { j, id in (1...L).map { l in l >= 1 + (5 * j) % L ? id : 100 + l } }
        return LayerGrid(layers: Array(1...L), top1: top1, source: .teacherForced)
    }
}

struct ScriptedCancellation: Error {}

/// A session on a scripted engine and an in-memory screen.
struct Harness {
    let session: PlaygroundSession
    let screen: MemoryScreen
    let engine: ScriptedEngine

    init(text: String = "", path: String? = nil, engine: ScriptedEngine = ScriptedEngine(tokens: []),
         mode: ColorMode = .full256, width: Int = 120, height: Int = 32, policy: PolicyConfiguration = .sec, readOnly: String? = nil,
         model: ModelInfo = Fixtures.model, logPath: String? = nil) {
        var options = PlaygroundOptions()
        options.stableTimings = true
        options.theme = Theme(mode: mode)
        options.logPath = logPath
        let worker = CompletionWorker(engine: engine) {}
        session = PlaygroundSession(buffer: EditorBuffer(text: text), path: path, readOnlyReason: readOnly, model: model,
                                    worker: worker, options: options, policy: policy)
        screen = MemoryScreen(width: width, height: height)
        self.engine = engine
    }

    func type(_ text: String) { for c in text { _ = session.handle(.character(c), now: 1) } }
    func press(_ keys: Key...) { for k in keys { _ = session.handle(k, now: 1) } }
    func waitForModel() { _ = session.waitForModel(timeout: 10, now: { 1.05 }) }

    /// Polls (test-only) until the suggestion has `count` tokens.
    func waitForTokens(_ count: Int) {
        let deadline = Date().addingTimeInterval(10)
        while (session.suggestion?.tokens.count ?? 0) < count && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
            session.receive(session.drainWorker(), now: 1.05)
        }
    }

    func render() -> MemoryScreen { session.render(to: screen); return screen }
}
