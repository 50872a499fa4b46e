/// The exit statuses of every `mtrun` subcommand: those of coreutils'
/// `sha256sum`, so `mtrun hash` can stand in for it and scripts test one
/// convention.
enum ExitStatus {
    /// Everything asked for was done.
    static let success: Int32 = 0
    /// A usage error (unknown option, missing or invalid value), an input
    /// that cannot be used, or an operation that failed.
    static let failure: Int32 = 1

    /// The paragraph each `--help` ends with.
    static let discussion = "Exit status: 0 on success; 1 on a usage error, invalid input or failure."
}
