"""`serve --stream redis://…`: the core publishes every committed event to a Redis Stream, in
seq order, entry ID `<seq>-0`, with the journal as its outbox. Real redis-server processes, real
ladderwire processes; Redis is read with the tests' own RESP client."""

from __future__ import annotations

import json
import os
import signal

from conftest import run_cli
from stream_support import redis_factory, wait_until  # noqa: F401  (fixture)
from test_push_support import journal_rows, ws_connect


def fill(n: int, account: str = "ACC1", qty: int = 1) -> dict:
    return {"type": "fill", "execId": f"E{n}", "account": account, "instrument": "ZNZ6",
            "side": "buy" if n % 2 else "sell", "qty": qty, "price": "110-08"}


def post_ok(core, items: list[dict]) -> list[int]:
    status, body = core.post_fills(items)
    assert status == 200, body
    return [result["seq"] for result in body["results"]]


def health(core) -> dict:
    status, body = core.get_json("/healthz")
    assert status == 200
    return body


def wait_published(core, redis, seq: int, key: str = "ladderwire:events") -> list[tuple[int, dict]]:
    wait_until(lambda: health(core)["stream"]["publishedSeq"] >= seq, what=f"the core to publish seq {seq}")
    return redis.entries(key)


def journaled_messages(core, epoch: str) -> dict[int, str]:
    """Each committed event's messages, as the core replays them from its journal to a subscriber
    resuming from seq 0 (one frame per message, the bytes a live subscriber got), joined into the
    JSON array a stream entry carries."""
    by_seq: dict[int, list[str]] = {}
    with ws_connect(core, f"/ws?since=0&epoch={epoch}") as ws:
        resumed = json.loads(ws.recv(timeout=10))
        assert resumed["type"] == "resumed", resumed
        last = resumed["seq"]
        while True:
            try:
                # The last event's messages come in one piece: a quiet second after them ends the replay.
                raw = ws.recv(timeout=1 if last in by_seq else 10)
            except TimeoutError:
                assert last in by_seq, f"the replay stopped before seq {last}"
                break
            message = json.loads(raw)
            if message["type"] in ("heartbeat", "status") or message["seq"] > last:
                continue
            by_seq.setdefault(message["seq"], []).append(raw)
    return {seq: "[" + ",".join(raws) + "]" for seq, raws in by_seq.items()}


def assert_entries_match_journal(core, entries: list[tuple[int, dict]], epoch: str) -> None:
    """Each entry carries the journaled messages of its event byte for byte, and its epoch."""
    rows = journaled_messages(core, epoch)
    for seq, fields in entries:
        assert fields["epoch"].decode() == epoch
        assert fields["messages"].decode() == rows[seq], f"entry {seq} differs from the journal"
        for message in json.loads(fields["messages"]):
            assert message["seq"] == seq


def test_core_publishes_every_committed_event_in_seq_order(server_factory, redis_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", redis.url])
    seqs = []
    for n in range(1, 21):
        seqs += post_ok(core, [fill(n), {"type": "mark", "instrument": "ZNZ6", "price": f"110-{n % 30:02d}"}])
    entries = wait_published(core, redis, seqs[-1])
    assert [seq for seq, _ in entries] == list(range(1, seqs[-1] + 1))
    epoch = health(core)["epoch"]
    assert_entries_match_journal(core, entries, epoch)
    stream = health(core)["stream"]
    assert stream["state"] == "publishing" and stream["lag"] == 0 and stream["error"] is None
    # The outbox cursor in the journal records what Redis acknowledged.
    wait_until(lambda: journal_rows(core.db_path, "SELECT value FROM cursors WHERE name = 'stream:ladderwire:events'")
               == [(str(seqs[-1]),)], what="the outbox cursor")
    metrics = core.metrics()
    assert metrics["ladderwire_stream_published_seq"] == seqs[-1]
    assert metrics['ladderwire_stream_publish_state{state="publishing"}'] == 1


def test_core_keeps_acknowledging_while_redis_is_down_then_fills_the_gap(server_factory, redis_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", redis.url])
    first = post_ok(core, [fill(n) for n in range(1, 6)])
    wait_published(core, redis, first[-1])
    redis.stop()
    # The journal is the truth: producers are acknowledged with Redis away.
    during = []
    for n in range(6, 16):
        during += post_ok(core, [fill(n)])
    assert during == list(range(6, 16))
    down = wait_until(lambda: (h := health(core))["stream"]["state"] == "down" and h, what="the publisher to report down")
    assert down["status"] == "degraded"
    assert down["stream"]["publishedSeq"] == 5 and down["stream"]["lag"] == 10
    assert down["stream"]["error"]
    assert core.metrics()['ladderwire_stream_publish_state{state="down"}'] == 1
    redis.start()
    entries = wait_published(core, redis, 15)
    assert [seq for seq, _ in entries] == list(range(1, 16)), "the stream has a gap or a duplicate"
    assert_entries_match_journal(core, entries, health(core)["epoch"])
    assert health(core)["status"] == "ok"
    # Events committed after the outage go straight out again.
    later = post_ok(core, [fill(16)])
    assert [seq for seq, _ in wait_published(core, redis, later[-1])] == list(range(1, 17))


def test_core_killed_mid_stream_continues_from_the_stream_top_after_restart(server_factory, redis_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", redis.url])
    for n in range(1, 31):
        post_ok(core, [fill(n)])
    core.kill()
    core.start()
    post_ok(core, [fill(n) for n in range(31, 41)])
    entries = wait_published(core, redis, 40)
    assert [seq for seq, _ in entries] == list(range(1, 41))
    assert_entries_match_journal(core, entries, health(core)["epoch"])


def test_a_redis_that_lost_everything_is_refilled_with_the_window(server_factory, redis_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", f"{redis.url}?window=100"])
    for start in range(1, 251, 50):
        post_ok(core, [fill(n) for n in range(start, start + 50)])
    entries = wait_published(core, redis, 250)
    # MAXLEN ~ trims whole nodes: at least the window is kept, and the stream ends at the last seq.
    seqs = [seq for seq, _ in entries]
    assert seqs == list(range(seqs[0], 251)) and 100 <= len(seqs) < 250
    redis.kill()
    for path in redis.directory.iterdir():   # the engine's data is gone
        if path.is_dir():
            for inner in path.iterdir():
                inner.unlink()
            path.rmdir()
        elif path.name != "redis.log":
            path.unlink()
    redis.start()
    wait_until(lambda: len(redis.entries()) >= 100, what="the window to be refilled")
    seqs = [seq for seq, _ in redis.entries()]
    assert seqs == list(range(151, 251)), seqs[:5]
    assert core.metrics()["ladderwire_stream_republished_total"] >= 100
    assert "is empty although seq 250 was published" in core.stdout_text() + core.stderr_text()


def test_a_stream_written_by_another_journal_is_replaced(server_factory, redis_factory):
    redis = redis_factory()
    old = server_factory(extra_args=["--stream", redis.url])
    post_ok(old, [fill(n) for n in range(1, 6)])
    wait_published(old, redis, 5)
    old.stop()
    new = server_factory(extra_args=["--stream", redis.url])   # a new database: another epoch
    post_ok(new, [fill(100), fill(101)])
    wait_until(lambda: [seq for seq, _ in redis.entries()] == [1, 2], what="the stream to be replaced")
    assert {fields["epoch"].decode() for _, fields in redis.entries()} == {health(new)["epoch"]}
    assert "does not belong to this journal" in new.stdout_text() + new.stderr_text()


def test_bad_stream_addresses_are_one_line_errors():
    for url, why in [("http://127.0.0.1:6379", "expected redis://"), ("redis://127.0.0.1:notaport", "bad port"),
                     ("redis://127.0.0.1:6379?window=5", "window"), ("redis://127.0.0.1:6379?colour=red", "unknown option"),
                     ("redis://:secret@127.0.0.1:0", "bad port")]:
        result = run_cli("serve", "--sources", "none", "--port", "0", "--stream", url)
        assert result.returncode == 2, (url, result.stderr)
        assert why in result.stderr and result.stderr.count("\n") == 1, (url, result.stderr)
        assert "secret" not in result.stderr


def test_a_password_is_sent_with_auth_and_never_logged(server_factory, redis_factory):
    redis = redis_factory()
    admin = redis.client()
    admin.command("CONFIG", "SET", "requirepass", "s3cret")
    admin.close()
    wrong = server_factory(extra_args=["--stream", f"redis://:nope@127.0.0.1:{redis.port}"])
    wait_until(lambda: "AUTH failed" in (health(wrong)["stream"]["error"] or ""), what="the AUTH refusal")
    assert health(wrong)["stream"]["state"] == "down"
    wrong.stop()
    core = server_factory(extra_args=["--stream", f"redis://:s3cret@127.0.0.1:{redis.port}"])
    seqs = post_ok(core, [fill(1), fill(2)])
    wait_until(lambda: health(core)["stream"]["publishedSeq"] == seqs[-1], what="publishing with a password")
    logs = core.stdout_text() + core.stderr_text() + wrong.stdout_text() + wrong.stderr_text()
    assert "s3cret" not in logs and "nope" not in logs


def test_a_hung_redis_is_detected_by_the_reply_timeout_and_caught_up_after(server_factory, redis_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", f"{redis.url}?timeout=2"])
    post_ok(core, [fill(n) for n in range(1, 4)])
    wait_published(core, redis, 3)
    os.kill(redis.proc.pid, signal.SIGSTOP)   # accepts nothing, answers nothing, closes nothing
    try:
        post_ok(core, [fill(n) for n in range(4, 8)])
        hung = wait_until(lambda: (h := health(core))["stream"]["state"] == "down" and h, what="the reply timeout")
        assert "no reply from Redis within 2 s" in hung["stream"]["error"] or "cannot connect" in hung["stream"]["error"]
        assert hung["seq"] == 7
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    entries = wait_published(core, redis, 7)
    assert [seq for seq, _ in entries] == list(range(1, 8))
    assert "no reply from Redis within 2 s" in core.stdout_text()
