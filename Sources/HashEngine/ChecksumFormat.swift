/// The coreutils checksum line format (`sha256sum` and friends).
///
/// - Text mode: `digest␠␠name`; binary mode (`-b`): `digest␠*name`.
/// - `--tag`: `SHA256 (name) = digest`.
/// - A name holding a backslash, newline or carriage return is written with
///   `\\`, `\n` and `\r` in their place and the whole line starts with a
///   backslash, so every line stays one line; with `--zero` lines end with
///   NUL instead and names are written as they are.
package struct ChecksumFormat: Sendable, Hashable {
    /// The algorithm (for `--tag` lines).
    package var algorithm: HashAlgorithm
    /// BSD-style lines.
    package var tag: Bool
    /// `*` before the name instead of a space.
    package var binary: Bool
    /// NUL-terminated lines, no escaping.
    package var zero: Bool

    /// A format.
    package init(algorithm: HashAlgorithm, tag: Bool = false, binary: Bool = false, zero: Bool = false) {
        self.algorithm = algorithm
        self.tag = tag
        self.binary = binary
        self.zero = zero
    }

    /// Whether coreutils escapes `name` (it holds `\`, newline or CR).
    package static func needsEscape(_ name: [UInt8]) -> Bool {
        name.contains { $0 == 0x5C || $0 == 0x0A || $0 == 0x0D }
    }

    /// Appends `name` to `out`, escaped when `escape` is set.
    package static func appendName(_ name: [UInt8], escape: Bool, to out: inout [UInt8]) {
        guard escape else { out.append(contentsOf: name); return }
        for b in name {
            switch b {
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            default: out.append(b)
            }
        }
    }

    /// The undoing of ``appendName(_:escape:to:)``: `\\` → `\`, `\n` →
    /// newline, `\r` → CR. Any other backslash sequence, or a backslash at
    /// the end, makes the name invalid (nil).
    package static func unescape<C: Collection>(_ name: C) -> [UInt8]? where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(name.count)
        var it = name.makeIterator()
        while let b = it.next() {
            // A file name cannot hold a NUL: the line is improperly formatted.
            if b == 0 { return nil }
            if b != 0x5C { out.append(b); continue }
            switch it.next() {
            case 0x5C: out.append(0x5C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            default: return nil
            }
        }
        return out
    }

    /// One output line for `name` (bytes) with digest `hex`, terminator included.
    package func line(name: [UInt8], hex: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(hex.count + name.count + 16)
        appendLine(name: name, hex: hex, to: &out)
        return out
    }

    /// Appends ``line(name:hex:)`` to `out`.
    package func appendLine<H: Collection>(name: [UInt8], hex: H, to out: inout [UInt8]) where H.Element == UInt8 {
        let escape = !zero && Self.needsEscape(name)
        if escape { out.append(0x5C) }
        if tag {
            out.append(contentsOf: algorithm.tagName.utf8)
            out.append(contentsOf: [0x20, UInt8(ascii: "(")])
            Self.appendName(name, escape: escape, to: &out)
            out.append(contentsOf: [0x29, 0x20, 0x3D, 0x20]) // ") = "
            out.append(contentsOf: hex)
        } else {
            out.append(contentsOf: hex)
            out.append(0x20)
            out.append(binary ? UInt8(ascii: "*") : 0x20)
            Self.appendName(name, escape: escape, to: &out)
        }
        out.append(zero ? 0 : 0x0A)
    }
}
