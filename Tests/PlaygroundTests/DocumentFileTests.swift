import Foundation
import Testing
@testable import Playground

@Suite struct DocumentFileTests {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "exitlens-doc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func atomicSaveReplacesContentAndKeepsMode() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/a.py"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        try DocumentFile.saveAtomically("new ✓\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new ✓\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.py"])
    }

    @Test func saveIntoMissingDirectoryFailsClearly() {
        #expect(throws: DocumentError.self) { try DocumentFile.saveAtomically("x", to: "/nonexistent-dir-xyz/a.py") }
    }

    @Test func binaryAndNonUTF8OpenReadOnly() throws {
        let dir = try temporaryDirectory()
        try Data([0x7f, 0x45, 0x00, 0x01]).write(to: URL(fileURLWithPath: dir + "/bin"))
        try Data([0x61, 0xff, 0xfe, 0x62]).write(to: URL(fileURLWithPath: dir + "/latin"))
        #expect(try DocumentFile.open(dir + "/bin").readOnlyReason?.contains("binary") == true)
        #expect(try DocumentFile.open(dir + "/latin").readOnlyReason?.contains("UTF-8") == true)
        #expect(try DocumentFile.open(dir + "/missing.py").isNew)
        #expect(throws: DocumentError.self) { try DocumentFile.open(dir) }
    }

    @Test func recoveryFileSitsBesideTheFile() {
        #expect(DocumentFile.recoveryPath(for: "/tmp/x/f.py") == "/tmp/x/.f.py.exitlens-recovery")
    }
}
