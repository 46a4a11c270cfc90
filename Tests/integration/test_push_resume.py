"""Resume with `?since=S&epoch=E`: after a dropped connection and after a server restart the
subscriber gets `resumed`, exactly the messages it missed, then live ones; a resume that cannot
be served gets a `resync` snapshot; a `subscribe` message gets a fresh, filtered snapshot."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from reducer import reduce_stream, snapshot_state
from test_push_support import Recorder, check_stream, recv_json, ws_connect, ws_open

ACCOUNTS = ["ACC1", "ACC2", "ACC3"]
PRICES = {"ZNZ6": ["110-16", "110-16+", "110-17", "110-15.5", "110-18"],
          "ZBZ6": ["115-18", "115-19", "115-17", "115-20"],
          "ESZ6": ["6012.25", "6012.50", "6011.75", "6013"]}


def day_messages(start: int, count: int) -> list[dict]:
    """`count` valid producer messages numbered from `start`: fills, some marks and busts."""
    messages = []
    instruments = list(PRICES)
    for n in range(start, start + count):
        instrument = instruments[(n // 3) % len(instruments)]   # every account trades every instrument
        prices = PRICES[instrument]
        if n % 7 == 3:
            messages.append({"type": "mark", "instrument": instrument, "price": prices[n % len(prices)]})
        elif n % 11 == 5 and n - 1 >= start:
            messages.append({"type": "bust", "execId": f"R{n - 1}"})
        else:
            messages.append({"type": "fill", "execId": f"R{n}", "account": ACCOUNTS[n % 3], "instrument": instrument,
                             "side": "buy" if n % 3 else "sell", "qty": 1 + n % 5, "price": prices[n % len(prices)]})
    return messages


def post_day(server, start: int, count: int) -> int:
    """Posts one message per request (so each is its own event) and returns the last seq."""
    last = 0
    for message in day_messages(start, count):
        status, body = server.post_fills([message])
        assert status == 200, (message, body)
        last = body["results"][0]["seq"]
    return last


class Trickle:
    """A producer that keeps posting in the background: resumes happen with the stream moving."""

    def __init__(self, server, start: int):
        self.server = server
        self.next = start
        self.stop_flag = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stop_flag.is_set():
                post_day(self.server, self.next, 1)
                self.next += 1
                time.sleep(0.01)
        except BaseException as error:
            self.failure = error

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(10)
        assert self.failure is None, self.failure


def current_seq(server) -> tuple[int, str]:
    status, snapshot = server.get_json("/api/snapshot")
    assert status == 200
    return snapshot["seq"], snapshot["epoch"]


def wait_for_seq(server, target: int, timeout: float = 30.0) -> int:
    """Waits until the journal has reached `target` (the trickle is moving the stream on)."""
    deadline = time.monotonic() + timeout
    while True:
        seq, _ = current_seq(server)
        if seq >= target:
            return seq
        assert time.monotonic() < deadline, f"stream stuck at {seq}, waiting for {target}"
        time.sleep(0.02)


def drop(ws) -> None:
    """Pulls the plug: no close frame, just a dead TCP connection."""
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    ws.socket.close()


def test_resume_after_a_dropped_connection_gets_exactly_the_missed_messages(server_factory):
    server = server_factory()
    post_day(server, 0, 10)
    reference = Recorder(ws_open(server, "/ws"), "reference")
    victim = Recorder(ws_open(server, "/ws"), "victim")
    snapshot = victim.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    epoch = snapshot["epoch"]

    trickle = Trickle(server, 100)
    wait_for_seq(server, snapshot["seq"] + 5)
    # The victim has everything up to `since` (a pong proves it), then its connection dies.
    since, _ = current_seq(server)
    victim.sync_to(since)
    had = [m for m in victim.data() if m.get("seq", 0) <= since]
    drop(victim.ws)
    wait_for_seq(server, since + 15)      # the stream moves on without it

    resumed_ws = ws_open(server, f"/ws?since={since}&epoch={epoch}")
    resumed = Recorder(resumed_ws, "resumed")
    resumed.wait_for(lambda m: m["type"] == "resumed", what="resumed")
    wait_for_seq(server, resumed.data()[0]["seq"] + 10)   # and keeps moving once it is live again
    trickle.stop()
    final, _ = current_seq(server)
    for recorder in (reference, resumed):
        recorder.sync_to(final)
        recorder.stop()

    stream = resumed.data()
    assert stream[0] == {"type": "resumed", "since": since, "seq": stream[0]["seq"], "epoch": epoch}, stream[0]
    assert since + 15 <= stream[0]["seq"] <= final, "a real backlog was replayed"
    check_stream(stream, gapless=True, name="resumed", after_resume=True)
    # Exactly what an uninterrupted subscriber got after `since`: same messages, same order.
    missed = [m for m in reference.data() if m.get("seq", 0) > since]
    assert stream[1:] == missed
    # And the state rebuilt from before + after the drop is the server's.
    reduced = reduce_stream(had + stream)
    status, truth = server.get_json("/api/snapshot")
    expected = snapshot_state(truth)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.marks, reduced.fills) == \
           (expected.positions, expected.accounts, expected.desk, expected.marks, expected.fills)


def test_resume_at_the_current_seq_sends_resumed_then_only_live(server_factory):
    server = server_factory()
    last = post_day(server, 0, 5)
    _, epoch = current_seq(server)
    with ws_connect(server, f"/ws?since={last}&epoch={epoch}") as ws:
        assert recv_json(ws) == {"type": "resumed", "since": last, "seq": last, "epoch": epoch}
        post_day(server, 5, 1)
        live = recv_json(ws)
        assert live["seq"] == last + 1 and live["type"] in ("fill", "mark"), live


def test_resume_from_zero_replays_the_whole_journal(server_factory):
    server = server_factory()
    with ws_connect(server, "/ws") as first:
        epoch = recv_json(first)["epoch"]
    last = post_day(server, 0, 12)
    recorder = Recorder(ws_open(server, f"/ws?since=0&epoch={epoch}"), "from-zero")
    recorder.sync_to(last)
    recorder.stop()
    stream = recorder.data()
    assert stream[0]["type"] == "resumed" and stream[0]["since"] == 0 and stream[0]["seq"] == last
    check_stream(stream, gapless=True, name="from-zero", after_resume=True)
    status, truth = server.get_json("/api/snapshot")
    reduced, expected = reduce_stream(stream), snapshot_state(truth)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.fills) == \
           (expected.positions, expected.accounts, expected.desk, expected.fills)


def test_resume_works_across_a_server_restart(server_factory):
    server = server_factory()
    post_day(server, 0, 10)
    victim = Recorder(ws_open(server, "/ws"), "victim")
    reference = Recorder(ws_open(server, "/ws"), "reference")
    epoch = victim.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")["epoch"]
    reference.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    since = post_day(server, 10, 8)
    victim.sync_to(since)
    had = [m for m in victim.data() if m.get("seq", 0) <= since]
    drop(victim.ws)
    victim.stop(expect_clean=False)
    before_restart = post_day(server, 18, 9)       # missed by the victim, seen by the reference
    reference.sync_to(before_restart)
    reference.stop()

    server.stop()
    assert not server.running
    server.start()
    seq, epoch_after = current_seq(server)
    assert epoch_after == epoch, "same database, same epoch"
    assert seq == before_restart, "the journal survived the restart"
    after_restart = post_day(server, 27, 6)

    resumed = Recorder(ws_open(server, f"/ws?since={since}&epoch={epoch}"), "resumed")
    resumed.sync_to(after_restart)
    resumed.stop()
    stream = resumed.data()
    assert stream[0] == {"type": "resumed", "since": since, "seq": after_restart, "epoch": epoch}, stream[0]
    check_stream(stream, gapless=True, name="resumed", after_resume=True)
    assert stream[-1]["seq"] == after_restart
    # What was journaled before the restart comes back byte for byte as it was sent live.
    assert [m for m in stream[1:] if m["seq"] <= before_restart] == \
           [m for m in reference.data() if since < m.get("seq", 0) <= before_restart]
    status, truth = server.get_json("/api/snapshot")
    reduced, expected = reduce_stream(had + stream), snapshot_state(truth)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.marks, reduced.fills) == \
           (expected.positions, expected.accounts, expected.desk, expected.marks, expected.fills)


def test_subscriber_connected_during_a_restart_is_told_and_can_resume(server_factory):
    server = server_factory()
    last = post_day(server, 0, 6)
    ws = ws_open(server, "/ws")
    snapshot = recv_json(ws)
    assert snapshot["seq"] == last
    server.stop()
    # A graceful shutdown says so (1001 going away) rather than just dropping subscribers.
    with pytest.raises(Exception) as closed:
        while True:
            ws.recv(timeout=10)
    assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code == 1001, closed.value
    server.start()
    with ws_connect(server, f"/ws?since={last}&epoch={snapshot['epoch']}") as again:
        assert recv_json(again) == {"type": "resumed", "since": last, "seq": last, "epoch": snapshot["epoch"]}


@pytest.mark.parametrize("query", ["since={seq}&epoch=0000000000000000", "since={seq}", "since={beyond}&epoch={epoch}",
                                   "since=-1&epoch={epoch}"],
                         ids=["wrong-epoch", "no-epoch", "since-beyond-journal", "negative-since"])
def test_resume_that_cannot_be_served_gets_a_resync_snapshot(server_factory, query):
    server = server_factory()
    last = post_day(server, 0, 8)
    _, epoch = current_seq(server)
    path = "/ws?" + query.format(seq=max(1, last - 3), epoch=epoch, beyond=last + 1000)
    with ws_connect(server, path) as ws:
        snapshot = recv_json(ws)
        assert snapshot["type"] == "snapshot", snapshot
        assert snapshot["resync"] is True, snapshot
        assert snapshot["seq"] == last and snapshot["epoch"] == epoch
        status, truth = server.get_json("/api/snapshot")
        assert snapshot_state(snapshot).positions == snapshot_state(truth).positions
        # Live from there on.
        post_day(server, 8, 1)
        assert recv_json(ws)["seq"] == last + 1


def test_subscribe_message_gets_a_fresh_snapshot_honouring_the_new_filter(server_factory):
    server = server_factory()
    post_day(server, 0, 15)
    recorder = Recorder(ws_open(server, "/ws"), "resubscriber")
    first = recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    assert first["resync"] is False
    assert {p["account"] for p in first["positions"]} == set(ACCOUNTS)

    trickle = Trickle(server, 200)
    wait_for_seq(server, first["seq"] + 5)
    recorder.ws.send(json.dumps({"type": "subscribe", "accounts": ["ACC2"], "instruments": ["ZNZ6", "ESZ6"],
                                 "channels": ["fills", "positions", "pnl"]}))
    second = recorder.wait_for(lambda m: m["type"] == "snapshot" and m is not first, what="second snapshot")
    wait_for_seq(server, second["seq"] + 15)
    trickle.stop()
    final, _ = current_seq(server)
    recorder.sync_to(final)

    assert second["resync"] is False
    assert second["seq"] >= first["seq"]
    assert second["filter"]["accounts"] == ["ACC2"] and second["filter"]["instruments"] == ["ESZ6", "ZNZ6"]
    assert sorted(second["filter"]["channels"]) == ["fills", "pnl", "positions"]
    assert second["positions"] and all(p["account"] == "ACC2" and p["instrument"] in ("ZNZ6", "ESZ6")
                                       for p in second["positions"])
    assert [a["account"] for a in second["accounts"]] == ["ACC2"]
    assert all(m["instrument"] in ("ZNZ6", "ESZ6") for m in second["marks"])
    assert all(f["account"] == "ACC2" and f["instrument"] in ("ZNZ6", "ESZ6") for f in second["fills"])
    data = recorder.data()
    after = data[data.index(second):]
    check_stream(after, gapless=False, name="after subscribe")
    assert len(after) > 3, "live deltas kept coming after the new snapshot"
    for message in after[1:]:
        assert message["type"] in ("fill", "position", "pnl"), message
        if message.get("account") is not None:
            assert message["account"] == "ACC2", message
        if message.get("instrument") is not None:
            assert message["instrument"] in ("ZNZ6", "ESZ6"), message
    # The state from the new snapshot on equals the server's view through the same filter.
    status, scoped = server.get_json("/api/snapshot?account=ACC2&instrument=ESZ6,ZNZ6")
    reduced, expected = reduce_stream(after), snapshot_state(scoped)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.fills) == \
           (expected.positions, expected.accounts, expected.desk, expected.fills)

    # Back to everything with nulls.
    recorder.ws.send(json.dumps({"type": "subscribe", "accounts": None, "instruments": None, "channels": None}))
    third = recorder.wait_for(lambda m: m["type"] == "snapshot" and m is not first and m is not second, what="third snapshot")
    assert third["filter"] == {"accounts": None, "instruments": None,
                               "channels": ["fills", "positions", "pnl", "marks", "risk", "status", "orders"]}
    assert {p["account"] for p in third["positions"]} == set(ACCOUNTS)
    recorder.stop()


def test_two_quick_subscribes_end_with_the_second_filter_and_no_duplicates(server_factory):
    """A cached snapshot (the unfiltered one every connect gets) can be ready before one still
    being written off the writer (a new filter): the answer to the earlier `subscribe` must not
    land after the later one, or the client would end on the wrong filter and get events twice."""
    server = server_factory()
    post_day(server, 0, 15)
    trickle = Trickle(server, 200)
    try:
        for round_ in range(5):
            recorder = Recorder(ws_open(server, "/ws"), f"quick {round_}")
            first = recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
            recorder.ws.send(json.dumps({"type": "subscribe", "accounts": ["ACC2"]}))
            recorder.ws.send(json.dumps({"type": "subscribe", "accounts": None}))
            wait_for_seq(server, first["seq"] + 20)
            final, _ = current_seq(server)
            recorder.sync_to(final)
            data = recorder.data()
            snapshots = [m for m in data if m["type"] == "snapshot"]
            assert snapshots[-1]["filter"]["accounts"] is None, [s["filter"] for s in snapshots]
            last_snapshot = max(i for i, m in enumerate(data) if m["type"] == "snapshot")
            after = data[last_snapshot:]
            check_stream(after, gapless=True, name=f"after the second subscribe, round {round_}")
            recorder.stop()
    finally:
        trickle.stop()


def test_bad_client_messages_get_an_error_and_the_connection_stays_open(server_factory):
    server = server_factory()
    with ws_connect(server, "/ws") as ws:
        assert recv_json(ws)["type"] == "snapshot"
        for text, code in [('{"type":"subscrib"}', "bad_message"), ("not json", "bad_message"),
                           ('{"type":"subscribe","channels":["fills","gossip"]}', "bad_filter"),
                           ('{"type":"subscribe","accounts":"ACC1"}', "bad_filter")]:
            ws.send(text)
            reply = recv_json(ws)
            assert reply["type"] == "error" and reply["code"] == code and reply["message"], (text, reply)
        ws.send(json.dumps({"type": "ping", "id": 7}))
        assert recv_json(ws) == {"type": "pong", "id": 7, "seq": 0}


def test_resume_too_far_behind_gets_a_resync_snapshot(server_factory, tmp_path):
    from test_push_support import write_config
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, limits={"maxResumeEvents": 5}))])
    last = post_day(server, 0, 12)
    _, epoch = current_seq(server)
    with ws_connect(server, f"/ws?since={last - 5}&epoch={epoch}") as ws:
        resumed = recv_json(ws)
        assert resumed["type"] == "resumed" and resumed["since"] == last - 5, "5 behind is still within reach"
    with ws_connect(server, f"/ws?since={last - 6}&epoch={epoch}") as ws:
        snapshot = recv_json(ws)
        assert snapshot["type"] == "snapshot" and snapshot["resync"] is True and snapshot["seq"] == last, snapshot


def test_filtered_resume_replays_only_what_the_filter_lets_through(server_factory):
    server = server_factory()
    post_day(server, 0, 6)
    query = "accounts=ACC1&instruments=ZNZ6,ESZ6&channels=fills,positions,pnl,marks"
    reference = Recorder(ws_open(server, "/ws?" + query), "reference")
    snapshot = reference.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    since = snapshot["seq"]
    last = post_day(server, 6, 30)
    resumed = Recorder(ws_open(server, f"/ws?{query}&since={since}&epoch={snapshot['epoch']}"), "resumed")
    for recorder in (reference, resumed):
        recorder.sync_to(last)
        recorder.stop()
    stream = resumed.data()
    assert stream[0]["type"] == "resumed"
    check_stream(stream, gapless=False, name="filtered resume", after_resume=True)
    # The journal replay filters exactly like the live fan-out did.
    assert stream[1:] == reference.data()[1:]
    assert any(m.get("account") == "ACC1" for m in stream), "the filter let something through"
    assert all(m.get("account") in (None, "ACC1") and m.get("instrument") in (None, "ZNZ6", "ESZ6") for m in stream[1:])


def test_unknown_channel_in_the_query_still_gets_the_snapshot_first(server_factory):
    server = server_factory()
    post_day(server, 0, 3)
    with ws_connect(server, "/ws?channels=fills,gossip") as ws:
        first = recv_json(ws)
        assert first["type"] == "snapshot", first
        error = recv_json(ws)
        assert error["type"] == "error" and error["code"] == "bad_filter", error


def stable(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k not in ("time", "monitors")}


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_state_and_resume_survive_a_restart_with_checkpoints(server_factory, tmp_path, how):
    from test_push_support import write_config
    # Checkpoints every few events: recovery starts from one and replays the rest, busts and
    # corrections of fills from before the checkpoint included.
    config = write_config(tmp_path, checkpointEvery=4)
    server = server_factory(extra_args=["--config", str(config)])
    post_day(server, 0, 25)
    status, body = server.post_fills([
        {"type": "correct", "execId": "R1", "qty": 4, "price": "110-17"},
        {"type": "sod", "account": "ACC2", "instrument": "ZBZ6", "qty": -3, "price": "115-17"},
        {"type": "bust", "execId": "R2"},
        {"type": "correct", "execId": "R7", "price": "6011.75"},
    ])
    assert status == 200, body
    status, before = server.get_json("/api/snapshot")
    status, fills_before = server.get_json("/api/fills?limit=10000")
    with ws_connect(server, "/ws") as ws:
        epoch = recv_json(ws)["epoch"]
    server.stop() if how == "stop" else server.kill()
    server.start()
    status, after = server.get_json("/api/snapshot")
    assert stable(after) == stable(before)
    assert server.get_json("/api/fills?limit=10000")[1] == fills_before
    # Resume from the middle of the journal replays the journaled deltas as they were.
    since = before["seq"] - 10
    recorder = Recorder(ws_open(server, f"/ws?since={since}&epoch={epoch}"), "after-restart")
    recorder.sync_to(before["seq"])
    recorder.stop()
    stream = recorder.data()
    assert stream[0] == {"type": "resumed", "since": since, "seq": before["seq"], "epoch": epoch}
    check_stream(stream, gapless=True, name="after-restart", after_resume=True)
    assert {m["seq"] for m in stream[1:]} == set(range(since + 1, before["seq"] + 1))


def cut_off_slow_subscriber(server) -> tuple[dict, list[dict], int | None, int]:
    """A subscriber with a 4 KiB window that stops reading while the desk keeps trading; returns
    its snapshot, the messages that reached it, the close code (None if TCP just ended) and the
    last seq committed. Asserts the server did cut it off."""
    from conftest import OP_CLOSE, OP_TEXT, PeerClosed, RawWebSocket
    post_day(server, 0, 5)
    slow = RawWebSocket.connect(server.host, server.port, "/ws", rcvbuf=4096)
    opcode, payload = slow.recv_message()
    snapshot = json.loads(payload)
    assert opcode == OP_TEXT and snapshot["type"] == "snapshot"
    # Enough to fill the kernel's socket buffers too (loopback's are large): the server's cap
    # counts only what waits in its own queue once the kernel takes no more.
    batch = [m for m in day_messages(1000, 20000) if m["type"] != "bust"]
    last = snapshot["seq"]
    for offset in range(0, len(batch), 100):
        status, body = server.post_fills(batch[offset:offset + 100])
        assert status == 200, body
        last = body["results"][-1]["seq"]
        if server.metrics().get("ladderwire_slow_consumer_disconnects_total", 0) >= 1:
            break
    assert server.metrics()["ladderwire_slow_consumer_disconnects_total"] == 1, "the slow subscriber was never cut off"
    # What did reach it must be whole frames (a frame cut in half would garble the rest).
    got = [snapshot]
    close_code = None
    try:
        while True:
            frame = slow.recv_frame(timeout=10)
            if frame.opcode == OP_CLOSE:
                close_code = frame.close_code
                break
            assert frame.opcode == OP_TEXT and frame.fin, frame
            got.append(json.loads(frame.payload))
    except PeerClosed:
        pass
    finally:
        slow.close()
    return snapshot, got, close_code, last


def test_slow_subscriber_is_cut_off_cleanly(server_factory, tmp_path):
    from test_push_support import write_config
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, limits={"outboundCapBytes": 16384}))])
    snapshot, got, close_code, last = cut_off_slow_subscriber(server)
    assert close_code in (None, 4008), close_code
    check_stream(got, gapless=True, name="slow")
    # The cut keeps the batch being written whole (frames are never split), so the slow reader
    # may still get everything committed up to the cut; never more, never a torn frame.
    assert max([m["seq"] for m in got], default=0) <= last
    # The others are unaffected.
    with ws_connect(server, "/ws") as ws:
        assert recv_json(ws)["seq"] == last


def test_slow_subscriber_resumes_after_the_cut_without_a_gap(server_factory, tmp_path):
    from test_push_support import write_config
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, limits={"outboundCapBytes": 16384}))])
    snapshot, got, close_code, last = cut_off_slow_subscriber(server)
    seen = max([m["seq"] for m in got[1:]], default=snapshot["seq"])
    since = seen - 1 if seen > snapshot["seq"] else snapshot["seq"]    # the last event may be cut short
    resumed = Recorder(ws_open(server, f"/ws?since={since}&epoch={snapshot['epoch']}"), "resumed")
    resumed.sync_to(last)
    resumed.stop()
    stream = resumed.data()
    assert stream[0]["type"] == "resumed" and stream[0]["seq"] == last
    check_stream(stream, gapless=True, name="resumed", after_resume=True)
    status, truth = server.get_json("/api/snapshot")
    reduced = reduce_stream([m for m in got if m["type"] == "snapshot" or m["seq"] <= since] + stream)
    expected = snapshot_state(truth)
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.marks) == \
           (expected.positions, expected.accounts, expected.desk, expected.marks)


def test_resume_of_a_busy_minute_reaches_a_fast_client_with_default_limits(server_factory):
    server = server_factory()
    with ws_connect(server, "/ws") as ws:
        snapshot = recv_json(ws)
    # About 2,700 events (~4 MB of deltas) missed: a minute away from a busy desk.
    batch = [m for m in day_messages(0, 3000) if m["type"] != "bust"]
    for offset in range(0, len(batch), 500):
        status, body = server.post_fills(batch[offset:offset + 500])
        assert status == 200, body
    last = body["results"][-1]["seq"]
    resumed = Recorder(ws_open(server, f"/ws?since={snapshot['seq']}&epoch={snapshot['epoch']}"), "resumed")
    resumed.wait_for(lambda m: m.get("seq") == last and m["type"] == "pnl" and m.get("scope") == "desk",
                     timeout=30, what="the last missed message")
    resumed.stop()
    stream = resumed.data()
    assert stream[0]["type"] == "resumed"
    check_stream(stream, gapless=True, name="resumed", after_resume=True)
