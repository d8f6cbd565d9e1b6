import Completion
import EarlyExit
import Foundation
import Testing
@testable import Playground

/// The comparison with `full` (F8) and the layer × token grid (F9): golden screens, and what
/// each asks of the model.
@Suite struct ViewTests {
    let golden = GoldenScreenTests()

    /// A 30- or 12-layer session under `policy` whose ghost exited at `exits`; `full` requests
    /// get `fullIDs` (the same texts until they differ).
    static func harness(layers L: Int, exits: [Int], fullDiffersAt: Int? = nil, width: Int, height: Int,
                        mode: ColorMode = .full256, hold: Bool = false, policy: PolicyConfiguration = .sec) -> Harness {
        let tokens = GoldenScreenTests.deepTokens(exits, of: L)
        let engine = ScriptedEngine(tokens: tokens, hold: hold)
        engine.gridLayers = L
        engine.fullTokens = tokens.enumerated().map { i, t in
            let differs = fullDiffersAt.map { i >= $0 } ?? false
            return Fixtures.token(differs ? t.id + 50 : t.id, differs ? [" c", ")", "\n", " x"][i % 4] : t.text,
                                  layer: L, topTokens: false, layerCount: L)
        }
        let h = Harness(text: GoldenScreenTests.source, engine: engine, mode: mode, width: width, height: height,
                        policy: policy, model: Fixtures.model(layers: L))
        h.press(.down, .down, .down, .down, .end)
        return h
    }

    @Test(arguments: [(140, 40), (80, 24)])
    func comparisonGolden(width: Int, height: Int) throws {
        let h = Self.harness(layers: 30, exits: [30, 4, 12, 29, 6, 30, 18], fullDiffersAt: 4, width: width, height: height)
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.function(8))
        h.waitForModel()
        try golden.check(h.render(), "compare-\(width)x\(height)")
        let c = try #require(h.session.comparison)
        #expect(c.firstDifference == 4)
    }

    /// The ghost on screen is the policy's side: F8 asks the model once, for `full`, and Esc
    /// closes the comparison leaving the ghost to accept.
    @Test func comparisonReusesTheGhostAndRunsFullOnce() throws {
        let h = Self.harness(layers: 12, exits: [12, 3, 5, 9], width: 140, height: 40)
        h.press(.ctrlSpace)
        h.waitForModel()
        let ghost = try #require(h.session.suggestion)
        #expect(h.engine.requests.count == 1)
        h.press(.function(8))
        h.waitForModel()
        #expect(h.engine.requests.count == 2)
        #expect(h.engine.requests.last?.policy is FullDepthPolicy)
        #expect(h.engine.requests.last?.prompt == h.engine.requests.first?.prompt)
        #expect(h.session.comparison?.policy.tokens.map(\.id) == ghost.tokens.map(\.id))
        #expect(h.session.comparison?.firstDifference == nil)
        #expect(h.render().text.contains("identical: the same 4 tokens as full"))
        // Typing does not reach the editor while the comparison is open; F1's help opens over it.
        h.type("x")
        #expect(h.session.buffer.text == GoldenScreenTests.source)
        h.press(.function(1))
        #expect(h.session.showHelp && h.session.comparison != nil)
        h.press(.down, .character("q"))
        #expect(!h.session.showHelp && h.session.comparison != nil)
        h.press(.escape)
        #expect(h.session.comparison == nil)
        #expect(h.session.suggestion?.job == ghost.job, "Esc closes the comparison, not the ghost")
        h.press(.tab)
        #expect(h.session.buffer.text.contains("return a"))
        #expect(h.engine.requests.count == 2)
    }

    /// A ghost still streaming keeps streaming: `full` waits behind it, and Esc stops `full` alone.
    @Test func comparisonWhileStreaming() throws {
        let h = Self.harness(layers: 12, exits: [12, 3, 5, 9], width: 140, height: 40, hold: true)
        h.press(.ctrlSpace)
        h.waitForTokens(4)
        h.press(.function(8))
        #expect(h.render().text.contains("full depth is running"))
        h.engine.release()        // the ghost finishes…
        h.waitForTokensOfComparison(4)
        h.press(.escape)          // …and full, held in turn, is cancelled by Esc
        h.waitForModel()
        #expect(h.session.suggestion?.finished == true)
        #expect(h.session.suggestion?.error == nil)
        #expect(h.session.suggestion?.result != nil, "the ghost ran to its end")
        #expect(h.engine.requests.count == 2)
    }

    /// On the smallest terminal the stacked sides still show the completions themselves.
    @Test func comparisonAtTheMinimumSize() throws {
        let h = Self.harness(layers: 12, exits: [12, 3, 5, 9], width: Layout.minWidth, height: Layout.minHeight)
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.function(8))
        h.waitForModel()
        let text = h.render().text
        #expect(text.components(separatedBy: "    return a + b").count == 3, "\(text)")
    }

    /// A file reloaded from disk drops the suggestion, and the views that describe it close.
    @Test func reloadFromDiskClosesTheViews() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-views-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.py").path
        try GoldenScreenTests.source.write(toFile: path, atomically: true, encoding: .utf8)
        let engine = ScriptedEngine(tokens: GoldenScreenTests.deepTokens([6, 2, 3], of: 6))
        let h = Harness(text: GoldenScreenTests.source, path: path, engine: engine)
        h.press(.down, .down, .down, .down, .end, .ctrlSpace)
        h.waitForModel()
        h.press(.function(9))
        h.waitForModel()
        #expect(h.session.layerGridView?.grid != nil)
        try "x = 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        h.session.checkDisk()
        #expect(h.session.buffer.text == "x = 1\n")
        #expect(h.session.layerGridView == nil && h.session.suggestion == nil)
    }

    @Test func comparisonOfAFullSuggestionIsRefused() {
        let h = Self.harness(layers: 12, exits: [12, 12], width: 140, height: 40, policy: .full)
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.function(8))
        #expect(h.session.comparison == nil)
        #expect(h.session.message?.contains("already full depth") == true)
        #expect(h.engine.requests.count == 1)
    }

    @Test(arguments: [(30, 140, 40), (12, 80, 24), (30, 80, 24)])
    func layerGridGolden(layers L: Int, width: Int, height: Int) throws {
        let exits = [L, L / 3, L / 2, L - 1, 2, L, L / 4, L / 2, 1, L]
        let h = Self.harness(layers: L, exits: exits, width: width, height: height)
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.function(9))
        h.waitForModel()
        try golden.check(h.render(), "grid-\(L)L-\(width)x\(height)")
        if L == 30 && height == 24 {
            // 30 layers do not fit 24 rows: the arrows scroll down and right.
            h.press(.pageDown, .right, .right)
            try golden.check(h.render(), "grid-\(L)L-\(width)x\(height)-scrolled")
        }
        h.press(.escape)
        #expect(h.session.layerGridView == nil)
        #expect(h.session.suggestion != nil)
    }

    /// Under an early-exit policy the grid comes from one teacher-forced pass of the prompt the
    /// ghost saw and its tokens; a `full` suggestion recorded with the inspector open needs none.
    @Test func layerGridAsksOnlyWhatIsMissing() throws {
        let h = Self.harness(layers: 12, exits: [12, 3, 5, 9], width: 140, height: 40)
        h.press(.ctrlSpace)
        h.waitForModel()
        h.press(.function(9))
        h.waitForModel()
        let request = try #require(h.engine.gridRequests.first)
        #expect(h.engine.gridRequests.count == 1)
        #expect(request.tokens == [20, 21, 22, 23])
        #expect(request.promptIDs == h.session.suggestion?.result?.promptTokenIDs)
        #expect(h.engine.requests.count == 1, "the grid never asks for another completion")
        #expect(h.render().text.contains("teacher-forced"))

        let full = Self.harness(layers: 12, exits: [12, 12, 12], width: 140, height: 40, policy: .full)
        full.engine.fullTokens = nil // the recorded tokens themselves, with every layer's top-3
        full.press(.ctrlSpace)
        full.waitForModel()
        full.press(.function(9))
        #expect(full.session.layerGridView?.grid?.source == .recorded)
        #expect(full.engine.gridRequests.isEmpty)
        #expect(full.render().text.contains("recorded while decoding"))
    }

    /// Opened while the ghost streams, the grid waits for it to finish, then computes once.
    @Test func layerGridWaitsForTheSuggestion() throws {
        let h = Self.harness(layers: 12, exits: [12, 3, 5, 9], width: 140, height: 40, hold: true)
        h.press(.ctrlSpace)
        h.waitForTokens(4)
        h.press(.function(9))
        #expect(h.render().text.contains("waiting for the suggestion to finish"))
        #expect(h.engine.gridRequests.isEmpty)
        h.engine.release()
        h.waitForModel()
        h.waitForModel()
        #expect(h.engine.gridRequests.count == 1)
        #expect(h.session.layerGridView?.grid != nil)
    }

    @Test func recordedGridNeedsEveryLayer() {
        let L = 6
        let all = (0..<3).map { Fixtures.token(30 + $0, "x", layer: L, topTokens: true, layerCount: L) }
        let grid = LayerGrid.recorded(all, layerCount: L)
        #expect(grid?.layers == Array(1...L))
        #expect(grid?.top1 == [Array(repeating: 30, count: L), Array(repeating: 31, count: L), Array(repeating: 32, count: L)])
        let early = all + [Fixtures.token(40, "y", layer: 3, topTokens: true, layerCount: L)]
        #expect(LayerGrid.recorded(early, layerCount: L) == nil)
    }
}

extension Harness {
    /// Polls (test-only) until the comparison's `full` side has `count` tokens.
    func waitForTokensOfComparison(_ count: Int) {
        let deadline = Date().addingTimeInterval(10)
        while (session.comparison?.full.tokens.count ?? 0) < count && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
            session.receive(session.drainWorker(), now: 1.05)
        }
    }
}
