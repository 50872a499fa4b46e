/// Everything `mtrun hash` was asked to do, after option parsing.
public struct HashOptions: Sendable, Hashable {
    /// `-a/--algorithm` (default SHA-256).
    public var algorithm: HashAlgorithm = .sha256
    /// `-c/--check`: the operands are checksum files to verify.
    public var check = false
    /// `--tag`: BSD-style lines.
    public var tag = false
    /// `-b` (true) or `-t` (false), whichever came last; nil when neither.
    public var binary: Bool? = nil
    /// `-z/--zero`: NUL-terminated lines, no escaping.
    public var zero = false
    /// `--ignore-missing` (check mode).
    public var ignoreMissing = false
    /// `--quiet` (check mode): no `OK` lines.
    public var quiet = false
    /// `--status` (check mode): no output, only the exit status.
    public var status = false
    /// `--strict` (check mode): improperly formatted lines fail.
    public var strict = false
    /// `-w/--warn` (check mode): report improperly formatted lines.
    public var warn = false
    /// `-r/--recursive`: hash the files under directory operands.
    public var recursive = false
    /// `-L/--dereference`: follow symbolic links met while recursing.
    public var dereference = false
    /// `-j/--jobs`: CPUs to hash on (nil: all this process may use).
    public var jobs: Int? = nil
    /// `--progress` / `--no-progress` (nil: on when standard error is a terminal).
    public var progress: Bool? = nil
    /// `--json`: one JSON object per line.
    public var json = false
    /// The operands, as bytes (no operand means standard input).
    public var operands: [[UInt8]] = []

    /// Default options.
    public init() {}

    /// The line format these options select.
    public var format: ChecksumFormat {
        ChecksumFormat(algorithm: algorithm, tag: tag, binary: binary ?? false, zero: zero)
    }
}
