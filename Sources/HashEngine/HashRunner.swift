#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SerialJobs
import Topology
import Synchronization
import WorkerPool

/// What the parallel stage found for one item.
enum ItemOutcome: Sendable {
    /// Hashed.
    case digest(FileDigest)
    /// Could not be read.
    case failure(SystemError)
    /// Nothing to hash (a walker message).
    case none
}

/// Runs `mtrun hash`: walker → parallel hash → in-order print.
///
/// The submitting thread walks the operands (and the trees under them with
/// `-r`) and submits one item per file to a SerialJobs shell; workers hash
/// the files; the shell's serial callbacks print each item's line or error in
/// submission order. All output, messages included, happens in those
/// callbacks, so lines and messages come out in operand and walk order while
/// hashing goes on, and at most `window` items are in flight: memory stays
/// bounded whatever the number of files. Standard input (`-`) is read on the
/// submitting thread, in order, since it can be read only once.
package final class HashRunner: Sendable {
    /// The parsed options.
    package let options: HashOptions
    /// Where output and messages go.
    package let console: Console
    let quoting: NameQuoting
    let digester: FileDigester
    let instance: Instance
    /// Items in flight at most.
    package let window: Int
    /// Directory descriptors the `-r` walker may hold (``DescriptorBudget``).
    let walkerDirectories: Int
    /// Set by serial callbacks when an item failed; relaxed: read only after
    /// `Shell.stop()`, which orders every callback before its return.
    let failed = Atomic<Bool>(false)
    /// Items submitted to the shell (a group of small files counts once);
    /// relaxed: a counter for tests and diagnostics.
    let itemsSubmitted = Atomic<Int>(0)
    /// Standard input was read (an operand or a checksum line `-`);
    /// relaxed: set by the submitting thread, read by it after the run.
    let readStandardInput = Atomic<Bool>(false)
    /// Shows `--progress` when enabled.
    let progress: ProgressMeter?

    /// Prepares a run. `pool` defaults to the shared pool, or to a pool on
    /// the first `options.jobs` usable CPUs.
    package init(options: HashOptions, console: Console, charset: Charset, pool: WorkerPool? = nil, bufferSize: Int = 256 * 1024) throws(SerialJobsError) {
        self.options = options
        self.console = console
        self.quoting = NameQuoting(charset: charset)
        let chosen: WorkerPool
        if let pool {
            chosen = pool
        } else if let jobs = options.jobs {
            let allowed = Array(WorkerPool.shared.topology.allowedCPUs)
            chosen = WorkerPool(name: "hash", cpus: CPUSet(allowed.prefix(max(1, jobs))))
        } else {
            chosen = WorkerPool.shared
        }
        // A mapping thread for a big file only when the run may use more
        // than one CPU (`--jobs 1` keeps to one), on the pool's other CPUs.
        let several = chosen.workerCount > 1
        self.digester = FileDigester(algorithm: options.algorithm, bufferSize: bufferSize,
                                     mapAhead: several, helperCPUs: several ? chosen.cpus : nil)
        self.instance = try Instance(pool: chosen)
        let limits = DescriptorBudget.current()
        self.window = min(max(64, 16 * chosen.workerCount), limits.itemsInFlight)
        self.walkerDirectories = limits.walkerDirectories
        let wantProgress = options.progress ?? console.stderr.isTerminal
        self.progress = (wantProgress && !options.check) ? ProgressMeter(console: console, digester: digester) : nil
    }

    /// Runs and returns the exit status (0, or 1 if anything failed).
    /// `closed`: the standard streams that were closed at start
    /// (``ClosedStandardStreams/reserve()``); as in coreutils, having read
    /// a closed standard input ends with `standard input: Bad file
    /// descriptor`, then a failed output with `write error`.
    package func run(closed: ClosedStandardStreams = ClosedStandardStreams()) -> Int32 {
        var status = options.check ? runCheck() : runHash()
        if closed.stdin && readStandardInput.load(ordering: .relaxed) {
            console.error("standard input: \(SystemError(EBADF).message)")
            status = 1
        }
        if !console.finish(stdoutWasClosed: closed.stdout) { status = 1 }
        return status
    }

    // MARK: Hash mode

    private func runHash() -> Int32 {
        let shell: Shell
        do {
            shell = try instance.makeShell(window: window, placement: .anyWorker)
        } catch {
            console.error("cannot start: \(error)")
            return 1
        }
        progress?.start()
        let operands = options.operands.isEmpty ? [[UInt8(ascii: "-")]] : options.operands
        var pending = PendingFiles()
        do {
            for operand in operands {
                try submitOperand(operand, shell, &pending)
            }
            try flush(&pending, shell)
            progress?.walkFinished()
        } catch {
            console.error("internal error: \(error)")
            failed.store(true, ordering: .relaxed)
        }
        shell.stop()
        progress?.stop()
        return failed.load(ordering: .relaxed) ? 1 : 0
    }

    /// Small files found by the walker, not yet submitted: they go to the
    /// workers as one item (see ``flush(_:_:)``).
    ///
    /// Why: hashing a 4–64 KiB file takes 3–50 µs, and each SerialJobs item
    /// (two closures, a slot in the reorder window, a serial callback, an
    /// output append) costs a few µs on top; one item per group of about
    /// `batchBytes` of small files pays that once per group (20,000 files of
    /// 4–64 KiB: about 10% faster). The walker does not stat files (that
    /// cost as much as the grouping saved), so a file's size is guessed
    /// from the mean size of the files hashed so far: while that is
    /// `batchBytes` or more (big files, or nothing hashed yet) every file
    /// goes alone, so work per item stays even and both workers finish
    /// together. Order is unchanged: a group is submitted before anything
    /// that follows it in walk order.
    struct PendingFiles {
        var paths: [[UInt8]] = []
        /// Where each file is opened from: its directory and the name's
        /// start in its path, or nil and 0 (the whole path, from here).
        var origins: [(directory: DirectoryHandle?, nameStart: Int)] = []
        var bytes: Int64 = 0
        /// Directories the group's files are listed in (each held open until
        /// the group is hashed): at most ``DescriptorBudget/handlesPerItem``.
        var directories = 0
    }

    /// Files at most this big are grouped, up to this many bytes per group.
    static let batchBytes: Int64 = 256 << 10
    /// At most this many files per group.
    static let batchFiles = 32

    private func submitOperand(_ operand: [UInt8], _ shell: Shell, _ pending: inout PendingFiles) throws(SerialJobsError) {
        try flush(&pending, shell)
        if operand == [UInt8(ascii: "-")] {
            readStandardInput.store(true, ordering: .relaxed)
            let r: ItemOutcome
            do throws(SystemError) { r = .digest(try digester.digest(fd: 0)) } catch { r = .failure(error) }
            try submit(shell, name: operand) { r }
            return
        }
        if options.recursive && TreeWalker.isDirectory(operand) {
            let walker = TreeWalker(followLinks: options.dereference, maxOpenDirectories: walkerDirectories)
            try walker.walk(root: operand) { (entry) throws(SerialJobsError) in
                switch entry {
                case .file(let path, let known, let directory):
                    progress?.discovered(path)
                    let size = known >= 0 ? known : expectedFileSize()
                    let nameStart = directory == nil ? 0 : (path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0)
                    guard size < Self.batchBytes else {
                        try flush(&pending, shell)
                        try submitFile(path, shell, directory: directory, nameStart: nameStart)
                        return
                    }
                    if pending.origins.last?.directory !== directory {
                        if pending.directories == DescriptorBudget.handlesPerItem { try flush(&pending, shell) }
                        pending.directories += 1
                    }
                    pending.paths.append(path)
                    pending.origins.append((directory, nameStart))
                    pending.bytes += size
                    if pending.paths.count >= Self.batchFiles || pending.bytes >= Self.batchBytes {
                        try flush(&pending, shell)
                    }
                case .failure(let path, let e):
                    try flush(&pending, shell)
                    try submit(shell, name: path) { .failure(e) }
                case .loop(let path):
                    try flush(&pending, shell)
                    try submitMessage(shell, isError: true, path: path, text: "File system loop detected; not entered")
                case .skipped(let path, let why):
                    try flush(&pending, shell)
                    try submitMessage(shell, isError: false, path: path, text: "skipped: \(why.rawValue)")
                }
            }
            try flush(&pending, shell)
            return
        }
        progress?.discovered(operand)
        if Self.isStream(operand) {
            let r = Self.digest(digester, operand, nil, 0)
            try submit(shell, name: operand) { r }
            return
        }
        try submitFile(operand, shell)
    }

    /// Whether `path` is a FIFO, a terminal, a device or anything else but
    /// a regular file or a directory: it is read on the submitting thread,
    /// in operand order, like `-`, since it may be the same stream as
    /// standard input (`/dev/stdin`, `/dev/fd/0`) or another operand.
    static func isStream(_ path: [UInt8]) -> Bool {
        guard let st = TreeWalker.stat(path, follow: true) else { return false }
        let type = st.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }

    private func submitFile(_ path: [UInt8], _ shell: Shell, directory: DirectoryHandle? = nil, nameStart: Int = 0) throws(SerialJobsError) {
        let digester = self.digester
        try submit(shell, name: path) {
            Self.digest(digester, path, directory, nameStart)
        }
    }

    /// Hashes `path`, opened as `path[nameStart...]` in `directory` if given.
    private static func digest(_ digester: FileDigester, _ path: [UInt8], _ directory: DirectoryHandle?, _ nameStart: Int) -> ItemOutcome {
        do throws(SystemError) {
            if let directory {
                return .digest(try digester.digest(path: path[nameStart...], relativeTo: directory.fd))
            }
            return .digest(try digester.digest(path: path))
        } catch {
            return .failure(error)
        }
    }

    /// The mean size of the files hashed so far (`batchBytes` before any).
    private func expectedFileSize() -> Int64 {
        let files = digester.filesHashed.load(ordering: .relaxed)
        guard files > 0 else { return Self.batchBytes }
        return Int64(digester.bytesHashed.load(ordering: .relaxed) / files)
    }

    /// Submits the pending small files as one item.
    private func flush(_ pending: inout PendingFiles, _ shell: Shell) throws(SerialJobsError) {
        guard !pending.paths.isEmpty else { return }
        let paths = pending.paths
        let origins = pending.origins
        pending = PendingFiles()
        if paths.count == 1 {
            try submitFile(paths[0], shell, directory: origins[0].directory, nameStart: origins[0].nameStart)
            return
        }
        let digester = self.digester
        itemsSubmitted.add(1, ordering: .relaxed)
        try shell.submit(parallel: { () -> [ItemOutcome] in
            (0..<paths.count).map { i in Self.digest(digester, paths[i], origins[i].directory, origins[i].nameStart) }
        }, serial: { [self] (r: Result<[ItemOutcome], any Error>) in
            switch r {
            case .success(let outcomes): self.report(names: paths, outcomes)
            case .failure(let e):
                let f = ItemOutcome.failure(e as? SystemError ?? SystemError(EIO))
                self.report(names: paths, [ItemOutcome](repeating: f, count: paths.count))
            }
        })
    }

    private func submit(_ shell: Shell, name: [UInt8], _ work: @escaping @Sendable () -> ItemOutcome) throws(SerialJobsError) {
        itemsSubmitted.add(1, ordering: .relaxed)
        try shell.submit(parallel: work, serial: { [self] (r: Result<ItemOutcome, any Error>) in
            switch r {
            case .success(let outcome): self.report(name: name, outcome)
            case .failure(let e): self.report(name: name, .failure(e as? SystemError ?? SystemError(EIO)))
            }
        })
    }

    private func submitMessage(_ shell: Shell, isError: Bool, path: [UInt8], text: String) throws(SerialJobsError) {
        let quoted = quoting.quote(path)
        try shell.submit(parallel: { ItemOutcome.none }, serial: { [self] (_: Result<ItemOutcome, any Error>) in
            var m = quoted
            m.append(contentsOf: ": \(text)".utf8)
            if isError { self.failed.store(true, ordering: .relaxed) }
            self.console.error(m)
        })
    }

    /// Serial stage: prints one item's line or error.
    private func report(name: [UInt8], _ outcome: ItemOutcome) {
        var out: [UInt8] = []
        report(name: name, outcome, into: &out)
        if !out.isEmpty { console.out(out) }
    }

    /// Serial stage: prints a group's lines (one write to the console for
    /// all of them, unless an error message comes between).
    private func report(names: [[UInt8]], _ outcomes: [ItemOutcome]) {
        var out: [UInt8] = []
        out.reserveCapacity(names.count * (options.algorithm.hexLength + 64))
        for (name, outcome) in zip(names, outcomes) { report(name: name, outcome, into: &out) }
        if !out.isEmpty { console.out(out) }
    }

    /// Appends `outcome`'s line for `name` to `out`; an error message is
    /// written at once, after `out` (so the two streams keep their order).
    private func report(name: [UInt8], _ outcome: ItemOutcome, into out: inout [UInt8]) {
        switch outcome {
        case .digest(let d):
            if options.json {
                out.append(contentsOf: JSONLine.line(path: name, algorithm: options.algorithm, digestHex: Hex.encode(d.digest), bytes: d.byteCount, error: nil))
            } else {
                Hex.withEncoded(d.digest) { options.format.appendLine(name: name, hex: $0, to: &out) }
            }
            progress?.finished()
        case .failure(let e):
            failed.store(true, ordering: .relaxed)
            if options.json {
                out.append(contentsOf: JSONLine.line(path: name, algorithm: options.algorithm, digestHex: nil, bytes: nil, error: e.message))
            } else {
                if !out.isEmpty {
                    console.out(out)
                    out.removeAll(keepingCapacity: true)
                }
                var m = quoting.quote(name)
                m.append(contentsOf: ": \(e.message)".utf8)
                console.error(m)
            }
            progress?.finished()
        case .none:
            break
        }
    }
}
