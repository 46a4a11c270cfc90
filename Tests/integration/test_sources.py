"""The replay source end to end: a recorded feed replays into the real server, survives a SIGKILL
mid-feed, and resumes from its journaled cursor with no duplicate and no lost fill."""
import json
import sqlite3
import time

import pytest


def write_feed(path, fills: int):
    lines = [{"at": "2026-11-24T14:00:00.000Z", "type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"}]
    for i in range(fills):
        at = f"2026-11-24T14:00:{i // 100:02d}.{(i % 100) * 10:03d}Z"
        ticks = 1024 + (i * 7) % 64   # ZN half-32nds (1/64 point) around 110
        price = f"{110 + (ticks - 1024) / 64:.6f}"
        lines.append({"at": at, "type": "fill", "execId": f"R{i:05d}", "account": "ACC1" if i % 3 else "ACC2",
                      "instrument": "ZNZ6", "side": "buy" if i % 2 else "sell", "qty": 1 + i % 4, "price": price})
        if i % 25 == 0:
            lines.append({"at": at, "type": "mark", "instrument": "ZNZ6", "price": price})
    path.write_text("# test feed\n" + "\n".join(json.dumps(line) for line in lines) + "\n")


def stored_exec_ids(db_path):
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT exec_id FROM fills ORDER BY seq")]


def wait_for(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_replay_survives_sigkill_mid_feed_without_duplicates_or_losses(server_factory, tmp_path):
    fills = 600
    feed = tmp_path / "feed.ndjson"
    write_feed(feed, fills)
    # Recorded pace x2: the 6-second feed takes about 3 s, long enough to kill it part way.
    config = {"sim": {"sources": {"enabled": ["replay"], "replay": {"file": str(feed), "speed": 2, "loop": False, "keepTimes": True}}}}
    server = server_factory(sources=None, config=config)
    assert wait_for(lambda: len(stored_exec_ids(server.db_path)) >= 50, timeout=20), "replay did not start"
    server.kill()
    before = stored_exec_ids(server.db_path)
    assert 0 < len(before) < fills, f"the kill should land mid-feed, {len(before)} of {fills} stored"

    server.start()
    assert wait_for(lambda: len(stored_exec_ids(server.db_path)) >= fills, timeout=30), \
        f"replay did not finish after restart: {len(stored_exec_ids(server.db_path))} of {fills}"
    time.sleep(0.5)
    after = stored_exec_ids(server.db_path)
    assert len(after) == fills
    assert len(set(after)) == fills
    assert set(after) == {f"R{i:05d}" for i in range(fills)}
    assert after[:len(before)] == before, "what was stored before the kill is unchanged"
    status, health = server.get_json("/healthz")
    assert status == 200
    assert [m["name"] for m in health["monitors"]] == ["replay"]
    # The ledger rebuilt from the journal agrees with a snapshot of the same data.
    status, snapshot = server.get_json("/api/snapshot")
    assert status == 200
    net = sum(p["net"] for p in snapshot["positions"])
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        signed = db.execute("SELECT SUM(CASE side WHEN 'buy' THEN qty ELSE -qty END) FROM fills WHERE status='live'").fetchone()[0]
    assert net == signed + 2   # + the SOD position


def test_a_broken_feed_file_degrades_the_monitor_but_not_the_server(server_factory, tmp_path):
    config = {"sim": {"sources": {"enabled": ["replay"], "replay": {"file": str(tmp_path / "missing.ndjson"), "speed": 0, "loop": False}}}}
    server = server_factory(sources=None, config=config)
    assert wait_for(lambda: any(m["state"] == "degraded" for m in server.get_json("/healthz")[1]["monitors"]), timeout=10)
    status, health = server.get_json("/healthz")
    assert health["status"] == "degraded"
    monitor = health["monitors"][0]
    assert "missing.ndjson" in (monitor["lastError"] or "")
    # Producers still work while the source is down.
    status, body = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}])
    assert status == 200, body
