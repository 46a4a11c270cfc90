/// `ladderwire-bench latency --url … [--rate N/s] [--subscribers N] [--seconds S]`.
func runLatencyBench(arguments: [String]) {
    print("latency: not implemented yet")
}
