// Keeps the documentation's examples compiled: every ```swift block of
// README.md and of the DocC articles (Sources/*/*.docc/*.md) must appear,
// character for character, in one of this target's source files.
//
// A block's leading `import` lines are checked separately: each must be an
// import line of the file that holds the rest of the block (imports cannot
// sit inside the function that wraps an example).
import Foundation
import Testing

/// One ```swift block of a markdown file.
struct SwiftBlock: Equatable {
    /// The markdown file, relative to the repository root.
    var file: String
    /// The 1-based line of the opening fence.
    var line: Int
    /// The block's leading `import` lines.
    var imports: [String]
    /// The rest of the block, one string with a newline after every line.
    var body: String
}

/// The ```swift blocks of `markdown`. A fence may be indented (a block in a
/// list item); that indentation is removed from every line of the block.
func swiftBlocks(in markdown: String, file: String) -> [SwiftBlock] {
    var blocks: [SwiftBlock] = []
    var lines: [String]? = nil
    var indent = 0
    var start = 0
    for (n, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = String(raw)
        let trimmed = line.drop { $0 == " " }
        if var open = lines {
            if trimmed.hasPrefix("```") {
                blocks.append(makeBlock(open, file: file, line: start))
                lines = nil
            } else {
                open.append(String(line.dropFirst(min(indent, line.prefix { $0 == " " }.count))))
                lines = open
            }
        } else if trimmed == "```swift" {
            lines = []
            indent = line.count - trimmed.count
            start = n + 1
        }
    }
    return blocks
}

private func makeBlock(_ lines: [String], file: String, line: Int) -> SwiftBlock {
    var rest = lines[...]
    var imports: [String] = []
    while let first = rest.first, first.hasPrefix("import ") {
        imports.append(first)
        rest = rest.dropFirst()
    }
    while let first = rest.first, first.allSatisfy(\.isWhitespace) { rest = rest.dropFirst() }
    return SwiftBlock(file: file, line: line, imports: imports,
                      body: rest.map { $0 + "\n" }.joined())
}

/// The repository root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func read(_ relative: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent(relative), encoding: .utf8)
}

/// README.md and every article of every DocC catalog, relative paths.
private func documentationFiles() throws -> [String] {
    let fm = FileManager.default
    var files = ["README.md"]
    for module in try fm.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("Sources").path).sorted() {
        let moduleDir = "Sources/\(module)"
        let entries = (try? fm.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent(moduleDir).path)) ?? []
        for catalog in entries.sorted() where catalog.hasSuffix(".docc") {
            let catalogDir = "\(moduleDir)/\(catalog)"
            let articles = try fm.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent(catalogDir).path)
            files += articles.sorted().filter { $0.hasSuffix(".md") }.map { "\(catalogDir)/\($0)" }
        }
    }
    return files
}

/// This target's Swift sources: (relative path, text).
private func exampleSources() throws -> [(path: String, text: String)] {
    let dir = "Tests/DocExamplesTests"
    let names = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent(dir).path)
    return try names.sorted().filter { $0.hasSuffix(".swift") }.map { ("\(dir)/\($0)", try read("\(dir)/\($0)")) }
}

@Suite("Documentation examples are the compiled ones")
struct ExamplesAreVerbatimTests {
    @Test("every ```swift block of README.md and the DocC articles appears verbatim in Tests/DocExamplesTests")
    func everyBlockIsCompiled() throws {
        let sources = try exampleSources()
        var checked = 0
        for file in try documentationFiles() {
            for block in swiftBlocks(in: try read(file), file: file) {
                checked += 1
                let holder = sources.first { $0.text.contains(block.body) }
                #expect(holder != nil, "\(block.file):\(block.line): this ```swift block is not in Tests/DocExamplesTests:\n\(block.body)")
                guard let holder else { continue }
                let importLines = Set(holder.text.split(separator: "\n").map(String.init))
                for imp in block.imports {
                    #expect(importLines.contains(imp), "\(block.file):\(block.line): \(holder.path) lacks `\(imp)`")
                }
            }
        }
        // README (3) and the MTJobs (1), SerialJobs (2) and Topology (1) articles today.
        #expect(checked >= 7, "found only \(checked) swift blocks: is the extraction broken?")
    }

    @Test("the block extractor handles indented fences, leading imports and other languages")
    func extractor() {
        let md = """
        text
        ```sh
        swift test
        ```
        - item:
          ```swift
          import MTJobs

          let a = 1
            let b = a
          ```
        ```swift
        print(2)
        ```
        """
        let blocks = swiftBlocks(in: md, file: "x.md")
        #expect(blocks == [
            SwiftBlock(file: "x.md", line: 6, imports: ["import MTJobs"], body: "let a = 1\n  let b = a\n"),
            SwiftBlock(file: "x.md", line: 12, imports: [], body: "print(2)\n"),
        ])
    }

    @Test("a changed example is caught: a block that differs by one character is not found")
    func mismatchIsCaught() throws {
        let sources = try exampleSources()
        let readme = try read("README.md")
        let block = try #require(swiftBlocks(in: readme, file: "README.md").first)
        let altered = block.body.replacingOccurrences(of: "1_000_000", with: "1_000_001")
        #expect(altered != block.body)
        #expect(sources.contains { $0.text.contains(block.body) })
        #expect(!sources.contains { $0.text.contains(altered) })
    }
}
