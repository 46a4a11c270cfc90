import Foundation

/// `ladderwire-bench <tool> [options]`: benchmarks print figures; none of them is a test.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "ledger":
    runLedgerBench(arguments: Array(arguments.dropFirst()))
case "journal":
    runJournalBench(arguments: Array(arguments.dropFirst()))
case "journal-crash-child":
    runJournalCrashChild(arguments: Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write(Data("usage: ladderwire-bench ledger|journal|journal-crash-child [options]\n".utf8))
    exit(2)
}
