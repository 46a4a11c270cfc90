/// `ladderwire-bench ingest --url … [--seconds S] [--pipeline N]`.
func runIngestBench(arguments: [String]) {
    print("ingest: not implemented yet")
}
