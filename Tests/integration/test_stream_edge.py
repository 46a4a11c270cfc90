"""`ladderwire edge`: subscribers served from the stream a core publishes, with real processes on
loopback: a core, edges, a private redis-server, `websockets` subscribers, and the independent
reducer of the push tests to check what they rebuilt."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from reducer import reduce_stream, snapshot_state
from stream_support import (EdgeServer, comparable, edge_factory, health, redis_factory, wait_edge_at,  # noqa: F401 (fixtures)
                            wait_until)
from test_push_support import Recorder, add_token, check_stream, recv_json, write_config, ws_connect, ws_open

ACCOUNTS = ["ACC1", "ACC2", "ACC3"]
INSTRUMENTS = [("ZNZ6", "110-{:02d}"), ("ZFZ6", "107-{:02d}"), ("ZBZ6", "115-{:02d}")]


def item(n: int) -> dict:
    instrument, price = INSTRUMENTS[n % 3]
    if n % 5 == 4:
        return {"type": "mark", "instrument": instrument, "price": price.format(n % 31)}
    return {"type": "fill", "execId": f"X{n}", "account": ACCOUNTS[n % 3], "instrument": instrument,
            "side": "buy" if n % 2 else "sell", "qty": 1 + n % 4, "price": price.format(n % 31)}


def post(core, first: int, count: int) -> int:
    status, body = core.post_fills([item(n) for n in range(first, first + count)])
    assert status == 200, body
    return body["results"][-1]["seq"]


class Producer:
    """Posts one item to the core every `interval` seconds on its own thread (a steady rate)."""

    def __init__(self, core, start: int, interval: float = 0.005):
        self.core, self.next, self.interval = core, start, interval
        self.last_seq = 0
        self.failures: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status, body = self.core.post_fills([item(self.next)])
                if status == 200:
                    self.last_seq = body["results"][-1]["seq"]
                    self.next += 1
                else:
                    self.failures.append(body)
            except OSError as error:
                self.failures.append(error)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(10)
        return self.last_seq


def truth(core) -> dict:
    status, snapshot = core.get_json("/api/snapshot")
    assert status == 200
    return snapshot


def assert_reduces_to(messages: list[dict], snapshot: dict, name: str) -> None:
    reduced, expected = reduce_stream(messages), snapshot_state(snapshot)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.marks) == \
           (expected.positions, expected.accounts, expected.desk, expected.marks), name
    # A snapshot lists only the newest fills (200 by default); the stream had them all.
    assert {k: reduced.fills.get(k) for k in expected.fills} == expected.fills, name


@pytest.fixture
def cluster(server_factory, redis_factory, edge_factory):
    """A core publishing to a private Redis and three edges loading from it."""
    def make(edges: int = 3, window: int | None = None):
        redis = redis_factory()
        url = redis.url + (f"?window={window}" if window else "")
        core = server_factory(extra_args=["--stream", url])
        post(core, 0, 20)
        started = [edge_factory(url, core.url) for _ in range(edges)]
        for edge in started:
            wait_until(lambda e=edge: health(e)["stream"]["state"] == "following", what="the edge to follow")
        return redis, url, core, started
    return make


def test_every_subscriber_on_every_edge_gets_every_event_once_in_order(cluster):
    redis, url, core, edges = cluster()
    direct = Recorder(ws_open(core, "/ws"), "core")
    recorders = [direct]
    for index, edge in enumerate(edges):
        recorders.append(Recorder(ws_open(edge, "/ws"), f"edge{index}-all"))
        recorders.append(Recorder(ws_open(edge, "/ws?accounts=ACC2"), f"edge{index}-acc2"))
    for recorder in recorders:
        recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    producer = Producer(core, 100)
    time.sleep(1.5)
    last = producer.stop()
    assert not producer.failures and last > 100
    for recorder in recorders:
        recorder.sync_to(last)
        recorder.stop()
    final = truth(core)
    assert final["seq"] == last
    core_messages = [m for m in direct.data() if m.get("seq", 0) > 0]
    for recorder in recorders:
        stream = recorder.data()
        filtered = "acc2" in recorder.name
        start = check_stream(stream, gapless=not filtered, name=recorder.name)
        if not filtered:
            assert_reduces_to(stream, final, recorder.name)
            # The same messages, byte for byte as JSON values, as the core's own subscriber got.
            after = max(start, direct.data()[0]["seq"])
            assert [m for m in stream if m.get("seq", 0) > after and m["type"] != "snapshot"] == \
                   [m for m in core_messages if m["seq"] > after], recorder.name
    # Each edge's snapshot is the core's at the same seq.
    for edge in edges:
        wait_edge_at(edge, last)
        status, snapshot = edge.get_json("/api/snapshot")
        assert status == 200 and comparable(snapshot) == comparable(final)
        status, scoped = edge.get_json("/api/snapshot?account=ACC2")
        status, core_scoped = core.get_json("/api/snapshot?account=ACC2")
        assert comparable(scoped) == comparable(core_scoped)


def test_text_subscribers_of_an_edge_read_the_cores_lines(cluster):
    redis, url, core, edges = cluster(edges=1)
    lines = {}
    for name, server in (("core", core), ("edge", edges[0])):
        lines[name] = ws_open(server, "/ws?format=text")
        lines[name].recv(timeout=10)   # the snapshot
    last = post(core, 100, 12)
    got = {}
    for name, ws in lines.items():
        got[name] = []
        while not any(line.startswith(f"#{last} ") for line in got[name]):
            got[name] += ws.recv(timeout=10).split("\n")
        ws.close()
    assert got["edge"] == got["core"]


def test_subscribers_of_a_killed_edge_resume_on_another_without_gap_or_duplicate(cluster):
    redis, url, core, edges = cluster()
    victim_edge, other = edges[0], edges[1]
    victims = [Recorder(ws_open(victim_edge, "/ws"), f"victim{i}") for i in range(3)]
    for recorder in victims:
        recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    producer = Producer(core, 100)
    wait_until(lambda: producer.last_seq > 150, what="the producer to get going")
    victim_edge.kill()
    for recorder in victims:
        recorder.stop(expect_clean=False)
    resumed = []
    for index, recorder in enumerate(victims):
        had = recorder.data()
        since, epoch = max(m.get("seq", 0) for m in had), had[0]["epoch"]
        resumed.append((had, Recorder(ws_open(other if index % 2 else edges[2], f"/ws?since={since}&epoch={epoch}"), f"resumed{index}")))
    time.sleep(0.5)
    last = producer.stop()
    final = truth(core)
    for had, recorder in resumed:
        recorder.sync_to(last)
        recorder.stop()
        stream = recorder.data()
        assert stream[0]["type"] == "resumed", stream[0]
        check_stream(stream, gapless=True, name=recorder.name, after_resume=True)
        assert stream[0]["since"] == max(m.get("seq", 0) for m in had)
        assert_reduces_to(had + stream, final, recorder.name)


def test_redis_outage_edges_report_degraded_then_catch_up_with_no_gap(cluster):
    redis, url, core, edges = cluster(edges=2)
    watchers = [Recorder(ws_open(edge, "/ws"), f"watcher{i}") for i, edge in enumerate(edges)]
    for watcher in watchers:
        watcher.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    before = post(core, 100, 10)
    for edge in edges:
        wait_edge_at(edge, before)
    redis.stop()
    during = post(core, 110, 25)   # the core keeps committing and acknowledging
    assert during == before + 25
    for index, (edge, watcher) in enumerate(zip(edges, watchers)):
        degraded = wait_until(lambda e=edge: (h := health(e))["status"] == "degraded" and h, what="degraded health")
        assert degraded["stream"]["connected"] is False and "unreachable" in degraded["stream"]["error"]
        watcher.wait_for(lambda m: m["type"] == "status" and m.get("monitor") == "upstream" and m["state"] == "degraded",
                         what="an upstream degraded status delta")
        # Still serving: snapshots at the last seq it has.
        status, snapshot = edge.get_json("/api/snapshot")
        assert status == 200 and snapshot["seq"] == before
    redis.start()
    after = post(core, 135, 5)
    for edge, watcher in zip(edges, watchers):
        wait_edge_at(edge, after)
        watcher.wait_for(lambda m: m["type"] == "status" and m.get("monitor") == "upstream" and m["state"] == "running",
                         what="upstream running again")
        watcher.sync_to(after)
        watcher.stop()
        check_stream(watcher.data(), gapless=True, name=watcher.name)
        assert_reduces_to(watcher.data(), truth(core), watcher.name)
        # (Just after Redis returns, the core's heartbeat key may still be missing for a moment.)
        wait_until(lambda e=edge: health(e)["status"] == "ok", what="the edge to be ok again")


def test_core_killed_edges_keep_serving_say_so_and_continue_from_the_next_seq(cluster):
    redis, url, core, edges = cluster(edges=2)
    edge = edges[0]
    watcher = Recorder(ws_open(edge, "/ws"), "watcher")
    epoch = watcher.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")["epoch"]
    last = post(core, 100, 10)
    wait_edge_at(edge, last)
    core.kill()
    silent = wait_until(lambda: (h := health(edge))["stream"]["coreAlive"] is False and h, what="the edge to notice the core is gone")
    assert silent["status"] == "degraded" and f"serving seq {last}" in silent["stream"]["error"]
    watcher.wait_for(lambda m: m["type"] == "status" and m.get("monitor") == "upstream" and m["state"] == "degraded",
                     what="a status delta saying the core is silent")
    # Snapshots and resumes at the last seq, on both edges.
    for server in edges:
        status, snapshot = server.get_json("/api/snapshot")
        assert status == 200 and snapshot["seq"] == last
        with ws_connect(server, f"/ws?since={last - 5}&epoch={epoch}") as ws:
            assert recv_json(ws) == {"type": "resumed", "since": last - 5, "seq": last, "epoch": epoch}
    status, body = edge.post_fills([item(1)])
    assert status == 421
    core.start()
    after = post(core, 110, 7)
    assert after == last + 7
    wait_edge_at(edge, after)
    watcher.sync_to(after)
    watcher.stop()
    stream = watcher.data()
    check_stream(stream, gapless=True, name="watcher")
    assert [m["seq"] for m in stream if m.get("seq", 0) > last][0] == last + 1
    assert_reduces_to(stream, truth(core), "watcher")
    wait_until(lambda: health(edge)["status"] == "ok", what="the edge to hear the core again")


def test_a_resume_older_than_the_window_gets_a_resync_snapshot(server_factory, redis_factory, edge_factory):
    redis = redis_factory()
    url = redis.url + "?window=100"
    core = server_factory(extra_args=["--stream", url])
    with ws_connect(core, "/ws") as ws:
        epoch = recv_json(ws)["epoch"]
    for start in range(0, 300, 50):
        last = post(core, start, 50)
    wait_until(lambda: health(core)["stream"]["publishedSeq"] == last, what="publishing")
    edge = edge_factory(url, core.url)
    wait_edge_at(edge, last)
    resumable = health(edge)["stream"]["resumableAfter"]
    assert 0 < resumable <= last - 100, "the edge read the stream window for resumes"
    with ws_connect(edge, f"/ws?since=5&epoch={epoch}") as ws:
        first = recv_json(ws)
        assert first["type"] == "snapshot" and first["resync"] is True and first["seq"] == last
    with ws_connect(edge, f"/ws?since={resumable}&epoch={epoch}") as ws:
        first = recv_json(ws)
        assert first == {"type": "resumed", "since": resumable, "seq": last, "epoch": epoch}
        seqs = []
        while not seqs or seqs[-1] < last:
            seqs.append(recv_json(ws)["seq"])
        assert sorted(set(seqs)) == list(range(resumable + 1, last + 1))
    with ws_connect(edge, f"/ws?since={last}&epoch=another") as ws:
        first = recv_json(ws)
        assert first["type"] == "snapshot" and first["resync"] is True


@pytest.mark.parametrize("bad", ["malformed", "wrong_epoch", "gap"])
def test_bad_upstream_input_is_refused_reported_and_resynced(cluster, bad):
    redis, url, core, edges = cluster(edges=1)
    edge = edges[0]
    watcher = Recorder(ws_open(edge, "/ws"), "watcher")
    watcher.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    top = post(core, 100, 5)
    wait_edge_at(edge, top)
    epoch = health(core)["epoch"]
    messages = redis.entries()[-1][1]["messages"]
    client = redis.client()
    if bad == "malformed":
        client.command("XADD", "ladderwire:events", f"{top + 1}-0", "junk", "1")
    elif bad == "wrong_epoch":
        client.command("XADD", "ladderwire:events", f"{top + 1}-0", "epoch", "0000000000000000", "messages", messages)
    else:
        client.command("XADD", "ladderwire:events", f"{top + 3}-0", "epoch", epoch, "messages", messages)
    client.close()
    wait_until(lambda: health(edge)["stream"]["refused"] >= 1, what="the refusal")
    wait_until(lambda: "upstream input refused" in edge.stdout_text(), what="the refusal in the log")
    assert edge.metrics()["ladderwire_edge_refused_entries_total"] >= 1
    # The core replaces what it did not write, the edge loads again, and its subscribers resync.
    after = post(core, 105, 5)
    wait_edge_at(edge, after, timeout=30)
    watcher.wait_for(lambda m: m["type"] == "snapshot" and m.get("resync") is True, what="a resync snapshot")
    later = post(core, 110, 5)
    wait_edge_at(edge, later)
    watcher.sync_to(later)
    watcher.stop()
    stream = watcher.data()
    # The edge may load more than once while the core replaces the stream: from the last resync on,
    # the stream is whole.
    last_resync = max(i for i, m in enumerate(stream) if m["type"] == "snapshot" and m.get("resync") is True)
    tail = stream[last_resync:]
    check_stream(tail, gapless=True, name="after resync")
    assert_reduces_to(tail, truth(core), "after resync")
    status, snapshot = edge.get_json("/api/snapshot")
    assert comparable(snapshot) == comparable(truth(core))


def test_an_edge_refuses_writes_and_names_the_core(cluster):
    redis, url, core, edges = cluster(edges=1)
    edge = edges[0]
    before = health(core)["seq"]
    status, body = edge.post_fills([item(1)])
    assert status == 421 and body["error"] == "not_the_core" and body["core"] == core.url and core.url in body["message"]
    status, body = edge.get_json("/api/fills?account=ACC1")
    assert status == 421 and body["core"] == core.url
    status, headers, data = edge.request("GET", "/feed", headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 421 and core.url in data.decode()
    assert health(core)["seq"] == before, "nothing was committed"


def test_an_edge_without_core_rebuilds_the_state_from_a_stream_that_starts_at_one(server_factory, redis_factory, edge_factory):
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", redis.url])
    last = post(core, 0, 30)
    edge = edge_factory(redis.url, None)
    wait_edge_at(edge, last)
    status, snapshot = edge.get_json("/api/snapshot")
    assert comparable(snapshot) == comparable(truth(core))
    assert health(edge)["stream"]["resumableAfter"] == 0


def test_edges_enforce_the_same_tokens_and_scopes_and_load_with_a_core_token(server_factory, redis_factory, edge_factory, tmp_path):
    tokens = tmp_path / "tokens.json"
    producer = add_token(tokens, "feeder", "producer")
    screen = add_token(tokens, "edge-loader", "viewer")
    acc1 = add_token(tokens, "acc1-trader", "viewer", accounts=["ACC1"])
    config = write_config(tmp_path, tokens)
    redis = redis_factory()
    core = server_factory(extra_args=["--stream", redis.url, "--config", str(config)])
    status, body = core.post_fills([item(n) for n in range(0, 12)], token=producer)
    assert status == 200
    last = body["results"][-1]["seq"]
    edge = EdgeServer(tmp_path / "edge", redis.url, core.url, ["--config", str(config)], env={"LADDERWIRE_CORE_TOKEN": screen})
    (tmp_path / "edge").mkdir()
    try:
        edge.start()
        wait_edge_at(edge, last)
        # No token: refused like on the core; a scoped viewer sees only its account.
        status, _ = edge.get_json("/api/snapshot")
        assert status == 401
        status, scoped = edge.get_json("/api/snapshot", token=acc1)
        status_core, scoped_core = core.get_json("/api/snapshot", token=acc1)
        assert status == status_core == 200 and comparable(scoped) == comparable(scoped_core)
        assert {p["account"] for p in scoped["positions"]} == {"ACC1"} and scoped["desk"] is None
        with ws_connect(edge, "/ws", token=acc1) as ws:
            first = recv_json(ws)
            assert first["type"] == "snapshot" and {a["account"] for a in first["accounts"]} == {"ACC1"}
            status, body = core.post_fills([item(n) for n in range(12, 18)], token=producer)
            later = body["results"][-1]["seq"]
            seen = []
            synced = False
            while not synced:
                ws.send(json.dumps({"type": "ping", "id": len(seen)}))
                while True:
                    message = recv_json(ws)
                    if message["type"] == "pong":
                        synced = message["seq"] >= later
                        break
                    seen.append(message)
            assert any(m["type"] == "fill" for m in seen), "the scoped viewer got its fills through the edge"
            for message in seen:
                assert message.get("scope") != "desk", message
                if "account" in message:
                    assert message["account"] == "ACC1", message
    finally:
        edge._terminate(signal.SIGTERM, timeout=3)
