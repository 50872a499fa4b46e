/// One checksum line parsed for `--check`.
package struct ChecksumEntry: Sendable, Hashable {
    /// The file name, unescaped.
    package var name: [UInt8]
    /// The expected digest as written (hex, any case).
    package var hexDigest: [UInt8]

    /// An entry.
    package init(name: [UInt8], hexDigest: [UInt8]) {
        self.name = name
        self.hexDigest = hexDigest
    }
}

/// Parses the lines of checksum files the way `sha256sum -c` (coreutils
/// 9.1) does.
///
/// Accepted forms, after optional leading blanks (space, tab) and an
/// optional `\` that marks an escaped name (`\\`, `\n`, `\r`):
/// - `DIGEST  NAME` (text) or `DIGEST *NAME` (binary): exactly the
///   algorithm's number of hex digits, one blank, the mode character, then
///   the name, which runs to the end of the line (blanks included).
/// - `DIGEST NAME` with a single blank ("reversed BSD" form, as `md5 -r`
///   writes). Once a file's first line picked the two-character or the
///   single-blank form, lines of the other form are refused (coreutils keeps
///   this choice for the whole run, so does the parser).
/// - `TAG (NAME) = DIGEST` (BSD, `--tag`), with the algorithm's tag
///   (`SHA256`); the space after the tag and the blanks around `=` are
///   optional; the name ends at the last `)`.
///
/// Lines starting with `#` and empty lines are skipped; a trailing CR is
/// dropped (DOS files). Anything else is "improperly formatted".
package struct ChecksumLineParser: Sendable {
    /// The algorithm whose digest length and tag are expected.
    package let algorithm: HashAlgorithm
    /// -1: undecided, 0: two-character form seen, 1: single-blank form seen.
    private var reversedForm: Int = -1

    /// A parser for `algorithm`'s lines.
    package init(algorithm: HashAlgorithm) { self.algorithm = algorithm }

    /// What one line is.
    package enum Line: Sendable, Hashable {
        /// A comment or empty line: ignored.
        case skip
        /// Improperly formatted.
        case invalid
        /// A checksum to verify.
        case entry(ChecksumEntry)
    }

    private static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    /// `s` up to its first NUL (coreutils handles lines as C strings).
    private static func cString(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if let z = s.firstIndex(of: 0) { return s[..<z] }
        return s
    }

    /// Parses one line (without its `\n`).
    package mutating func parse<C: Collection>(_ raw: C) -> Line where C.Element == UInt8 {
        var s = Array(raw)
        if s.first == UInt8(ascii: "#") { return .skip }
        if s.last == 0x0D { s.removeLast() }
        if s.isEmpty { return .skip }
        guard let e = split(s) else { return .invalid }
        return .entry(e)
    }

    private mutating func split(_ s: [UInt8]) -> ChecksumEntry? {
        let n = s.count
        func at(_ k: Int) -> UInt8 { k < n ? s[k] : 0 }
        var i = 0
        while Self.isBlank(at(i)) { i += 1 }
        var escaped = false
        if at(i) == 0x5C { i += 1; escaped = true }

        let tag = Array(algorithm.tagName.utf8)
        if n - i >= tag.count && s[i..<(i + tag.count)].elementsEqual(tag) {
            i += tag.count
            if at(i) == 0x20 { i += 1 }
            guard at(i) == UInt8(ascii: "(") else { return nil }
            i += 1
            return splitBSD(s[i...], escaped: escaped)
        }

        let hexLength = algorithm.hexLength
        if n - i < hexLength + 2 + (at(i) == 0x5C ? 1 : 0) { return nil }
        let digest = Array(s[i..<(i + hexLength)])
        i += hexLength
        guard Self.isBlank(at(i)) else { return nil }
        i += 1
        guard digest.allSatisfy(Self.isHex) else { return nil }
        if n - i == 1 || (at(i) != 0x20 && at(i) != UInt8(ascii: "*")) {
            if reversedForm == 0 { return nil }
            reversedForm = 1
        } else if reversedForm != 1 {
            reversedForm = 0
            i += 1
        }
        // An escaped name is unescaped whole (a NUL in it is refused); a
        // plain one ends at its first NUL, as a C string would.
        let name: [UInt8]
        if escaped {
            guard let u = ChecksumFormat.unescape(s[i...]) else { return nil }
            name = u
        } else {
            name = Array(Self.cString(s[i...]))
        }
        return ChecksumEntry(name: name, hexDigest: digest)
    }

    private func splitBSD(_ s: ArraySlice<UInt8>, escaped: Bool) -> ChecksumEntry? {
        guard !s.isEmpty, let close = s.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let name: [UInt8]
        if escaped {
            guard let u = ChecksumFormat.unescape(s[s.startIndex..<close]) else { return nil }
            name = u
        } else {
            name = Array(Self.cString(s[s.startIndex..<close]))
        }
        var i = close + 1
        while i < s.endIndex && Self.isBlank(s[i]) { i += 1 }
        guard i < s.endIndex, s[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        while i < s.endIndex && Self.isBlank(s[i]) { i += 1 }
        let digest = Self.cString(s[i...])
        guard digest.count == algorithm.hexLength, digest.allSatisfy(Self.isHex) else { return nil }
        return ChecksumEntry(name: name, hexDigest: Array(digest))
    }
}
