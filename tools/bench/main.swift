import Glibc

// ladderwire-bench: the performance tools of Ladderwire (docs/benchmarks.md records their figures).
let usage = """
usage: ladderwire-bench COMMAND [options]
  latency  --url ws://HOST:PORT [--feed FILE] [--rate N/s | --pace recorded [--speed X]] [--subscribers N]
           [--seconds S] [--drain S] [--with-marks] [--server-pid PID] [--build B] [--durability D]
           [--svg FILE] [--json]
  connect  --url ws://HOST:PORT --clients K [--path /ws?...] [--json]
  connect  --url ws://HOST:PORT --idle N --server-pid PID [--settle S] [--json]
  ingest   --url ws://HOST:PORT [--seconds S] [--pipeline N] [--server-pid PID] [--json]
  ledger   [--fills N] [--books B] [--generate-only]
  encode   [--fills N] [--passes P] [--path all|messages|json|text|parse|none]   (delta encoding: JSON writer, frames, text lines; producer parsing)
  journal  [--events N] [--batch B] [--durability normal|full] [--rate R] [--checkpointer MS] [--wal-commits C] [--recovery-events M] [--dir D]
  journal-crash-child --db PATH [--count N]
  populate --db PATH --fills N [--accounts A] [--instruments FILE] [--accounts-file FILE] [--batch B] [--checkpoint-every E]
  selfcheck
"""

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    writeError(usage + "\n")
    exit(2)
}
let rest = Array(arguments.dropFirst())
switch command {
case "latency": runLatencyBench(arguments: rest)
case "connect": runConnectBench(arguments: rest)
case "ingest": runIngestBench(arguments: rest)
case "ledger": runLedgerBench(arguments: rest)
case "encode": runEncodeBench(arguments: rest)
case "journal": runJournalBench(arguments: rest)
case "journal-crash-child": runJournalCrashChild(arguments: rest)
case "populate": runPopulateBench(arguments: rest)
case "selfcheck": runSelfCheck(arguments: rest)
case "-h", "--help", "help": print(usage)
default:
    writeError("ladderwire-bench: unknown command '\(command)'\n" + usage + "\n")
    exit(2)
}
