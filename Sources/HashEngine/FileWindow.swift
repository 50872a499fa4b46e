#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CHashGuard
import Crypto

/// A read-only `mmap(2)` of part of a file, read under a SIGBUS guard.
///
/// ## Why map
/// Hashing from `read(2)` copies every byte once more: on this project's
/// 2-core Zen 3 VM that copy (with the page-cache lookups) cost about 15% of
/// a core, so one 2 GiB file hashed at 0.84× `openssl speed -evp sha256`
/// (1040 against 1247 MB/s). Hashing the same file from 16–64 MiB
/// `MAP_POPULATE` windows hashes at full speed (1215 MB/s); what is left is
/// the kernel's cost of filling and tearing down the page tables (about 5%
/// for `MAP_POPULATE`, 3% for `munmap`). ``WindowMapper`` moves that cost to
/// another thread when one file spans several windows.
///
/// ## The guard protocol
/// A page of a mapping that lies beyond the end of the file raises SIGBUS
/// when it is touched: this happens when the file shrinks while it is
/// hashed. The issue requires a clear outcome, never a crash, so:
///
/// 1. `mtj_guard_install` (C, `Sources/CHwloc/shim.h`) installs a SIGBUS
///    handler once per process (``guardTableAddress``), saving the previous one.
/// 2. ``hash(into:)`` registers the window's address range in the handler's
///    table (`mtj_guard_register`), hashes the window into a copy of the
///    hasher, and unregisters the range (`mtj_guard_unregister`) before the
///    window can be unmapped.
/// 3. On a fault inside a registered range the handler maps zero-filled
///    anonymous memory over the rest of the range (`MAP_FIXED`), marks the
///    range and returns: the hash function finishes on zeros. A fault outside
///    every registered range goes to the previous handler (or kills the
///    process, as it would have without us).
/// 4. When the range was marked, or `fstat` now reports a size that ends
///    inside the window (a shrink within the last page raises no SIGBUS but
///    reads zeros), the copy is thrown away and the caller reads the file
///    from the window's start with `pread(2)` until end of file.
///
/// So a file that shrinks, grows or is replaced while being hashed gives
/// exactly what coreutils' read loop gives: the digest of the bytes read,
/// never a crash and never zeros that the file did not hold.
struct FileWindow {
    /// Offset in the file of the first byte.
    let offset: Int64
    /// The window's bytes.
    let bytes: UnsafeRawBufferPointer

    /// Address of the SIGBUS handler's table of guarded ranges (one per
    /// process, installed on first use, never freed; kept as an integer so
    /// the immutable global is `Sendable`); 0 when the handler could not be
    /// installed, and then no window is mapped.
    static let guardTableAddress: UInt = {
        guard let t = calloc(1, mtj_guard_table_size()) else { return 0 }
        guard mtj_guard_install(t) == 0 else { return 0 }
        return UInt(bitPattern: t)
    }()

    static var guardTable: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: guardTableAddress) }

    /// Whether the SIGBUS guard is installed (then windows may be read).
    static var guardInstalled: Bool { guardTableAddress != 0 }

    /// Maps `length` bytes of `fd` from `offset` (a multiple of the page
    /// size); nil when `mmap` fails.
    ///
    /// `populate` fills the page tables at once (`MAP_POPULATE`): right for
    /// the ``WindowMapper``, which maps on another CPU while this one
    /// hashes. A window hashed by the thread that maps it is better left to
    /// fault in: the faults map 16 pages each (the kernel's fault-around)
    /// under the VMA's own lock, while `MAP_POPULATE` holds the process's
    /// `mmap` lock for the whole window, so two threads mapping files at
    /// once wait for each other. Measured on 200 files of 8 MiB, two
    /// threads: 888 against 920 ms (a C program doing the same: 9% idle
    /// CPU with `MAP_POPULATE`, 1% without).
    static func map(fd: Int32, offset: Int64, length: Int, populate: Bool) -> FileWindow? {
        guard length > 0, guardInstalled else { return nil }
        let flags = populate ? MAP_PRIVATE | MAP_POPULATE : MAP_PRIVATE
        guard let p = mmap(nil, length, PROT_READ, flags, fd, off_t(offset)),
              p != MAP_FAILED else { return nil }
        return FileWindow(offset: offset, bytes: UnsafeRawBufferPointer(start: p, count: length))
    }

    /// Unmaps the window.
    func unmap() {
        _ = munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    /// Hashes the window into `hasher` if the file still holds all of it
    /// afterwards; otherwise leaves `hasher` as it was and returns false.
    func hash<H: HashFunction>(into hasher: inout H, fd: Int32) -> Bool {
        guard let table = Self.guardTable else { return false }
        let slot = mtj_guard_register(table, bytes.baseAddress, bytes.count)
        guard slot >= 0 else { return false }
        var copy = hasher
        copy.update(bufferPointer: bytes)
        let faulted = mtj_guard_unregister(table, slot) != 0
        if faulted { return false }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) >= offset + Int64(bytes.count) else { return false }
        hasher = copy
        return true
    }
}

// Safe: a FileWindow is an immutable description of a mapping; the mapping
// itself is read-only and unmapped by exactly one owner (see WindowMapper).
extension FileWindow: @unchecked Sendable {}
