"""Crash safety of the Journal with a real process.

Runs `ladderwire-bench journal-crash-child` against one database, SIGKILLs it at random moments
(seeded), and after every kill opens the real file with Python's sqlite3 (read-only, so the
checker never checkpoints or repairs anything the next child will see) to check that:
- every acknowledged execId is stored exactly once, with the acknowledged seq;
- event seqs are gapless from 1;
- every fill row has its fill event and every fill event its fill row;
- the execIds are exactly C-1..C-max (a batch is all or nothing) and the cursor written in the
  same transaction names C-max;
- PRAGMA integrity_check is ok.

Binary: $LADDERWIRE_BIN/ladderwire-bench (default <repo>/.build/debug). Knobs:
JOURNAL_CRASH_ITERATIONS (default 40), JOURNAL_CRASH_SEED (default 20261125).
"""

import os
import pathlib
import random
import signal
import sqlite3
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("LADDERWIRE_BIN", REPO / ".build" / "debug"))
BENCH = BIN_DIR / "ladderwire-bench"
ITERATIONS = int(os.environ.get("JOURNAL_CRASH_ITERATIONS", "40"))
SEED = int(os.environ.get("JOURNAL_CRASH_SEED", "20261125"))


def parse_acks(output: bytes, acked: dict) -> int:
    """Adds complete `ACK <execId> <seq>` lines to `acked`; a torn last line is ignored."""
    added = 0
    for line in output.decode().splitlines(keepends=True):
        if not line.endswith("\n"):
            continue  # killed mid-write: never a complete acknowledgement
        word, exec_id, seq = line.split()
        assert word == "ACK", line
        assert exec_id not in acked, f"{exec_id} acknowledged twice"
        acked[exec_id] = int(seq)
        added += 1
    return added


def check_database(db: pathlib.Path, acked: dict, iteration: int) -> int:
    if db.with_name(db.name + "-journal").exists():
        # Killed while a brand-new file was being switched to WAL (the only rollback-journal
        # transaction it ever runs): a read-only checker cannot roll that back; the next child
        # does. Nothing can have been acknowledged yet.
        assert acked == {}, f"rollback journal after acknowledgements (kill {iteration})"
        return 0
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        where = f"after kill {iteration}"
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)], where
        if connection.execute("PRAGMA user_version").fetchone()[0] == 0:
            # Killed before the schema transaction committed: an empty file, nothing acknowledged,
            # and the next child must migrate it from scratch.
            assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0, where
            assert acked == {}, f"acknowledged fills but no schema {where}"
            return 0

        seqs = [row[0] for row in connection.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)), f"seq gap {where}"

        fills = dict(connection.execute("SELECT exec_id, seq FROM fills"))
        for exec_id, seq in acked.items():
            assert fills.get(exec_id) == seq, f"acknowledged {exec_id}@{seq} lost or moved {where}"
        once = connection.execute(
            "SELECT exec_id, count(*) FROM events WHERE kind = 'fill' GROUP BY exec_id HAVING count(*) != 1"
        ).fetchall()
        assert once == [], f"fill events stored more than once {where}: {once[:5]}"

        orphan_fills = connection.execute(
            """SELECT count(*) FROM fills f LEFT JOIN events e ON e.seq = f.seq
               WHERE e.seq IS NULL OR e.kind != 'fill' OR e.exec_id != f.exec_id"""
        ).fetchone()[0]
        assert orphan_fills == 0, f"fill rows without their event {where}"
        orphan_events = connection.execute(
            """SELECT count(*) FROM events e LEFT JOIN fills f ON f.seq = e.seq
               WHERE e.kind = 'fill' AND f.exec_id IS NULL"""
        ).fetchone()[0]
        assert orphan_events == 0, f"fill events without their row {where}"

        numbers = sorted(int(exec_id[2:]) for exec_id in fills)
        assert numbers == list(range(1, len(numbers) + 1)), f"partial batch stored {where}"
        if numbers:
            cursor = connection.execute("SELECT value FROM cursors WHERE name = 'crash-child'").fetchone()
            assert cursor == (f"C-{numbers[-1]}",), f"cursor out of step with its batch {where}"
        checkpoint = connection.execute("SELECT max(seq) FROM checkpoints").fetchone()[0]
        assert checkpoint is None or checkpoint <= len(seqs), where
        return len(fills)
    finally:
        connection.close()


def test_sigkill_never_loses_or_tears_an_acknowledged_append(tmp_path):
    if not BENCH.exists():
        pytest.fail(f"{BENCH} not found: run `swift build --product ladderwire-bench` or set LADDERWIRE_BIN")
    rng = random.Random(SEED)
    db = tmp_path / "journal" / "crash.db"
    acked: dict = {}
    stored = 0
    for iteration in range(ITERATIONS):
        child = subprocess.Popen(
            [str(BENCH), "journal-crash-child", "--db", str(db), "--seed", str(rng.randrange(2**31))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.02, 0.35))
        child.send_signal(signal.SIGKILL)
        output, errors = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, f"child exited by itself ({child.returncode}): {errors.decode()}"
        parse_acks(output, acked)
        if db.exists():
            stored = check_database(db, acked, iteration)

    assert len(acked) >= ITERATIONS, "the child hardly ran; the kills tested nothing"
    assert stored >= len(acked)
