#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How many file descriptors a run of `mtrun hash -r` may keep open, from
/// the process's `RLIMIT_NOFILE`, so a tree of any depth is walked within
/// the limit.
///
/// Open descriptors are: the walker's directories on the current path (at
/// most ``walkerDirectories``), the directories held by items in flight
/// (each item holds at most ``handlesPerItem``, so at most
/// ``itemsInFlight`` × that), and ``reserved`` for everything else (the
/// files being hashed, one per worker, the pool, the runtime, standard
/// streams).
struct DescriptorBudget: Hashable {
    /// Directories one item (a file, or a group of small files) holds.
    static let handlesPerItem = 4
    /// Descriptors left for everything but directories.
    static let reserved = 48

    /// Directory descriptors the walker may hold.
    var walkerDirectories: Int
    /// Items that may be in flight.
    var itemsInFlight: Int

    /// The budget for a descriptor limit of `limit`.
    init(limit: Int) {
        let spare = max(0, limit - Self.reserved)
        walkerDirectories = min(64, max(2, spare / 4))
        itemsInFlight = max(1, (spare - walkerDirectories) / Self.handlesPerItem)
    }

    /// The budget for this process's soft `RLIMIT_NOFILE`.
    static func current() -> DescriptorBudget {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0, r.rlim_cur != rlim_t.max else {
            return DescriptorBudget(limit: 1 << 20)
        }
        return DescriptorBudget(limit: Int(min(r.rlim_cur, 1 << 20)))
    }
}
