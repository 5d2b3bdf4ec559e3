import Foundation

/// The named values of a request: multipart/form-data parts, URL-encoded form fields, a JSON
/// object's members, and the query string, in one place.
///
/// A name given twice is refused (a client that sends `threshold` twice has made a mistake
/// the server should not guess about). Values are kept as bytes: a file part's bytes are the
/// file, unchanged.
struct FormData: Sendable {
    /// One named value: text or an uploaded file.
    struct Value: Sendable {
        var bytes: [UInt8]
        /// The part's file name, if it was sent as a file.
        var fileName: String?
        /// The value as text (UTF-8; invalid sequences repaired).
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private(set) var values: [String: Value] = [:]
    /// Names in the order they arrived (for messages).
    private(set) var names: [String] = []

    init() {}

    subscript(name: String) -> Value? { values[name] }

    mutating func add(_ name: String, _ value: Value) throws(APIError) {
        guard values[name] == nil else {
            throw APIError(.badRequest, code: "duplicate_parameter", title: "\(name): given more than once")
        }
        values[name] = value
        names.append(name)
    }

    /// Reads `body` as its content type says: `multipart/form-data`, `application/x-www-form-urlencoded`
    /// or `application/json` (an object whose members are strings, numbers or booleans). An
    /// empty body with no content type has no values.
    init(body: [UInt8], contentType: String?) throws(APIError) {
        self.init()
        guard let contentType, !contentType.isEmpty else {
            guard body.isEmpty else {
                throw APIError(.unsupportedMediaType, code: "unsupported_content_type",
                               title: "the request has a body but no Content-Type; send multipart/form-data")
            }
            return
        }
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch media {
        case "multipart/form-data":
            guard let boundary = Self.parameter("boundary", in: contentType), !boundary.isEmpty else {
                throw APIError(.badRequest, code: "invalid_multipart", title: "multipart/form-data without a boundary")
            }
            try addMultipart(body, boundary: boundary)
        case "application/x-www-form-urlencoded":
            try addURLEncoded(String(decoding: body, as: UTF8.self))
        case "application/json":
            try addJSON(body)
        default:
            throw APIError(.unsupportedMediaType, code: "unsupported_content_type",
                           title: "Content-Type \(media) is not accepted; send multipart/form-data")
        }
    }

    /// Adds the query string's fields (`a=1&b=2`, percent-decoded).
    mutating func addQuery(_ query: String?) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        try addURLEncoded(query)
    }

    private mutating func addURLEncoded(_ text: String) throws(APIError) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) -> String in
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            try add(name, Value(bytes: Array(value.utf8)))
        }
    }

    private mutating func addJSON(_ body: [UInt8]) throws(APIError) {
        guard let object = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(body)) else {
            throw APIError(.badRequest, code: "invalid_json",
                           title: "the body is not a JSON object of strings, numbers and booleans")
        }
        for (name, member) in object.sorted(by: { $0.key < $1.key }) {
            guard let text = member.text else { continue }
            try add(name, Value(bytes: Array(text.utf8)))
        }
    }

    /// A JSON member's value as form text: booleans as `true`/`false`, numbers as written.
    private enum JSONScalar: Decodable {
        case text(String), null

        var text: String? {
            if case let .text(value) = self { return value }
            return nil
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .text(value ? "true" : "false") }
            else if let value = try? container.decode(Int.self) { self = .text(String(value)) }
            else if let value = try? container.decode(Double.self) { self = .text(String(value)) }
            else { self = .text(try container.decode(String.self)) }
        }
    }

    /// Splits a multipart body at its boundary lines and adds each part by its
    /// `Content-Disposition` name.
    private mutating func addMultipart(_ body: [UInt8], boundary: String) throws(APIError) {
        let malformed = APIError(.badRequest, code: "invalid_multipart", title: "the multipart/form-data body is malformed")
        let delimiter = Array("--\(boundary)".utf8)
        guard var start = Self.find(delimiter, in: body, from: 0) else { throw malformed }
        start += delimiter.count
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body.count >= start + 2, body[start] == UInt8(ascii: "-"), body[start + 1] == UInt8(ascii: "-") { return }
            guard body.count >= start + 2, body[start] == 13, body[start + 1] == 10 else { throw malformed }
            let partStart = start + 2
            guard let next = Self.find([13, 10] + delimiter, in: body, from: partStart) else { throw malformed }
            try addPart(body[partStart..<next], malformed: malformed)
            start = next + 2 + delimiter.count
        }
    }

    private mutating func addPart(_ part: ArraySlice<UInt8>, malformed: APIError) throws(APIError) {
        guard let headerEnd = Self.find([13, 10, 13, 10], in: part, from: part.startIndex) else { throw malformed }
        let headers = String(decoding: part[part.startIndex..<headerEnd], as: UTF8.self)
        var name: String?
        var fileName: String?
        for line in headers.split(separator: "\r\n") {
            let pieces = line.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2, pieces[0].lowercased() == "content-disposition" else { continue }
            let value = String(pieces[1])
            name = Self.parameter("name", in: value)
            fileName = Self.parameter("filename", in: value)
        }
        guard let name else { throw APIError(.badRequest, code: "invalid_multipart", title: "a multipart part has no name") }
        try add(name, Value(bytes: Array(part[(headerEnd + 4)...]), fileName: fileName))
    }

    /// The value of `name=value` or `name="value"` among `;`-separated header parameters.
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// The index where `needle` first occurs in `haystack` at or after `from`.
    static func find<C: RandomAccessCollection>(_ needle: [UInt8], in haystack: C, from: C.Index) -> C.Index?
    where C.Element == UInt8, C.Index == Int {
        guard let first = needle.first, haystack.endIndex - from >= needle.count else { return nil }
        var i = from
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
