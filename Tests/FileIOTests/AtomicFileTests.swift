import FileIO
import Foundation
import Testing

@Suite struct AtomicFileTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-fileio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func replacesTheFileKeepingItsModeAndLeavesNoTemporaryFile() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        chmod(path, 0o600)
        try AtomicFile.write([4, 5], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data([4, 5]))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.bin"])
    }

    /// A directory that cannot hold the file (it is a plain file, which stops root too): one
    /// failure naming the step and the path, and the target untouched.
    @Test func failureNamesTheStepAndPath() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let blocked = dir + "/not-a-directory"
        FileManager.default.createFile(atPath: blocked, contents: Data([9]))
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write([1], to: blocked + "/x.gguf") }
        do {
            try AtomicFile.write([1], to: blocked + "/x.gguf")
        } catch {
            #expect(error.step.hasPrefix("cannot create temporary file '\(blocked)/.x.gguf.tmp-"))
            #expect(error.reason == String(cString: strerror(ENOTDIR)))
        }
        #expect(FileManager.default.contents(atPath: blocked) == Data([9]))
    }
}
