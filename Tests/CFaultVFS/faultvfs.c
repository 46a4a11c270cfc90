#include "CFaultVFS.h"
#include <sqlite3.h>
#include <string.h>
#include <stdatomic.h>

// A wrapping VFS: every file opened through it carries the real file behind it, and the four
// methods that touch the disk consult the armed faults first.

typedef struct {
    sqlite3_file base;       // must be first: SQLite sees this
    sqlite3_file *real;      // the default VFS's file, allocated right after this struct
} FaultFile;

typedef struct {
    _Atomic int countdown;   // calls left before failing; < 0: disarmed
    _Atomic int remaining;   // failures left once triggered; <= 0 with `forever`: unbounded
    _Atomic int forever;
    _Atomic int result;
    _Atomic int failures;
} Fault;

static Fault faults[LW_FAULT_OPS];
static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;
static sqlite3_io_methods fault_methods;

void lw_faultvfs_arm(int op, int countdown, int result_code, int repeat) {
    if (op < 0 || op >= LW_FAULT_OPS) return;
    atomic_store(&faults[op].result, result_code);
    atomic_store(&faults[op].remaining, repeat > 0 ? repeat : 0);
    atomic_store(&faults[op].forever, repeat <= 0);
    atomic_store(&faults[op].countdown, countdown);
}

void lw_faultvfs_clear(void) {
    for (int op = 0; op < LW_FAULT_OPS; op++) {
        atomic_store(&faults[op].countdown, -1);
        atomic_store(&faults[op].failures, 0);
    }
}

int lw_faultvfs_failures(int op) {
    if (op < 0 || op >= LW_FAULT_OPS) return 0;
    return atomic_load(&faults[op].failures);
}

/// SQLITE_OK, or the armed result code when this call is the one to fail.
static int check(int op) {
    Fault *fault = &faults[op];
    int left = atomic_load(&fault->countdown);
    if (left < 0) return SQLITE_OK;
    if (left > 0) {
        atomic_fetch_sub(&fault->countdown, 1);
        return SQLITE_OK;
    }
    atomic_fetch_add(&fault->failures, 1);
    int result = atomic_load(&fault->result);
    if (!atomic_load(&fault->forever) && atomic_fetch_sub(&fault->remaining, 1) <= 1) {
        atomic_store(&fault->countdown, -1);
    }
    return result;
}

static int fault_close(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
}
static int fault_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    int rc = check(LW_FAULT_READ);
    if (rc != SQLITE_OK) return rc;
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}
static int fault_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    int rc = check(LW_FAULT_WRITE);
    if (rc != SQLITE_OK) return rc;
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
}
static int fault_truncate(sqlite3_file *file, sqlite3_int64 size) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xTruncate(f->real, size);
}
static int fault_sync(sqlite3_file *file, int flags) {
    int rc = check(LW_FAULT_SYNC);
    if (rc != SQLITE_OK) return rc;
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xSync(f->real, flags);
}
static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}
static int fault_lock(sqlite3_file *file, int level) {
    int rc = check(LW_FAULT_LOCK);
    if (rc != SQLITE_OK) return rc;
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xLock(f->real, level);
}
static int fault_unlock(sqlite3_file *file, int level) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}
static int fault_check_reserved(sqlite3_file *file, int *out) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}
static int fault_file_control(sqlite3_file *file, int op, void *arg) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}
static int fault_sector_size(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}
static int fault_device_characteristics(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}
static int fault_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}
static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    // In WAL mode the write lock is a shared-memory lock: taking one exclusively can be refused
    // too (never an unlock, which must always succeed).
    if ((flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE)) {
        int rc = check(LW_FAULT_LOCK);
        if (rc != SQLITE_OK) return rc;
    }
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
static void fault_shm_barrier(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}
static int fault_shm_unmap(sqlite3_file *file, int delete_flag) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}
static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    FaultFile *f = (FaultFile *)file;
    // No memory-mapped reads: every read goes through fault_read, where faults apply.
    (void)f; (void)offset; (void)amount;
    *out = 0;
    return SQLITE_OK;
}
static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page) {
    (void)file; (void)offset; (void)page;
    return SQLITE_OK;
}

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    FaultFile *f = (FaultFile *)file;
    f->real = (sqlite3_file *)&f[1];
    memset(f->real, 0, (size_t)real_vfs->szOsFile);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    f->base.pMethods = f->real->pMethods ? &fault_methods : 0;
    return rc;
}
static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}
static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}
static void *fault_dl_open(sqlite3_vfs *vfs, const char *name) { (void)vfs; return real_vfs->xDlOpen(real_vfs, name); }
static void fault_dl_error(sqlite3_vfs *vfs, int n, char *out) { (void)vfs; real_vfs->xDlError(real_vfs, n, out); }
static void (*fault_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}
static void fault_dl_close(sqlite3_vfs *vfs, void *handle) { (void)vfs; real_vfs->xDlClose(real_vfs, handle); }
static int fault_randomness(sqlite3_vfs *vfs, int n, char *out) { (void)vfs; return real_vfs->xRandomness(real_vfs, n, out); }
static int fault_sleep(sqlite3_vfs *vfs, int micros) { (void)vfs; return real_vfs->xSleep(real_vfs, micros); }
static int fault_current_time(sqlite3_vfs *vfs, double *out) { (void)vfs; return real_vfs->xCurrentTime(real_vfs, out); }
static int fault_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}
static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static char vfs_name[64];

int lw_faultvfs_register(const char *name) {
    if (real_vfs) return SQLITE_OK;
    strncpy(vfs_name, name, sizeof vfs_name - 1);
    real_vfs = sqlite3_vfs_find(0);
    if (!real_vfs) return SQLITE_ERROR;
    lw_faultvfs_clear();

    fault_methods.iVersion = 3;
    fault_methods.xClose = fault_close;
    fault_methods.xRead = fault_read;
    fault_methods.xWrite = fault_write;
    fault_methods.xTruncate = fault_truncate;
    fault_methods.xSync = fault_sync;
    fault_methods.xFileSize = fault_file_size;
    fault_methods.xLock = fault_lock;
    fault_methods.xUnlock = fault_unlock;
    fault_methods.xCheckReservedLock = fault_check_reserved;
    fault_methods.xFileControl = fault_file_control;
    fault_methods.xSectorSize = fault_sector_size;
    fault_methods.xDeviceCharacteristics = fault_device_characteristics;
    fault_methods.xShmMap = fault_shm_map;
    fault_methods.xShmLock = fault_shm_lock;
    fault_methods.xShmBarrier = fault_shm_barrier;
    fault_methods.xShmUnmap = fault_shm_unmap;
    fault_methods.xFetch = fault_fetch;
    fault_methods.xUnfetch = fault_unfetch;

    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = vfs_name;
    fault_vfs.xOpen = fault_open;
    fault_vfs.xDelete = fault_delete;
    fault_vfs.xAccess = fault_access;
    fault_vfs.xFullPathname = fault_full_pathname;
    fault_vfs.xDlOpen = fault_dl_open;
    fault_vfs.xDlError = fault_dl_error;
    fault_vfs.xDlSym = fault_dl_sym;
    fault_vfs.xDlClose = fault_dl_close;
    fault_vfs.xRandomness = fault_randomness;
    fault_vfs.xSleep = fault_sleep;
    fault_vfs.xCurrentTime = fault_current_time;
    fault_vfs.xGetLastError = fault_get_last_error;
    fault_vfs.xCurrentTimeInt64 = fault_current_time_int64;
    return sqlite3_vfs_register(&fault_vfs, 0);
}
