#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the current locale encodes characters, which decides what a file
/// name's bytes print as in messages.
package enum Charset: Sendable, Hashable {
    /// One byte per character; only ASCII 0x20–0x7E is printable (`C`/`POSIX`).
    case unibyte
    /// UTF-8; printable characters are those `iswprint` accepts in `C.UTF-8`.
    case utf8

    /// The charset of the process's `LC_CTYPE` after `setlocale(LC_ALL, "")`.
    package static func fromEnvironment() -> Charset {
        _ = setlocale(LC_ALL, "")
        guard let cs = nl_langinfo(nl_item(CODESET)) else { return .unibyte }
        let name = String(cString: cs).uppercased()
        return (name == "UTF-8" || name == "UTF8") ? .utf8 : .unibyte
    }
}

/// Quotes file names in messages the way coreutils 9.1 does (gnulib's
/// `quotef`: shell-escape style, colons quoted), so `mtrun` prints
/// `mtrun: 'a b': No such file or directory` exactly where `sha256sum`
/// prints `sha256sum: 'a b': No such file or directory`.
///
/// The rules, in the order they are tried:
/// 1. Names made only of "safe" characters (letters, digits, `%+,-./]_@`,
///    printable non-ASCII characters, `#`/`~` not first, `{`/`}` not alone)
///    are printed as they are.
/// 2. Otherwise the name is put in single quotes. Unprintable bytes and
///    control characters go into `$'…'` segments (`\n`, `\t`, `\r`, `\a`,
///    `\b`, `\f`, `\v`, else three octal digits), and a single quote becomes
///    `'\''`.
/// 3. A name that needs quoting only because of single quotes, spaces and
///    other characters that are also plain inside C double quotes is put in
///    double quotes instead: `"it's"`.
///
/// One quirk is kept on purpose: when rule 2 is taken for a name holding a
/// single quote and ending in a `$'…'` segment, gnulib starts the result with
/// an extra `''` (for example `'''it'\''s'$'\n'`); coreutils 9.1 prints that,
/// so we do too.
package struct NameQuoting: Sendable {
    /// How bytes decode into characters.
    package let charset: Charset

    /// Creates a quoter for `charset`.
    package init(charset: Charset) { self.charset = charset }

    /// The quoted form of `name`.
    package func quote(_ name: [UInt8]) -> [UInt8] {
        if let plain = render(name, elide: true, carry: nil) { return plain.out }
        // Rule 2, with the rule-3 retry.
        let first = render(name, elide: false, carry: nil)!
        guard first.sawSingleQuote else { return first.out }
        if first.allCompatible { return [UInt8(ascii: "\"")] + name + [UInt8(ascii: "\"")] }
        return render(name, elide: false, carry: first.pendingEnd)!.out
    }

    /// Convenience: quotes a Swift string's UTF-8 bytes.
    package func quote(_ name: String) -> String {
        String(decoding: quote(Array(name.utf8)), as: UTF8.self)
    }

    private struct Rendered {
        var out: [UInt8] = []
        var sawSingleQuote = false
        var allCompatible = true
        var pendingEnd = false
    }

    /// One pass. `elide`: print without quotes, or return nil when quotes are
    /// needed. `carry`: the `$'…'`-still-open state left by a previous pass.
    private func render(_ s: [UInt8], elide: Bool, carry: Bool?) -> Rendered? {
        var r = Rendered()
        if !elide { r.out.append(0x27) }
        r.pendingEnd = carry ?? false
        let n = s.count
        var i = 0

        // `escaping` is true while the current character is being written as
        // a backslash escape inside `$'…'`.
        func startEscape(_ escaping: inout Bool) {
            escaping = true
            if !r.pendingEnd {
                r.out.append(contentsOf: [0x27, 0x24, 0x27])  // '$'
                r.pendingEnd = true
            }
            r.out.append(0x5C)
        }
        func endEscape(_ escaping: Bool) {
            if r.pendingEnd && !escaping {
                r.out.append(contentsOf: [0x27, 0x27])
                r.pendingEnd = false
            }
        }

        while i < n {
            let c = s[i]
            var escaping = false
            var compatible = false
            var emit = c
            switch c {
            case 0x07, 0x08, 0x0C, 0x0B, 0x0A, 0x0D, 0x09:
                if elide { return nil }
                let letter: UInt8 = switch c {
                case 0x07: UInt8(ascii: "a")
                case 0x08: UInt8(ascii: "b")
                case 0x0C: UInt8(ascii: "f")
                case 0x0B: UInt8(ascii: "v")
                case 0x0A: UInt8(ascii: "n")
                case 0x0D: UInt8(ascii: "r")
                default: UInt8(ascii: "t")
                }
                startEscape(&escaping)
                emit = letter
            case UInt8(ascii: "?"), UInt8(ascii: "\\"):
                if elide { return nil }
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "~"), UInt8(ascii: " "):
                let special: Bool
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "}"): special = n == 1
                case UInt8(ascii: "#"), UInt8(ascii: "~"): special = i == 0
                default: special = true
                }
                if special {
                    compatible = true
                    if elide { return nil }
                }
            case UInt8(ascii: "!"), UInt8(ascii: "\""), UInt8(ascii: "$"), UInt8(ascii: "&"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: ";"),
                UInt8(ascii: "<"), UInt8(ascii: "="), UInt8(ascii: ">"), UInt8(ascii: "["),
                UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "|"):
                if elide { return nil }
            case 0x27:
                r.sawSingleQuote = true
                compatible = true
                if elide { return nil }
                r.out.append(contentsOf: [0x27, 0x5C, 0x27])
                r.pendingEnd = false
            case UInt8(ascii: ":"):
                // Quoted because messages put a colon after the name.
                compatible = true
                if elide { return nil }
            case UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "-"),
                UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "]"), UInt8(ascii: "_"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "a")...UInt8(ascii: "z"):
                compatible = true
            default:
                let (length, printable) = characterAt(s, i)
                compatible = printable
                if length > 1 || !printable {
                    if !printable && elide { return nil }
                    let end = i + max(length, 1)
                    if printable { endEscape(false) }
                    while i < end {
                        let b = s[i]
                        if printable {
                            r.out.append(b)
                        } else {
                            startEscape(&escaping)
                            r.out.append(0x30 + (b >> 6))
                            r.out.append(0x30 + ((b >> 3) & 7))
                            r.out.append(0x30 + (b & 7))
                        }
                        i += 1
                    }
                    if !compatible { r.allCompatible = false }
                    continue
                }
            }
            endEscape(escaping)
            r.out.append(emit)
            if !compatible { r.allCompatible = false }
            i += 1
        }
        if elide {
            return s.isEmpty ? nil : r
        }
        r.out.append(0x27)
        return r
    }

    /// The length of the character starting at `i` and whether it is
    /// printable. An invalid byte has length 0 (one byte, unprintable); an
    /// incomplete sequence runs to the end of the name.
    private func characterAt(_ s: [UInt8], _ i: Int) -> (Int, Bool) {
        let c = s[i]
        switch charset {
        case .unibyte:
            return (1, c >= 0x20 && c < 0x7F)
        case .utf8:
            if c < 0x80 { return (1, c >= 0x20 && c < 0x7F) }
            let need: Int
            var value: UInt32
            switch c {
            case 0xC2...0xDF: need = 1; value = UInt32(c & 0x1F)
            case 0xE0...0xEF: need = 2; value = UInt32(c & 0x0F)
            case 0xF0...0xF4: need = 3; value = UInt32(c & 0x07)
            default: return (0, false)
            }
            var j = i + 1
            for k in 0..<need {
                guard j < s.count else { return (s.count - i, false) }
                let b = s[j]
                // Second-byte limits reject overlong forms, surrogates and values past U+10FFFF.
                var lo: UInt8 = 0x80
                var hi: UInt8 = 0xBF
                if k == 0 {
                    if c == 0xE0 { lo = 0xA0 }
                    if c == 0xED { hi = 0x9F }
                    if c == 0xF0 { lo = 0x90 }
                    if c == 0xF4 { hi = 0x8F }
                }
                guard b >= lo && b <= hi else { return (0, false) }
                value = (value << 6) | UInt32(b & 0x3F)
                j += 1
            }
            return (need + 1, WideChar.isPrintable(value))
        }
    }
}

/// `iswprint` in the `C.UTF-8` locale, independent of the process locale
/// (the C library's own table, so "printable" means what it means to
/// coreutils on this system).
enum WideChar {
    private typealias IswprintL = @convention(c) (UInt32, OpaquePointer?) -> Int32

    // Looked up once on first use and only read after that. `<wctype.h>`'s
    // wide-character classes are not imported into Swift's Glibc module, so
    // the function is found by name.
    nonisolated(unsafe) private static let lookup: (fn: IswprintL, locale: OpaquePointer)? = {
        guard let loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil),
              let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "iswprint_l") else { return nil }
        return (unsafeBitCast(sym, to: IswprintL.self), OpaquePointer(loc))
    }()

    static func isPrintable(_ value: UInt32) -> Bool {
        if let l = lookup { return l.fn(value, l.locale) != 0 }
        // No C.UTF-8 locale: printable unless a control or separator character.
        guard let scalar = Unicode.Scalar(value) else { return false }
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate: return false
        default: return true
        }
    }
}
