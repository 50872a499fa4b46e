/// Runs one bash script twice, with `SUM` standing for `sha256sum` and for
/// the built `mtrun hash`, for comparisons that need the shell's
/// redirections (closed descriptors, FIFOs, process substitution).
enum ShellScript {
    /// The script's result with `SUM` = `sha256sum`, program name swapped.
    static func coreutils(_ script: String) -> MTRunBinary.Output {
        asMtrun(MTRunBinary.run(bytesArgs(["bash", "-c", script.replacingSum(with: "sha256sum")])), program: "sha256sum")
    }

    /// The script's result with `SUM` = `mtrun hash`.
    static func mtrun(_ script: String) -> MTRunBinary.Output {
        let quoted = "'" + String(decoding: MTRunBinary.path, as: UTF8.self) + "' hash"
        return MTRunBinary.run(bytesArgs(["bash", "-c", script.replacingSum(with: quoted)]))
    }
}

private extension String {
    func replacingSum(with program: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: "SUM") {
            out += rest[..<r.lowerBound] + program
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

private extension Substring {
    func range(of s: String) -> Range<Substring.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(s) { return i..<index(i, offsetBy: s.count) }
            i = index(after: i)
        }
        return nil
    }
}
