#ifndef LADDERWIRE_CFAULTVFS_H
#define LADDERWIRE_CFAULTVFS_H

/// A SQLite VFS for tests, in the style of SQLite's own test VFSes: it passes every call to the
/// default VFS and fails the Nth write, sync, read or lock with the result code asked for. The
/// faults are process-wide, so tests that use it run serialized.

/// Which file operation a fault applies to.
/// LOCK covers file locks and exclusive WAL (shared-memory) locks.
enum lw_fault_op { LW_FAULT_WRITE = 0, LW_FAULT_SYNC = 1, LW_FAULT_READ = 2, LW_FAULT_LOCK = 3, LW_FAULT_OPS = 4 };

/// Registers the VFS under `name` (not as the default). Returns SQLITE_OK or an error code.
int lw_faultvfs_register(const char *name);

/// After `countdown` more successful calls of `op`, the next one fails with `result_code`
/// (an SQLite code such as SQLITE_FULL or SQLITE_IOERR_WRITE), and so do the `repeat - 1` after it
/// (`repeat` 0 or less: every later call, until cleared). countdown < 0 disarms the fault.
void lw_faultvfs_arm(int op, int countdown, int result_code, int repeat);

/// Disarms every fault and zeroes the counters.
void lw_faultvfs_clear(void);

/// How many calls of `op` failed because of an armed fault since the last clear.
int lw_faultvfs_failures(int op);

#endif
