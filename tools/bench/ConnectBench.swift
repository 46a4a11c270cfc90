/// `ladderwire-bench connect --url … --clients K` / `--idle N --server-pid PID`.
func runConnectBench(arguments: [String]) {
    print("connect: not implemented yet")
}
