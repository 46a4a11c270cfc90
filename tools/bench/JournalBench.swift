import Foundation
import Journal

/// `ladderwire-bench journal [--events N] [--batch B] [--durability normal|full]`
func runJournalBench(arguments: [String]) {
    print("journal bench: not implemented yet")
}

/// `ladderwire-bench journal-crash-child --db PATH [--count N]`
func runJournalCrashChild(arguments: [String]) {
    print("journal crash child: not implemented yet")
}
