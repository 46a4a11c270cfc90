import Foundation
import Server

// Before any thread exists: every thread inherits the blocked shutdown signals (see ServerRunner).
let signals = ShutdownSignals.block()
exit(LadderwireCommand.main(CommandLine.arguments, signals: signals))
