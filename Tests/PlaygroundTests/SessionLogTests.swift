import Foundation
import Testing
@testable import Playground

/// Manual acceptance testing: every shown suggestion goes to the JSON Lines log with what was
/// accepted, and `exitlens report` summarises the logs per model and policy.
@Suite struct SessionLogTests {
    static let tokens = [Fixtures.token(1, "urn", layer: 6), Fixtures.token(2, " a", layer: 2), Fixtures.token(3, " +", layer: 4)]

    func temporaryLog() -> String { NSTemporaryDirectory() + "exitlens-log-\(UUID().uuidString)/play-log.jsonl" }

    func records(_ path: String) throws -> [SuggestionRecord] {
        try SessionReport.load(paths: [path]).rows.isEmpty ? [] : String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(SuggestionRecord.self, from: Data($0.utf8)) }
    }

    @Test func shownSuggestionsAreLoggedWithWhatWasAccepted() throws {
        let path = temporaryLog()
        let h = Harness(text: "ret", engine: ScriptedEngine(tokens: Self.tokens), policy: .fixed, logPath: path)
        h.press(.end, .ctrlSpace)
        h.waitForModel()
        h.press(.ctrlRight)             // accept "urn"
        h.press(.escape)                // the rest is dismissed: the suggestion is retired
        h.press(.ctrlSpace)
        h.waitForModel()
        h.session.shutdown()            // quitting logs the one on screen (not accepted)
        let logged = try records(path)
        #expect(logged.count == 2)
        #expect(logged[0].shown == "urn a +")
        #expect(logged[0].acceptedChars == 3)
        #expect(logged[0].acceptedTokens == 1)
        #expect(logged[0].exitLayers == [6, 2, 4])
        #expect(logged[0].policy == "fixed")
        #expect(logged[0].model == "test-6L")
        #expect(logged[1].acceptedChars == 0)
        #expect(h.session.stats.acceptanceSummary(policy: "fixed") == "accepted 1/2 (fixed) 50%")
    }

    /// F2 retires the suggestion on screen under the policy that made it, then asks again.
    @Test func aRerunLogsTheOldSuggestionUnderItsOwnPolicy() throws {
        let path = temporaryLog()
        let h = Harness(text: "ret", engine: ScriptedEngine(tokens: Self.tokens), policy: .fixed, logPath: path)
        h.press(.end, .ctrlSpace)
        h.waitForModel()
        h.press(.function(2))
        h.waitForModel()
        h.session.shutdown()
        let logged = try records(path)
        #expect(logged.map(\.policy) == ["fixed", h.session.knobs.kind.rawValue])
        #expect(logged.first?.policy != logged.last?.policy)
    }

    @Test func reportSummarisesPerModelAndPolicy() throws {
        func record(_ policy: String, accepted: Int, exits: [Int], ms: Double) -> SuggestionRecord {
            SuggestionRecord(time: 0, model: "m", layers: 30, policy: policy, setting: policy, alternative: 0, shown: "abc",
                             shownChars: 3, acceptedChars: accepted, acceptedTokens: accepted > 0 ? 1 : 0, typedChars: 0,
                             exitLayers: exits, firstTokenMs: ms, perTokenMs: 2, costRatio: 0.5, stopped: false)
        }
        let report = SessionReport(records: [record("sec", accepted: 3, exits: [30, 10, 20], ms: 10),
                                             record("sec", accepted: 0, exits: [30, 4], ms: 30),
                                             record("full", accepted: 1, exits: [30, 30], ms: 20)])
        #expect(report.rows.map(\.policy) == ["full", "sec"])
        let sec = try #require(report.rows.last)
        #expect(sec.shown == 2 && sec.accepted == 1)
        #expect(sec.exitLayers == [10, 20, 4]) // the prompt-pass token is not an exit decision
        let table = report.table()
        #expect(table.contains("1 (50%)"))
        #expect(table.contains("11.3/30"))
    }

    @Test func aBadLogLineNamesTheFileAndLine() throws {
        let path = temporaryLog()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "{\"time\": 1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReportError.self) { try SessionReport.load(paths: [path]) }
        do { _ = try SessionReport.load(paths: [path]) } catch {
            #expect("\(error)".hasPrefix("\(path):1: not a session-log record (missing field"))
        }
    }
}

/// Help scrolls on short terminals; a key that is not a scroll key closes it and does nothing else.
@Suite struct HelpScrollTests {
    @Test func arrowsAndPagesScrollOtherKeysClose() {
        let h = Harness(text: "x", width: 80, height: 24)
        _ = h.render()
        h.press(.function(1))
        let first = h.render().text
        h.press(.pageDown)
        #expect(h.session.showHelp)
        let second = h.render().text
        #expect(first != second)
        #expect(second.contains("first token"))   // the legend at the end of the help
        h.press(.pageDown, .pageDown, .pageDown)
        #expect(h.render().text == second)          // clamped at the end
        h.press(.character("q"))
        #expect(!h.session.showHelp)
        #expect(h.session.buffer.text == "x")
    }
}

@Suite struct UnsupportedPolicyTests {
    /// A policy the model cannot run falls back to full, and the status line says why.
    @Test func fallbackIsSaid() {
        let noController = ModelInfo(name: "lens-30L", layerCount: 30, embeddingSize: 64, parameterCount: 1, hasExitHeads: true,
                                     hasController: false, tokenText: { "t\($0)" })
        let h = Harness(policy: .sec, model: noController)
        #expect(h.session.knobs.kind == .full)
        #expect(h.session.message?.hasPrefix("sec needs a controller that lens-30L lacks") == true)
    }
}
