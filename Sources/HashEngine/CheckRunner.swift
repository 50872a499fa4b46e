extension HashRunner {
    func runCheck() -> Int32 {
        console.error("--check: not implemented yet")
        return 1
    }
}
