import Foundation
import Model

/// `skip-draft.json` beside a model's weights: the layers its skip-layer draft leaves out, and how
/// they were chosen (written by `exitlens draft-search`; read fields: `layers`, `layer_count`).
public struct SkipDraftFile: Sendable, Codable, Equatable {
    public static let name = "skip-draft.json"

    /// The chosen set, as `LayerSet` writes it (`8,10,12-15`).
    public var layers: LayerSet
    /// The depth of the model it was searched on (a file for another model is refused).
    public var layerCount: Int
    /// How it was chosen, for a reader: the search, its data and its numbers.
    public var method: String
    /// Teacher-forced agreement of the draft's argmax with full depth's, per set size along the search.
    public var agreementBySize: [Double]
    /// The draft length the choice assumed.
    public var draftLength: Int

    public init(layers: LayerSet, layerCount: Int, method: String, agreementBySize: [Double], draftLength: Int) {
        self.layers = layers
        self.layerCount = layerCount
        self.method = method
        self.agreementBySize = agreementBySize
        self.draftLength = draftLength
    }

    enum CodingKeys: String, CodingKey {
        case layers, layerCount = "layer_count", method, agreementBySize = "agreement_by_size", draftLength = "draft_length"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layers = try LayerSet(parsing: try c.decode(String.self, forKey: .layers))
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? ""
        agreementBySize = try c.decodeIfPresent([Double].self, forKey: .agreementBySize) ?? []
        draftLength = try c.decodeIfPresent(Int.self, forKey: .draftLength) ?? PolicyConfiguration.defaultDraftLength
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers.description, forKey: .layers)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(method, forKey: .method)
        try c.encode(agreementBySize, forKey: .agreementBySize)
        try c.encode(draftLength, forKey: .draftLength)
    }

    /// The file at `url`, or nil when there is none; a malformed one, or one for a model of another
    /// depth, is refused in one line naming the file (and field).
    public static func load(url: URL, layerCount: Int) throws -> SkipDraftFile? {
        let name = url.lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ModelError.file(name, "cannot be read") }
        guard data.count <= 1 << 20 else { throw ModelError.file(name, "is larger than 1 MiB; expected a small JSON object") }
        let file: SkipDraftFile
        do {
            file = try JSONDecoder().decode(SkipDraftFile.self, from: data)
        } catch let error as LayerSetError {
            throw ModelError.file(name, "field 'layers': \(error.problem)")
        } catch DecodingError.keyNotFound(let key, _) {
            throw ModelError.file(name, "field '\(key.stringValue)' is missing")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw ModelError.file(name, "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ModelError.file(name, "is not a JSON object of the skip-draft format")
        }
        guard file.layerCount == layerCount else {
            throw ModelError.file(name, "field 'layer_count' is \(file.layerCount), but the model has \(layerCount) layers")
        }
        do { try file.layers.validate(layerCount: layerCount) } catch let error as LayerSetError {
            throw ModelError.file(name, "field 'layers': \(error.problem)")
        }
        return file
    }

    /// Writes the file (pretty-printed, keys sorted, so a re-run diffs cleanly).
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        try data.write(to: url, options: .atomic)
    }
}
