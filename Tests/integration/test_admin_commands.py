"""The admin command line against a running server: `mark` (a pasted price in any format),
`day-roll` (positions carried to the next day's SOD, realized reset), `record` (a live session
written as a feed file the replay source accepts)."""
import json

from conftest import run_cli

ZN_DAY = [
    {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110'160"},
    {"type": "fill", "execId": "F1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110'185"},
    {"type": "fill", "execId": "F2", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110'200"},
    {"type": "fill", "execId": "F3", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 4, "price": "110'215"},
]


def position(server, account="ACC1", instrument="ZNZ6"):
    status, snapshot = server.get_json("/api/snapshot")
    assert status == 200
    return next(p for p in snapshot["positions"] if p["account"] == account and p["instrument"] == instrument)


def test_mark_accepts_a_pasted_32nds_price_and_refuses_an_off_grid_one(server):
    status, body = server.post_fills(ZN_DAY)
    assert status == 200, body
    done = run_cli("mark", "ZNZ6", "110-08+", "--server", server.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accepted"] is True
    line = position(server)
    assert line["markDecimal"] == "110.265625" and line["markSource"] == "mark"
    refused = run_cli("mark", "ZNZ6", "110-08.25", "--server", server.url)
    assert refused.returncode != 0
    assert "price_off_grid" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert position(server)["markDecimal"] == "110.265625", "a refused mark changes nothing"


def test_day_roll_carries_positions_to_sod_and_restarts_the_day(server):
    status, body = server.post_fills(ZN_DAY + [{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}])
    assert status == 200, body
    before = position(server)
    assert before["realized"] != "0" and before["net"] == 3
    done = run_cli("day-roll", "--server", server.url)
    assert done.returncode == 0, done.stderr
    seq = json.loads(done.stdout)["seq"]
    after = position(server)
    assert after["sodQty"] == before["net"] == after["net"]
    assert after["realized"] == "0" and after["bought"] == 0 and after["sold"] == 0
    status, snapshot = server.get_json("/api/snapshot")
    assert snapshot["seq"] == seq
    # The roll is a journaled event: it survives a restart.
    server.stop()
    server.start()
    assert position(server)["sodQty"] == before["net"]


def test_record_writes_a_feed_the_replay_source_accepts(server_factory, tmp_path):
    live = server_factory()
    status, body = live.post_fills(ZN_DAY + [{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}])
    assert status == 200, body
    out = tmp_path / "recorded.ndjson"
    # Snapshot (as SOD and mark lines), then two live events, then stop.
    import threading
    def trade_later():
        import time
        time.sleep(1.0)
        live.post_fills([{"type": "fill", "execId": "F9", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 1, "price": "110-17"},
                         {"type": "mark", "instrument": "ZNZ6", "price": "110-17"}])
    threading.Thread(target=trade_later, daemon=True).start()
    done = run_cli("record", "--url", live.ws_url, "--out", str(out), "--count", "2", timeout=30)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(l) for l in out.read_text().splitlines() if l and not l.startswith("#")]
    kinds = [l["type"] for l in lines]
    assert kinds[0] == "sod" and "fill" in kinds and "mark" in kinds, kinds
    assert all("at" in l for l in lines)
    # Replay it into a fresh server: the recorded position comes out the same.
    config = {"sim": {"sources": {"enabled": ["replay"], "replay": {"file": str(out), "speed": 0, "loop": False, "keepTimes": True}}}}
    replayed = server_factory(sources=None, config=config)
    import time
    deadline = time.time() + 15
    while time.time() < deadline:
        status, snapshot = replayed.get_json("/api/snapshot")
        if any(p["instrument"] == "ZNZ6" and p["net"] == position(live)["net"] for p in snapshot["positions"]):
            break
        time.sleep(0.2)
    assert position(replayed)["net"] == position(live)["net"]
