#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the walker found at one path, in walk order.
package enum WalkEntry: Sendable, Hashable {
    /// A regular file to hash, with its size when the walk saw it (-1 if
    /// unknown: a hint for grouping small files, never trusted as the
    /// number of bytes to hash) and the open directory it was listed in
    /// (open it there by its last path component, ``DirectoryHandle``).
    case file([UInt8], size: Int64, directory: DirectoryHandle?)
    /// A path that could not be read (directory unreadable, dangling link
    /// under `-L`, …): an error, the run fails.
    case failure([UInt8], SystemError)
    /// A directory reached again through symbolic links (`-L`): an error.
    case loop([UInt8])
    /// Something not hashed on purpose: a warning, the run does not fail.
    case skipped([UInt8], SkipReason)
}

/// Why the walker did not hash an entry.
package enum SkipReason: String, Sendable, Hashable {
    case symbolicLink = "symbolic link (use -L to follow)"
    case fifo = "fifo"
    case socket = "socket"
    case characterDevice = "character special file"
    case blockDevice = "block special file"
    case other = "not a regular file"
}

/// An open directory, shared by the entries the walker read from it and
/// closed when the last of them is gone.
///
/// Opening `name` relative to it (`openat`) resolves one path component
/// instead of every directory from the operand down (about 1.5 µs a file
/// here, 3% of hashing 20,000 small files); a directory renamed during the
/// walk still finds its files, as `find` would.
package final class DirectoryHandle: Sendable, Hashable {
    /// The descriptor (`O_RDONLY | O_DIRECTORY | O_CLOEXEC`).
    package let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    package static func == (a: DirectoryHandle, b: DirectoryHandle) -> Bool { a === b }
    package func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}

/// Depth-first walk of a directory tree in a deterministic order: the
/// entries of each directory sorted by the bytes of their names (`memcmp`
/// order, a prefix first), each subdirectory's contents right where the
/// subdirectory sorts. The order depends only on the tree, never on threads.
///
/// Memory: the sorted names of the directories on the current path (one
/// list per level), nothing per file already visited. Names are bytes and are
/// never normalised. Symbolic links are skipped unless `followLinks`; with
/// it, a directory whose device and inode is already on the current path is
/// reported as a loop instead of being entered.
package struct TreeWalker {
    /// Follow symbolic links (`-L`).
    package var followLinks: Bool

    /// A walker.
    package init(followLinks: Bool) { self.followLinks = followLinks }

    private struct DirID: Hashable { let dev: UInt64; let ino: UInt64 }

    /// Walks the directory `root` (given as typed; paths below it are
    /// `root/name`), calling `visit` for each entry in order.
    package func walk<E: Error>(root: [UInt8], _ emit: (WalkEntry) throws(E) -> Void) throws(E) {
        var ancestors: [DirID] = []
        if let st = Self.stat(root, follow: true) {
            ancestors.append(DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)))
        }
        try walkDirectory(root, &ancestors, emit)
    }

    private func walkDirectory<E: Error>(_ dir: [UInt8], _ ancestors: inout [DirID], _ emit: (WalkEntry) throws(E) -> Void) throws(E) {
        let entries: [DirectoryEntry]
        let handle: DirectoryHandle
        switch Self.readDirectory(dir) {
        case .success(let r): (entries, handle) = r
        case .failure(let e): try emit(.failure(dir, e)); return
        }
        let prefix: [UInt8] = dir.last == UInt8(ascii: "/") ? dir : dir + [UInt8(ascii: "/")]
        for entry in entries {
            let path = prefix + entry.name
            var kind = entry.type
            var size = entry.size
            if kind == UInt8(DT_UNKNOWN) {
                guard let st = Self.stat(path, follow: false) else {
                    try emit(.failure(path, .current))
                    continue
                }
                kind = Self.direntType(st.st_mode)
                size = Int64(st.st_size)
            }
            if kind == UInt8(DT_LNK) {
                guard followLinks else { try emit(.skipped(path, .symbolicLink)); continue }
                guard let st = Self.stat(path, follow: true) else {
                    try emit(.failure(path, .current))
                    continue
                }
                kind = Self.direntType(st.st_mode)
                size = Int64(st.st_size)
                if kind == UInt8(DT_DIR) {
                    let id = DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
                    if ancestors.contains(id) { try emit(.loop(path)); continue }
                }
            }
            switch Int(kind) {
            case Int(DT_REG): try emit(.file(path, size: size, directory: handle))
            case Int(DT_DIR):
                if followLinks, let st = Self.stat(path, follow: true) {
                    let id = DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
                    if ancestors.contains(id) { try emit(.loop(path)); continue }
                    ancestors.append(id)
                    try walkDirectory(path, &ancestors, emit)
                    ancestors.removeLast()
                } else {
                    try walkDirectory(path, &ancestors, emit)
                }
            case Int(DT_FIFO): try emit(.skipped(path, .fifo))
            case Int(DT_SOCK): try emit(.skipped(path, .socket))
            case Int(DT_CHR): try emit(.skipped(path, .characterDevice))
            case Int(DT_BLK): try emit(.skipped(path, .blockDevice))
            default: try emit(.skipped(path, .other))
            }
        }
    }

    /// Whether `path` names a directory (following links), for operands.
    package static func isDirectory(_ path: [UInt8]) -> Bool {
        guard let st = stat(path, follow: true) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func direntType(_ mode: mode_t) -> UInt8 {
        switch mode & S_IFMT {
        case S_IFREG: UInt8(DT_REG)
        case S_IFDIR: UInt8(DT_DIR)
        case S_IFLNK: UInt8(DT_LNK)
        case S_IFIFO: UInt8(DT_FIFO)
        case S_IFSOCK: UInt8(DT_SOCK)
        case S_IFCHR: UInt8(DT_CHR)
        case S_IFBLK: UInt8(DT_BLK)
        default: UInt8(DT_UNKNOWN)
        }
    }

    static func stat(_ path: [UInt8], follow: Bool) -> stat? {
        var st = Glibc.stat()
        let rc = withCString(path) { fstatat(AT_FDCWD, $0, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? st : nil
    }

    /// One directory entry: its name, `d_type`, and its size when known
    /// (-1: the walk does not stat regular files; a stat per file costs
    /// about as much here as the grouping of small files it would guide).
    struct DirectoryEntry {
        var name: [UInt8]
        var type: UInt8
        var size: Int64
    }

    /// The entries of `dir` except `.` and `..`, sorted by name bytes, and
    /// the directory, still open.
    static func readDirectory(_ dir: [UInt8]) -> Result<([DirectoryEntry], DirectoryHandle), SystemError> {
        let fd = withCString(dir) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return .failure(.current) }
        let handle = DirectoryHandle(fd: fd)
        // Read through a duplicate: closedir closes it, `handle` keeps `fd`.
        let readFD = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard readFD >= 0 else { return .failure(.current) }
        guard let d = fdopendir(readFD) else {
            let e = SystemError.current
            close(readFD)
            return .failure(e)
        }
        defer { closedir(d) }
        var list: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let ent = readdir(d) else {
                if errno != 0 { return .failure(.current) }
                break
            }
            let type = ent.pointee.d_type
            let name: [UInt8]? = withUnsafeBytes(of: &ent.pointee.d_name) { raw in
                let c = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                let len = strnlen(c, raw.count)
                if (len == 1 || len == 2) && raw[0] == 0x2E && raw[len - 1] == 0x2E { return nil }
                return Array(raw[0..<len])
            }
            guard let name else { continue }
            list.append(DirectoryEntry(name: name, type: type, size: -1))
        }
        list.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return .success((list, handle))
    }
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var c = bytes
    c.append(0)
    return c.withUnsafeBufferPointer { p in
        p.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}
