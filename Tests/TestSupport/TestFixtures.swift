import Foundation

/// Fixtures several test targets share, found through this target's bundle (never by a path
/// into another target): the early-exit models and their references (see `EarlyExitFixtures`).
public enum TestFixtures {
    public static var resources: URL {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            fatalError("TestSupport resources are missing from the bundle")
        }
        return url
    }

    /// A fresh, empty directory under the system's temporary directory (removed by the caller).
    public static func makeTemporaryDirectory(_ prefix: String = "exitlens-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
