/// `--json` output: one object per input on one line,
/// `{"path":…,"algorithm":…,"digest":…,"bytes":…,"error":…}`.
///
/// `digest` and `bytes` are null when `error` (the C library's message) is
/// not. Paths are the bytes of the file name: valid UTF-8 is written as it
/// is (with JSON's escapes for `"`, `\` and control characters); each byte
/// that is not valid UTF-8 is written as `\udcXX` (a lone low surrogate, the
/// "surrogateescape" convention: Python's `os.fsencode(json.loads(line)["path"])`
/// gives the original bytes back).
package enum JSONLine {
    /// The line for one input, newline included.
    package static func line(path: [UInt8], algorithm: HashAlgorithm, digestHex: [UInt8]?, bytes: UInt64?, error: String?) -> [UInt8] {
        var out = Array("{\"path\":".utf8)
        appendString(path, to: &out)
        out.append(contentsOf: ",\"algorithm\":\"\(algorithm.rawValue)\",\"digest\":".utf8)
        if let digestHex {
            out.append(0x22)
            out.append(contentsOf: digestHex)
            out.append(0x22)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: ",\"bytes\":".utf8)
        out.append(contentsOf: (bytes.map { String($0) } ?? "null").utf8)
        out.append(contentsOf: ",\"error\":".utf8)
        if let error { appendString(Array(error.utf8), to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// Appends `bytes` as a JSON string literal.
    package static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex = Hex.digits
        out.append(0x22)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x80 {
                let n = UTF8Scan.validLength(bytes, i)
                if n > 0 {
                    out.append(contentsOf: bytes[i..<(i + n)])
                    i += n
                } else {
                    out.append(contentsOf: "\\udc".utf8)
                    out.append(hex[Int(b >> 4)])
                    out.append(hex[Int(b & 15)])
                    i += 1
                }
                continue
            }
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
            i += 1
        }
        out.append(0x22)
    }
}

/// UTF-8 validation, byte by byte (the rules of `mbrtowc` in a UTF-8 locale).
enum UTF8Scan {
    /// The length of the valid UTF-8 sequence starting at `i`, or 0 when the
    /// bytes there are not one (invalid lead, bad continuation, overlong,
    /// surrogate, beyond U+10FFFF, or cut short).
    static func validLength(_ s: [UInt8], _ i: Int) -> Int {
        let c = s[i]
        if c < 0x80 { return 1 }
        let need: Int
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0...0xEF: need = 2
        case 0xF0...0xF4: need = 3
        default: return 0
        }
        guard i + need < s.count else { return 0 }
        for k in 1...need {
            let b = s[i + k]
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xBF
            if k == 1 {
                if c == 0xE0 { lo = 0xA0 }
                if c == 0xED { hi = 0x9F }
                if c == 0xF0 { lo = 0x90 }
                if c == 0xF4 { hi = 0x8F }
            }
            if b < lo || b > hi { return 0 }
        }
        return need + 1
    }
}
