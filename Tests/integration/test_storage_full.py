"""A real full filesystem under the real server: the database lives on a small tmpfs that is
filled up. Every item of a batch that cannot be committed gets `storage_error` (503), nothing is
acknowledged that is not stored, /healthz says so, and the server writes again by itself once
space returns. Needs root (to mount the tmpfs), as CI runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fills(tag: str, count: int) -> list[dict]:
    return [{"type": "fill", "execId": f"{tag}-{n}", "account": "ACC1", "instrument": "ZNZ6",
             "side": "buy" if n % 2 else "sell", "qty": 1, "price": "110-16"} for n in range(count)]


def fill_the_disk(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_refuses_whole_batches_acks_only_what_is_stored_and_recovers(server_factory, small_disk):
    server = server_factory(db_path=small_disk / "ladderwire.db")
    status, body = server.post_fills(fills("warm", 20))
    assert status == 200, body
    acked: set[str] = {f"warm-{n}" for n in range(20)}

    filler = fill_the_disk(small_disk)
    # The WAL may still have room it can reuse: post until a commit needs a block it cannot get.
    refused: list[dict] | None = None
    for attempt in range(300):
        batch = fills(f"b{attempt}-{uuid.uuid4().hex[:6]}", 100)
        status, body = server.post_fills(batch)
        if status == 200:
            acked |= {item["execId"] for item in batch}
            continue
        assert status == 503, body
        assert all(r["code"] == "storage_error" for r in body["errors"]), body
        assert len(body["errors"]) == len(batch), "every item of the batch is refused"
        refused = batch
        break
    assert refused is not None, "the disk never filled up"

    status, health = server.get_json("/healthz")
    assert status == 200 and health["status"] == "degraded", health
    assert health["storage"]["state"] == "failing", health
    assert "full" in health["storage"]["error"].lower() or "disk" in health["storage"]["error"].lower(), health

    # Space returns: the same batch goes through, without a restart.
    filler.unlink()
    status, body = server.post_fills(refused)
    assert status == 200, body
    acked |= {item["execId"] for item in refused}
    status, health = server.get_json("/healthz")
    assert health["storage"]["state"] == "ok", health

    # Acknowledged = stored, even after SIGKILL.
    server.kill()
    with sqlite3.connect(server.db_path) as db:
        stored = {row[0] for row in db.execute("SELECT exec_id FROM fills")}
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stored == acked
