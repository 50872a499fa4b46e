/// Everything `mtrun hash` was asked to do, after option parsing.
package struct HashOptions: Sendable, Hashable {
    /// `-a/--algorithm` (default SHA-256).
    package var algorithm: HashAlgorithm = .sha256
    /// `-c/--check`: the operands are checksum files to verify.
    package var check = false
    /// `--tag`: BSD-style lines.
    package var tag = false
    /// `-b` (true) or `-t` (false), whichever came last; nil when neither.
    package var binary: Bool? = nil
    /// `-z/--zero`: NUL-terminated lines, no escaping.
    package var zero = false
    /// `--ignore-missing` (check mode).
    package var ignoreMissing = false
    /// `--quiet` (check mode): no `OK` lines.
    package var quiet = false
    /// `--status` (check mode): no output, only the exit status.
    package var status = false
    /// `--strict` (check mode): improperly formatted lines fail.
    package var strict = false
    /// `-w/--warn` (check mode): report improperly formatted lines.
    package var warn = false
    /// `-r/--recursive`: hash the files under directory operands.
    package var recursive = false
    /// `-L/--dereference`: follow symbolic links met while recursing.
    package var dereference = false
    /// `-j/--jobs`: CPUs to hash on (nil: all this process may use).
    package var jobs: Int? = nil
    /// `--progress` / `--no-progress` (nil: on when standard error is a terminal).
    package var progress: Bool? = nil
    /// `--json`: one JSON object per line.
    package var json = false
    /// The operands, as bytes (no operand means standard input).
    package var operands: [[UInt8]] = []

    /// Default options.
    package init() {}

    /// The line format these options select.
    package var format: ChecksumFormat {
        ChecksumFormat(algorithm: algorithm, tag: tag, binary: binary ?? false, zero: zero)
    }
}
