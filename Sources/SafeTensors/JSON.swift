/// A deliberately small, strict JSON (RFC 8259) parser for safetensors headers.
///
/// Hand-written rather than `JSONSerialization` because the reader must
/// (a) detect duplicate keys, (b) tell integers from non-integers exactly,
/// and (c) never recurse without bound on hostile input.
indirect enum JSONValue {
    /// Members in document order (duplicates are rejected while parsing).
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// The number's literal text; interpretation is left to the caller.
    case number(String)
    case bool(Bool)
    case null

    var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// Result of interpreting a JSON number as a non-negative `Int`.
enum JSONInteger {
    case value(Int)
    case negative
    case notInteger
    case tooLarge
}

extension JSONValue {
    /// Interprets a number literal as a non-negative integer without any
    /// floating-point round trip (so `1.0`, `1e3` and `2^64` are all refused).
    var nonNegativeInteger: JSONInteger? {
        guard case .number(let text) = self else { return nil }
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") {
            // "-0" is numerically zero; anything else negative is an error.
            bytes = bytes.dropFirst()
            if bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                return .notInteger
            }
            return bytes.allSatisfy({ $0 == UInt8(ascii: "0") }) ? .value(0) : .negative
        }
        var result = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return .notInteger }
            let (m, o1) = result.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - UInt8(ascii: "0")))
            if o1 || o2 { return .tooLarge }
            result = s
        }
        return .value(result)
    }
}

/// Parse failure; `topLevelKey` is the header entry being parsed when it happened.
struct JSONParseError: Error {
    let message: String
    let offset: Int
    let topLevelKey: String?
    let isDuplicateTopLevelKey: Bool
}

struct JSONParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    private var topLevelKey: String?
    /// Far deeper than any real header (depth 3), shallow enough to never blow the stack.
    private static let maxDepth = 64

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses a complete document; trailing whitespace (the writer's padding) is allowed.
    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes)
        p.skipWhitespace()
        let v = try p.parseValue()
        p.skipWhitespace()
        if p.pos != bytes.count { throw p.error("unexpected trailing content") }
        return v
    }

    private func error(_ msg: String, duplicateTop: Bool = false) -> JSONParseError {
        JSONParseError(message: msg, offset: pos, topLevelKey: topLevelKey, isDuplicateTopLevelKey: duplicateTop)
    }

    private var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(JSONParseError) {
        guard peek == c else {
            throw error(peek == nil ? "unexpected end of header, expected '\(Character(Unicode.Scalar(c)))'"
                                    : "expected '\(Character(Unicode.Scalar(c)))'")
        }
        pos += 1
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let c = peek else { throw error("unexpected end of header") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard bytes.count - pos >= n else { throw error("invalid literal") }
        let ok = word.withUTF8Buffer { w in
            (0..<n).allSatisfy { bytes[pos + $0] == w[$0] }
        }
        guard ok else { throw error("invalid literal") }
        pos += n
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if peek == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = pos
            let key = try parseString()
            let isTop = depth == 1
            if isTop { topLevelKey = key }
            if !seen.insert(key).inserted {
                pos = keyStart
                throw error("duplicate key '\(key)'", duplicateTop: isTop)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard let c = peek else { throw error("unexpected end of header inside an object") }
            pos += 1
            if c == UInt8(ascii: "}") { return .object(members) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or '}'") }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard let c = peek else { throw error("unexpected end of header inside an array") }
            pos += 1
            if c == UInt8(ascii: "]") { return .array(items) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or ']'") }
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = pos
        func digits(_ p: inout JSONParser) -> Int {
            var n = 0
            while let c = p.peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { p.pos += 1; n += 1 }
            return n
        }
        if peek == UInt8(ascii: "-") { pos += 1 }
        if peek == UInt8(ascii: "0") {
            pos += 1
        } else if digits(&self) == 0 {
            throw error("invalid number")
        }
        if peek == UInt8(ascii: ".") {
            pos += 1
            if digits(&self) == 0 { throw error("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            if digits(&self) == 0 { throw error("invalid number") }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    /// Parses a string literal. Raw non-ASCII bytes are copied through: the
    /// caller has already checked that the whole header is valid UTF-8.
    private mutating func parseString() throws(JSONParseError) -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string") }
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw error("unterminated string") }
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // High surrogate: must be followed by an escaped low surrogate.
                        guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        pos += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    UTF8.encode(u) { out.append($0) }
                default:
                    pos -= 1
                    throw error("invalid escape")
                }
            default:
                if c < 0x20 { pos -= 1; throw error("control character in string") }
                out.append(c)
            }
        }
    }
}
