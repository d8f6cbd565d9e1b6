import Foundation

/// Finds source files under a path (a file, or a directory searched recursively).
public enum SourceFiles {
    public static let extensions: Set<String> = ["py", "swift", "c", "h", "js", "ts", "go", "rs", "java", "rb", "sh"]

    public static func list(_ path: String) -> [URL] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        if !isDirectory.boolValue { return [url] }
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) else { return [] }
        var files: [URL] = []
        for case let file as URL in walker where extensions.contains(file.pathExtension) { files.append(file) }
        return files.sorted { $0.path < $1.path }
    }
}
