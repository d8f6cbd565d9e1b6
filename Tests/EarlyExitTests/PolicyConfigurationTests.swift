import EarlyExit
import Testing

/// `PolicyConfiguration`: one parser, one printer, one set of defaults and checks.
@Suite struct PolicyConfigurationTests {
    /// Spellings and the canonical form they print as.
    static let spellings: [(String, String)] = [
        ("full", "full"),
        ("sec", "sec:0.9:0.8"), ("sec:0.5", "sec:0.5:0.8"), ("sec::0.5", "sec:0.9:0.5"), ("sec:0.6:0", "sec:0.6:0"),
        ("sec:0.99:2", "sec:0.99:2"), ("sec:.95:.9", "sec:0.95:0.9"),
        ("softmax", "softmax:0.9"), ("softmax:0.5", "softmax:0.5"),
        ("saturation", "saturation:0.99"), ("saturation:0.95", "saturation:0.95"),
        ("fixed", "fixed"), ("fixed:3", "fixed:3"),
        ("speculative", "speculative"), ("speculative:2", "speculative:2:4"), ("speculative:3:8", "speculative:3:8"),
        ("speculative::8", "speculative:skip::8"), ("speculative:fixed:3:4", "speculative:3:4"),
        ("speculative:fixed", "speculative:fixed::4"), ("speculative:skip::4", "speculative"),
        ("speculative:sec", "speculative:sec:0.9:0.8:4"), ("speculative:sec:0.5:0.7:2", "speculative:sec:0.5:0.7:2"),
        ("speculative:softmax:0.5", "speculative:softmax:0.5:4"), ("speculative:saturation", "speculative:saturation:0.99:4"),
    ]

    @Test func printsCanonicallyAndRoundTrips() throws {
        for (spec, canonical) in Self.spellings {
            let c = try PolicyConfiguration(parsing: spec)
            #expect(c.description == canonical, "\(spec)")
            #expect(try PolicyConfiguration(parsing: c.description) == c, "\(spec)")
        }
        // Values that print with many digits still come back exactly.
        var c = PolicyConfiguration(.sec)
        c.tauExit = 0.1234567
        c.tauStop = 1e-7
        #expect(try PolicyConfiguration(parsing: c.description) == c)
        // Every kind and draft, with every knob moved off its default.
        for kind in PolicyKind.allCases {
            for draft in DraftKind.allCases {
                var c = PolicyConfiguration(kind)
                c.tauExit = 0.55; c.tauStop = 1.5; c.softmaxLambda = 0.25; c.saturationLambda = 0.875
                c.draftLength = 7
                if kind == .speculative { c.draft = draft }
                // Only the knobs the setting reads are printed; the others keep their defaults.
                var expected = PolicyConfiguration(kind)
                if kind == .speculative { expected.draft = draft }
                for knob in c.knobs {
                    switch knob {
                    case .tauExit: expected.tauExit = 0.55
                    case .tauStop: expected.tauStop = 1.5
                    case .softmaxLambda: expected.softmaxLambda = 0.25
                    case .saturationLambda: expected.saturationLambda = 0.875
                    case .draftLength: expected.draftLength = 7
                    case .exitLayer, .draftLayer, .draft, .skipLayers: break
                    }
                }
                #expect(try PolicyConfiguration(parsing: c.description) == expected, "\(c)")
            }
        }
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let sec = try PolicyConfiguration(parsing: "sec")
        #expect(sec.tauExit == 0.9 && sec.tauStop == 0.8)
        #expect(try PolicyConfiguration(parsing: "softmax").softmaxLambda == 0.9)
        #expect(try PolicyConfiguration(parsing: "saturation").saturationLambda == 0.99)
        // fixed: k = ⌊L/2⌋; fixed speculative drafts from ⌊L/4⌋; both at least 1.
        for (L, k, draft) in [(12, 6, 3), (6, 3, 1), (2, 1, 1), (1, 1, 1), (24, 12, 6)] {
            let fixed = try PolicyConfiguration(parsing: "fixed").makePolicy(layerCount: L)
            #expect((fixed.policy as? FixedLayerPolicy)?.layer == k, "L = \(L)")
            let spec = try PolicyConfiguration(parsing: "speculative:fixed").makePolicy(layerCount: L)
            #expect(spec.policy is FullDepthPolicy)
            #expect((spec.speculative?.draftPolicy as? FixedLayerPolicy)?.layer == draft, "L = \(L)")
            #expect(spec.speculative?.draftLength == 4)
            // A bare `speculative` drafts by skipping the model's searched layers (named at load time).
            let bare = try PolicyConfiguration(parsing: "speculative").makePolicy(layerCount: L)
            guard case .skipLayers(nil)? = bare.speculative?.draft else { Issue.record("L = \(L): \(String(describing: bare.speculative?.draft))"); continue }
        }
        #expect(PolicyConfiguration.defaultDraft == .skip)
    }

    @Test func buildsThePoliciesItNames() throws {
        func label(_ spec: String) throws -> String {
            let made = try PolicyConfiguration(parsing: spec).makePolicy(layerCount: 12)
            return made.speculative.map { "spec(\($0.draft.label), \($0.draftLength))" } ?? made.policy.label
        }
        #expect(try label("full") == "full")
        #expect(try label("sec:0.5:0.7") == "sec(τexit=0.5, τstop=0.7)")
        #expect(try label("softmax:0.5") == "softmax(λ=0.5)")
        #expect(try label("saturation:0.95") == "saturation(λ=0.95)")
        #expect(try label("fixed:4") == "fixed(k=4)")
        #expect(try label("speculative:2:5") == "spec(fixed(k=2), 5)")
        #expect(try label("speculative:sec:0.5:0.7:3") == "spec(sec(τexit=0.5, τstop=0.7), 3)")
        #expect(try label("speculative:softmax:0.5") == "spec(softmax(λ=0.5), 4)")
    }

    @Test func refusesValuesThatMeanNothing() throws {
        let bad = ["", "Full", "bogus", "oracle", "sec:nan", "sec:inf", "sec:-inf", "sec:-1", "sec:0.9:nan", "sec:x",
                   "sec:0.9:0.8:1", "softmax:nan", "softmax:-5", "saturation:-0.1", "fixed:0", "fixed:-3", "fixed:3.5",
                   "fixed:1e30", "fixed:3:4", "speculative:0", "speculative:3:0", "speculative:3:-1", "speculative:3:4:5",
                   "speculative:sec:nan", "speculative:full", "speculative:sec:0.9:0.8:4:1", "full:1"]
        for spec in bad {
            let error = #expect(throws: PolicyConfigurationError.self, "\(spec)") { try PolicyConfiguration(parsing: spec) }
            if let error {
                #expect(error.description.hasPrefix("policy '\(spec)': "), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
        // τ above 1 disables an action: allowed, as the README says.
        #expect(try PolicyConfiguration(parsing: "sec:2:1.5").tauExit == 2)
    }

    @Test func layersAreCheckedOnceTheDepthIsKnown() throws {
        let fixed = try PolicyConfiguration(parsing: "fixed:100")
        let error = #expect(throws: PolicyConfigurationError.self) { try fixed.makePolicy(layerCount: 12) }
        #expect(error?.knob == .exitLayer)
        #expect(error?.description == "--exit-layer (k) must be a layer in 1…12 for this 12-layer model, got 100")
        #expect(throws: PolicyConfigurationError.self) { try PolicyConfiguration(parsing: "speculative:13").makePolicy(layerCount: 12) }
        // k = L is full depth, and allowed.
        #expect((try PolicyConfiguration(parsing: "fixed:12").makePolicy(layerCount: 12).policy as? FixedLayerPolicy)?.layer == 12)
    }

    @Test func requirementsFollowTheSetting() throws {
        func needs(_ spec: String, _ L: Int = 12) throws -> PolicyRequirements { try PolicyConfiguration(parsing: spec).requirements(layerCount: L) }
        #expect(try needs("full") == [])
        #expect(try needs("sec") == .controller)
        #expect(try needs("softmax") == .exitHeads)
        #expect(try needs("saturation") == .exitHeads)
        #expect(try needs("fixed") == .exitHeads)
        #expect(try needs("fixed:12") == [], "exits at full depth need no head")
        #expect(try needs("speculative") == [], "skip-layer drafts need no heads")
        #expect(try needs("speculative:fixed") == .exitHeads)
        #expect(try needs("speculative:sec") == .controller)
        #expect(try needs("fixed", 1) == [], "a 1-layer model's default exit is full depth")
    }
}
