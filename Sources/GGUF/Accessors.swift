/// Typed metadata lookups. Each throws a `GGUFError` naming the key when the
/// entry is missing (non-optional forms), has the wrong type, or does not fit.
extension GGUFFile {
    /// `field` is a key, or a key and an index as built by `array`.
    private func fail(_ field: Field, _ reason: String) -> GGUFError {
        let index = field.index.map { "[\($0)]" } ?? ""
        return GGUFError(file: displayFile, field: "metadata \(quoted(field.key))\(index)", reason: reason)
    }

    private func require(_ key: String, _ expected: String) throws(GGUFError) -> GGUFValue {
        guard let v = metadata[key] else { throw fail(Field(key), "missing (expected \(expected))") }
        return v
    }

    public func string(_ key: String) throws -> String {
        try asString(require(key, "a string"), Field(key))
    }

    public func optionalString(_ key: String) throws -> String? {
        try metadata[key].map { v throws(GGUFError) in try asString(v, Field(key)) }
    }

    /// Any integer type, converted to `Int` when it fits.
    public func int(_ key: String) throws -> Int {
        try asInt(require(key, "an integer"), Field(key))
    }

    public func optionalInt(_ key: String) throws -> Int? {
        try metadata[key].map { v throws(GGUFError) in try asInt(v, Field(key)) }
    }

    /// A float32, or a float64 that is finite as a `Float`.
    public func float(_ key: String) throws -> Float {
        try asFloat(require(key, "a float"), Field(key))
    }

    public func optionalFloat(_ key: String) throws -> Float? {
        try metadata[key].map { v throws(GGUFError) in try asFloat(v, Field(key)) }
    }

    public func bool(_ key: String) throws -> Bool {
        try asBool(require(key, "a bool"), Field(key))
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        try metadata[key].map { v throws(GGUFError) in try asBool(v, Field(key)) }
    }

    public func stringArray(_ key: String) throws -> [String] {
        try array(require(key, "an array of string"), key) { v, k throws(GGUFError) in try asString(v, k) }
    }

    public func optionalStringArray(_ key: String) throws -> [String]? {
        try metadata[key].map { v throws(GGUFError) in try array(v, key) { v, k throws(GGUFError) in try asString(v, k) } }
    }

    public func intArray(_ key: String) throws -> [Int] {
        try array(require(key, "an array of integers"), key) { v, k throws(GGUFError) in try asInt(v, k) }
    }

    public func optionalIntArray(_ key: String) throws -> [Int]? {
        try metadata[key].map { v throws(GGUFError) in try array(v, key) { v, k throws(GGUFError) in try asInt(v, k) } }
    }

    public func floatArray(_ key: String) throws -> [Float] {
        try array(require(key, "an array of floats"), key) { v, k throws(GGUFError) in try asFloat(v, k) }
    }

    public func optionalFloatArray(_ key: String) throws -> [Float]? {
        try metadata[key].map { v throws(GGUFError) in try array(v, key) { v, k throws(GGUFError) in try asFloat(v, k) } }
    }

    // MARK: conversions

    fileprivate struct Field {
        var key: String
        var index: Int? = nil
        init(_ key: String, index: Int? = nil) { self.key = key; self.index = index }
    }

    private func asString(_ v: GGUFValue, _ key: Field) throws(GGUFError) -> String {
        guard case .string(let s) = v else { throw fail(key, "is \(v.typeDescription), expected a string") }
        return s
    }

    private func asInt(_ v: GGUFValue, _ key: Field) throws(GGUFError) -> Int {
        guard v.isInteger else { throw fail(key, "is \(v.typeDescription), expected an integer") }
        guard let i = v.intValue else { throw fail(key, "\(v.shortDescription) does not fit in Int") }
        return i
    }

    private func asFloat(_ v: GGUFValue, _ key: Field) throws(GGUFError) -> Float {
        switch v {
        case .float32(let f): return f
        case .float64(let d):
            let f = Float(d)
            // A finite double beyond Float's range would silently become infinity.
            guard f.isFinite || !d.isFinite else { throw fail(key, "\(d) does not fit in Float") }
            return f
        default: throw fail(key, "is \(v.typeDescription), expected a float")
        }
    }

    private func asBool(_ v: GGUFValue, _ key: Field) throws(GGUFError) -> Bool {
        guard case .bool(let b) = v else { throw fail(key, "is \(v.typeDescription), expected a bool") }
        return b
    }

    /// Converts each element, naming the element's index on failure (`key[7]`).
    private func array<T>(
        _ v: GGUFValue, _ key: String, _ element: (GGUFValue, Field) throws(GGUFError) -> T
    ) throws(GGUFError) -> [T] {
        guard case .array(let values) = v else { throw fail(Field(key), "is \(v.typeDescription), expected an array") }
        var out: [T] = []
        out.reserveCapacity(values.count)
        for (i, e) in values.enumerated() {
            out.append(try element(e, Field(key, index: i)))
        }
        return out
    }
}
