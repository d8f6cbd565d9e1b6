import Foundation
import Kernels
import Model
import SafeTensors

/// The controller's three-way probabilities for one token at one layer.
public struct ControllerProbabilities: Sendable, Equatable, Codable {
    public var stop: Float
    public var exit: Float
    public var `continue`: Float
}

/// What a policy decides after a layer.
public enum ExitDecision: String, Sendable, Codable {
    case `continue`, exit, stop
}

/// The paper's Stop&Exit Controller: one `Linear(d, 3, bias=False)` shared by all
/// layers, applied to the raw residual stream, softmax over {stop, exit, continue}.
///
/// Read from `controller.safetensors` (`controller.weight`, `[3, d]`, rows in that order).
public struct StopExitController: Sendable {
    private let weight: FloatBuffer
    public let width: Int
    /// The thresholds this controller was tuned for (metadata `tau_exit`, `tau_stop`): the
    /// commands' defaults for `sec` when the user gives none. nil: the paper's 0.9 and 0.8.
    public private(set) var recommendedThresholds: (tauExit: Float, tauStop: Float)?

    /// Loads `controller.safetensors` from `directory`, or returns nil when there is none.
    public static func load(directory: URL, shape: ModelShape) throws -> StopExitController? {
        try load(url: directory.appendingPathComponent("controller.safetensors"), shape: shape)
    }

    /// Loads the controller file at `url`, or returns nil when there is none.
    public static func load(url: URL, shape: ModelShape) throws -> StopExitController? {
        let name = url.lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let file = try SafeTensorsFile(path: url.path)
        if let classes = file.metadata["classes"], classes != "stop,exit,continue" {
            throw ModelError.file(name, "classes are '\(classes)', expected 'stop,exit,continue'")
        }
        guard file.entry("controller.weight") != nil else {
            throw ModelError.tensor(file: name, name: "controller.weight", "missing (expected shape [3, \(shape.embeddingSize)])")
        }
        var controller = StopExitController(weight: try file.floats("controller.weight", shape: [3, shape.embeddingSize]),
                                            width: shape.embeddingSize)
        switch (file.metadata["tau_exit"], file.metadata["tau_stop"]) {
        case (nil, nil): break
        case (let exit?, let stop?):
            func threshold(_ text: String, _ field: String) throws -> Float {
                guard let value = Float(text), value.isFinite, value > 0, value <= 2 else {
                    throw ModelError.file(name, "metadata \(field) is '\(text)', expected a number in (0, 2]")
                }
                return value
            }
            controller.recommendedThresholds = (try threshold(exit, "tau_exit"), try threshold(stop, "tau_stop"))
        default:
            throw ModelError.file(name, "metadata has only one of tau_exit and tau_stop; give both or neither")
        }
        return controller
    }

    /// A controller from a row-major `[3, d]` weight (rows: stop, exit, continue).
    public init(weight: [Float], width: Int) {
        precondition(weight.count == 3 * width)
        self.weight = FloatBuffer(weight)
        self.width = width
    }

    /// `softmax(W·h)` for the residual stream `h`.
    public func probabilities(_ h: UnsafePointer<Float>) -> ControllerProbabilities {
        let w = weight.pointer
        let z0 = dot(w, h, width), z1 = dot(w + width, h, width), z2 = dot(w + 2 * width, h, width)
        let m = max(z0, max(z1, z2))
        let e0 = Foundation.exp(z0 - m), e1 = Foundation.exp(z1 - m), e2 = Foundation.exp(z2 - m)
        let s = e0 + e1 + e2
        return ControllerProbabilities(stop: e0 / s, exit: e1 / s, continue: e2 / s)
    }

    /// The paper's decision rule: stop is checked first; an action needs to be the argmax
    /// (first on ties, like `torch.argmax`) **and** strictly above its threshold. A threshold
    /// above 1 disables that action; 0 means plain argmax.
    public static func decide(_ p: ControllerProbabilities, tauExit: Float, tauStop: Float) -> ExitDecision {
        let best: ExitDecision
        if p.stop >= p.exit && p.stop >= p.continue { best = .stop }
        else if p.exit >= p.continue { best = .exit }
        else { best = .continue }
        if best == .stop && p.stop > tauStop { return .stop }
        if best == .exit && p.exit > tauExit { return .exit }
        return .continue
    }

    /// Multiply-adds ×2 plus the 3-way softmax.
    public static func flops(width d: Int) -> Double { 6 * Double(d) + 15 }
}
