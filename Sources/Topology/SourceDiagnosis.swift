import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// hwloc reports a rejected XML file or synthetic description only as -1 with
// errno EINVAL (its own explanations go to stderr, and only when
// HWLOC_XML_VERBOSE / HWLOC_SYNTHETIC_VERBOSE is set). These helpers look at
// the input again, after hwloc refused it, to say *what* is wrong in the
// error message. They never decide whether an input is valid: hwloc does.

/// Explains why hwloc refused an XML file.
enum XMLDiagnosis {
    static func reason(path: String) -> String {
        guard let head = SmallFile.bytes(path, maxBytes: 4096) else {
            return "cannot read it (\(String(cString: strerror(errno))))"
        }
        if head.isEmpty { return "the file is empty" }
        if head.contains(0) { return "not an XML file (binary data)" }
        let text = String(decoding: head, as: UTF8.self)
        let trimmed = text.trimmingASCIIWhitespace()
        guard trimmed.hasPrefix("<") else {
            return "not an XML file (starts with \"\(trimmed.prefix(20))\")"
        }
        guard let topo = text.firstRange(of: "<topology") else {
            return "XML, but not an hwloc topology (no <topology> element in the first 4 KiB)"
        }
        let tag = text[topo.lowerBound...].prefix { $0 != ">" }
        if let v = tag.firstRange(of: "version=\"") {
            let version = tag[v.upperBound...].prefix { $0 != "\"" }
            if let major = version.split(separator: ".").first.flatMap({ Int($0) }), major > 2 {
                return "hwloc XML version \(version) is newer than this hwloc reads (2.x); "
                    + "export it with hwloc's v2 XML flag"
            }
        }
        return "malformed or truncated hwloc XML (hwloc could not load it)"
    }
}

/// Explains why hwloc refused a synthetic description such as
/// `"pack:2 [numa] l3:2 core:4 pu:2"`.
enum SyntheticDiagnosis {
    /// hwloc's type names; a level may use any prefix of at least two
    /// letters of one of them (`pack`, `numa`), or a cache name (`l3`, `L2Cache`, `l1i`).
    static let typeNames = [
        "machine", "package", "socket", "die", "group", "numanode", "node", "core",
        "pu", "thread", "memcache", "misc",
    ]

    static func reason(_ desc: String) -> String {
        let tokens = tokenize(desc)
        if tokens.isEmpty { return "empty description" }
        var lastLevel: String?
        for token in tokens {
            if token.hasPrefix("[") {
                guard token.hasSuffix("]") else { return "unclosed '[' in \"\(token)\"" }
                continue
            }
            if token.hasPrefix("(") { continue }   // machine attributes: "(memory=1GiB)"
            var body = Substring(token)
            if let paren = body.firstIndex(of: "(") {
                guard body.hasSuffix(")") else { return "unclosed '(' in \"\(token)\"" }
                body = body[..<paren]
            }
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return "level \"\(token)\" has more than one ':'" }
            let countText = parts.count == 2 ? parts[1] : parts[0]
            if parts.count == 2, !isKnownType(parts[0]) {
                return "unknown object type \"\(parts[0])\" in \"\(token)\""
            }
            if parts.count == 1, Int(countText) == nil {
                return isKnownType(parts[0])
                    ? "level \"\(token)\" has no count (write \(token):N)"
                    : "unknown object type \"\(token)\""
            }
            guard let count = Int(countText) else {
                return "count \"\(countText)\" of level \"\(token)\" is not a number"
            }
            guard count > 0 else { return "level \"\(token)\" has \(count) objects" }
            lastLevel = parts.count == 2 ? String(parts[0]) : nil
        }
        if let last = lastLevel?.lowercased(), !("pu".hasPrefix(last) || "thread".hasPrefix(last) || last.hasPrefix("pu")) {
            return "the last level must be PUs (pu:N), not \"\(last)\""
        }
        return "hwloc could not build a topology from it (check the level order and attributes)"
    }

    static func isKnownType(_ name: Substring) -> Bool {
        let n = name.lowercased()
        guard n.count >= 2 else { return false }
        if n.first == "l", n.dropFirst().first?.isNumber == true { return true }   // l2, L3Cache, l1i
        return typeNames.contains { $0.hasPrefix(n) || n.hasPrefix($0) }
    }

    /// Splits on spaces outside parentheses and brackets.
    static func tokenize(_ desc: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var depth = 0
        for ch in desc {
            if ch == "(" || ch == "[" { depth += 1 }
            if ch == ")" || ch == "]" { depth = max(depth - 1, 0) }
            if ch.isWhitespace && depth == 0 {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }
}
