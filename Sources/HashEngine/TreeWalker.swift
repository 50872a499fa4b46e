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
/// Every directory is opened relative to its parent's descriptor (`openat`,
/// `fstatat`, `fdopendir`), one component at a time, so a tree deeper than
/// `PATH_MAX` is walked like any other; printed paths are still the whole
/// path from the operand. The walk keeps the descriptors of at most
/// ``maxOpenDirectories`` directories of the current path (the deepest
/// ones, and the operand's); when it climbs back to a directory whose
/// descriptor it closed, it opens it again from the nearest open ancestor by
/// its chain of names and checks that it is still the same directory
/// (device and inode). Files handed to the caller keep their directory's
/// handle until the caller drops it.
///
/// Memory: the sorted names of the directories on the current path (one
/// list per level), nothing per file already visited; the walk uses no
/// recursion, so depth is bounded by memory only. Names are bytes and are
/// never normalised. Symbolic links are skipped unless `followLinks`; with
/// it, a directory whose device and inode is already on the current path is
/// reported as a loop instead of being entered.
package struct TreeWalker {
    /// Follow symbolic links (`-L`).
    package var followLinks: Bool
    /// Most directory descriptors the walk itself holds at once (at least 2).
    package var maxOpenDirectories: Int

    /// A walker.
    package init(followLinks: Bool, maxOpenDirectories: Int = 64) {
        self.followLinks = followLinks
        self.maxOpenDirectories = max(2, maxOpenDirectories)
    }

    private struct DirID: Hashable { let dev: UInt64; let ino: UInt64 }

    /// One directory on the current path.
    private struct Level {
        /// The name to open it by in its parent (the operand for the root).
        var name: [UInt8]
        /// Its path as printed, ending in `/`.
        var prefix: [UInt8]
        var id: DirID
        /// Open while the level is among the deepest `maxOpenDirectories`.
        var handle: DirectoryHandle?
        var entries: [DirectoryEntry]
        var next = 0
    }

    /// Walks the directory `root` (given as typed; paths below it are
    /// `root/name`), calling `emit` for each entry in order.
    package func walk<E: Error>(root: [UInt8], _ emit: (WalkEntry) throws(E) -> Void) throws(E) {
        let fd = withCString(root) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { try emit(.failure(root, .current)); return }
        let handle = DirectoryHandle(fd: fd)
        let rootLevel: Level
        switch Self.makeLevel(handle, name: root, prefix: root.last == UInt8(ascii: "/") ? root : root + [UInt8(ascii: "/")]) {
        case .success(let l): rootLevel = l
        case .failure(let e): try emit(.failure(root, e)); return
        }
        var stack = [rootLevel]
        while !stack.isEmpty {
            let k = stack.count - 1
            guard stack[k].next < stack[k].entries.count else {
                stack.removeLast()
                continue
            }
            if stack[k].handle == nil, let e = reopen(&stack) {
                let path = stack[k].prefix
                stack.removeLast()
                try emit(.failure(Array(path.dropLast()), e))
                continue
            }
            let entry = stack[k].entries[stack[k].next]
            stack[k].next += 1
            let parent = stack[k].handle!
            let path = stack[k].prefix + entry.name
            var kind = entry.type
            var size = entry.size
            if kind == UInt8(DT_UNKNOWN) {
                guard let st = Self.stat(entry.name, in: parent.fd, follow: false) else {
                    try emit(.failure(path, .current))
                    continue
                }
                kind = Self.direntType(st.st_mode)
                size = Int64(st.st_size)
            }
            if kind == UInt8(DT_LNK) {
                guard followLinks else { try emit(.skipped(path, .symbolicLink)); continue }
                guard let st = Self.stat(entry.name, in: parent.fd, follow: true) else {
                    try emit(.failure(path, .current))
                    continue
                }
                kind = Self.direntType(st.st_mode)
                size = Int64(st.st_size)
            }
            switch Int(kind) {
            case Int(DT_REG): try emit(.file(path, size: size, directory: parent))
            case Int(DT_DIR):
                let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
                let cfd = withCString(entry.name) { openat(parent.fd, $0, flags) }
                guard cfd >= 0 else { try emit(.failure(path, .current)); continue }
                let child = DirectoryHandle(fd: cfd)
                let level: Level
                switch Self.makeLevel(child, name: entry.name, prefix: path + [UInt8(ascii: "/")]) {
                case .success(let l): level = l
                case .failure(let e): try emit(.failure(path, e)); continue
                }
                if followLinks && stack.contains(where: { $0.id == level.id }) {
                    try emit(.loop(path))
                    continue
                }
                stack.append(level)
                // Keep the root's and the deepest levels' descriptors only.
                let drop = stack.count - maxOpenDirectories
                if drop >= 1 { stack[drop].handle = nil }
            case Int(DT_FIFO): try emit(.skipped(path, .fifo))
            case Int(DT_SOCK): try emit(.skipped(path, .socket))
            case Int(DT_CHR): try emit(.skipped(path, .characterDevice))
            case Int(DT_BLK): try emit(.skipped(path, .blockDevice))
            default: try emit(.skipped(path, .other))
            }
        }
    }

    /// Reads the entries of the open directory `handle` into a level.
    private static func makeLevel(_ handle: DirectoryHandle, name: [UInt8], prefix: [UInt8]) -> Result<Level, SystemError> {
        var st = Glibc.stat()
        guard fstat(handle.fd, &st) == 0 else { return .failure(.current) }
        switch readDirectory(handle) {
        case .success(let entries):
            return .success(Level(name: name, prefix: prefix, id: DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)),
                                  handle: handle, entries: entries))
        case .failure(let e):
            return .failure(e)
        }
    }

    /// Opens the top level's directory again, and every level between it
    /// and its nearest open ancestor, keeping the deepest ones open; nil,
    /// or the error that stopped it (`ESTALE`: a name now leads to another
    /// directory).
    private func reopen(_ stack: inout [Level]) -> SystemError? {
        let top = stack.count - 1
        var j = top
        while j > 0 && stack[j].handle == nil { j -= 1 }
        let keepFrom = max(1, stack.count - maxOpenDirectories + 1)
        var current = stack[j].handle!
        for m in (j + 1)...top {
            let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
            let cfd = withCString(stack[m].name) { openat(current.fd, $0, flags) }
            guard cfd >= 0 else { return .current }
            let h = DirectoryHandle(fd: cfd)
            var st = Glibc.stat()
            guard fstat(cfd, &st) == 0 else { return .current }
            guard DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) == stack[m].id else { return SystemError(ESTALE) }
            if m >= keepFrom { stack[m].handle = h }
            current = h
        }
        return nil
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
        stat(path, in: AT_FDCWD, follow: follow)
    }

    /// `fstatat` of `name` in the directory `fd`.
    static func stat(_ name: [UInt8], in fd: Int32, follow: Bool) -> stat? {
        var st = Glibc.stat()
        let rc = withCString(name) { fstatat(fd, $0, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) }
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

    /// The entries of the open directory `handle` except `.` and `..`,
    /// sorted by name bytes (`handle` stays open).
    static func readDirectory(_ handle: DirectoryHandle) -> Result<[DirectoryEntry], SystemError> {
        // Read through a duplicate: closedir closes it, `handle` keeps its descriptor.
        let readFD = fcntl(handle.fd, F_DUPFD_CLOEXEC, 0)
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
        return .success(list)
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
