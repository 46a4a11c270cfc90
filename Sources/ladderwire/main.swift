import Foundation
import Server

// Before any thread exists: every thread inherits the blocked shutdown signals (see ServerRunner).
let signals = ShutdownSignals.block()
// Every file this process creates (database, WAL, token and secrets files, exports) is private
// to its owner: mode 0600, directories 0700.
umask(0o077)
exit(LadderwireCommand.main(CommandLine.arguments, signals: signals))
