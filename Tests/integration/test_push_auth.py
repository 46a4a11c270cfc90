"""Tokens from `ladderwire token add`, anonymous access off: refusals happen before the upgrade,
every way of presenting a token works, roles and account scopes hold on every path, a token
that expires mid-connection closes it with 4001, and failures are audited."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from test_push_support import (Recorder, add_token, journal_rows, recv_json, write_config, ws_connect, ws_open)

DAY = [
    {"type": "mark", "instrument": "ZNZ6", "price": "110-16"},
    {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"},
    {"type": "sod", "account": "ACC2", "instrument": "ZBZ6", "qty": -1, "price": "115-18"},
    {"type": "fill", "execId": "A1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110-18.5"},
    {"type": "fill", "execId": "B1", "account": "ACC2", "instrument": "ZNZ6", "side": "sell", "qty": 4, "price": "110-17"},
    {"type": "fill", "execId": "B2", "account": "ACC2", "instrument": "ESZ6", "side": "buy", "qty": 1, "price": "6012.25"},
]


@dataclass
class Secured:
    server: object
    admin: str
    producer: str
    viewer: str
    acc1_viewer: str
    expired: str


def expired_entry(tokens_file: Path, name: str, token: str) -> None:
    """Appends a token that expired long ago (the CLI only makes future expiries)."""
    data = json.loads(tokens_file.read_text())
    data["tokens"].append({"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(), "role": "admin",
                           "expires": "2020-01-01T00:00:00Z"})
    tokens_file.write_text(json.dumps(data))


@pytest.fixture
def secured(server_factory, tmp_path) -> Secured:
    tokens = tmp_path / "tokens.json"
    admin = add_token(tokens, "ops", "admin")
    producer = add_token(tokens, "feeder", "producer", expires="1h")
    viewer = add_token(tokens, "desk-screen", "viewer")
    acc1_viewer = add_token(tokens, "acc1-trader", "viewer", accounts=["ACC1"])
    expired = "lw_" + "ab" * 32
    expired_entry(tokens, "old-ops", expired)
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, tokens))])
    status, body = server.post_fills(DAY, token=producer)
    assert status == 200, body
    return Secured(server, admin, producer, viewer, acc1_viewer, expired)


def handshake_status(server, path: str, **kw) -> int:
    """The HTTP status of a refused upgrade (101 if it was accepted)."""
    try:
        with ws_connect(server, path, **kw):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize("path", ["/ws", "/ws?format=text", "/feed"])
def test_no_token_is_401_before_the_upgrade(secured, path):
    assert handshake_status(secured.server, path) == 401


@pytest.mark.parametrize("path", ["/ws", "/feed"])
def test_wrong_or_expired_token_is_401(secured, path):
    assert handshake_status(secured.server, path, token="lw_" + "00" * 32) == 401
    assert handshake_status(secured.server, path + "?token=nonsense") == 401
    assert handshake_status(secured.server, path, token=secured.expired) == 401
    status, body = secured.server.get_json("/api/snapshot", token=secured.expired)
    assert status == 401 and "expired" in body, body


def test_http_api_needs_a_token_too(secured):
    server = secured.server
    for path in ("/api/snapshot", "/api/fills?account=ACC1"):
        status, headers, _ = server.request("GET", path)
        assert status == 401 and headers.get("www-authenticate", "").lower().startswith("bearer"), (path, status)
    status, _ = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-17"}])
    assert status == 401
    status, _ = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-17"}], token="wrong")
    assert status == 401


def test_token_in_header_query_or_subprotocol_all_work(secured):
    server = secured.server
    with ws_connect(server, "/ws", token=secured.viewer) as ws:
        assert recv_json(ws)["type"] == "snapshot"
    with ws_connect(server, f"/ws?token={secured.viewer}") as ws:
        assert recv_json(ws)["type"] == "snapshot"
    with ws_connect(server, "/ws", subprotocols=["ladderwire.json", f"ladderwire.token.{secured.viewer}"]) as ws:
        # The token-carrying name is never echoed back: the format protocol is chosen.
        assert ws.subprotocol == "ladderwire.json"
        assert recv_json(ws)["type"] == "snapshot"
    with ws_connect(server, "/feed", subprotocols=["ladderwire.json", f"ladderwire.token.{secured.producer}"]) as feed:
        feed.send(json.dumps({"type": "mark", "instrument": "ZNZ6", "price": "110-16+"}))
        assert recv_json(feed)["type"] == "ack"
    with ws_connect(server, f"/feed?token={secured.admin}") as feed:
        feed.send(json.dumps({"type": "mark", "instrument": "ZNZ6", "price": "110-17"}))
        assert recv_json(feed)["type"] == "ack"
    status, snapshot = server.get_json("/api/snapshot", token=secured.viewer)
    assert status == 200 and snapshot["type"] == "snapshot"


def test_viewer_cannot_produce(secured):
    server = secured.server
    assert handshake_status(server, "/feed", token=secured.viewer) == 403
    assert handshake_status(server, "/feed", token=secured.acc1_viewer) == 403
    seq_before = server.get_json("/api/snapshot", token=secured.admin)[1]["seq"]
    status, body = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-17"}], token=secured.viewer)
    assert status == 403, body
    assert server.get_json("/api/snapshot", token=secured.admin)[1]["seq"] == seq_before


def test_account_scoped_viewer_never_sees_another_account(secured):
    server = secured.server
    recorder = Recorder(ws_open(server, "/ws", token=secured.acc1_viewer), "acc1")
    snapshot = recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    assert {p["account"] for p in snapshot["positions"]} == {"ACC1"}
    assert {a["account"] for a in snapshot["accounts"]} == {"ACC1"}
    assert {f["account"] for f in snapshot["fills"]} == {"ACC1"}
    assert snapshot["desk"] is None, "desk totals aggregate other accounts"

    # Live deltas for both accounts; the scoped viewer gets only ACC1's (and public marks).
    status, body = server.post_fills([
        {"type": "fill", "execId": "B3", "account": "ACC2", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110-16"},
        {"type": "fill", "execId": "A2", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 1, "price": "110-17"},
        {"type": "mark", "instrument": "ZNZ6", "price": "110-17.5"},
        {"type": "bust", "execId": "B1"},
        {"type": "sod", "account": "ACC2", "instrument": "ZNZ6", "qty": 5, "price": "110-16"},
    ], token=secured.producer)
    assert status == 200, body
    # Asking for ACC2 explicitly cannot widen the scope.
    recorder.ws.send(json.dumps({"type": "subscribe", "accounts": ["ACC1", "ACC2"]}))
    resubscribed = recorder.wait_for(lambda m: m["type"] == "snapshot" and m is not snapshot, what="second snapshot")
    final = body["results"][-1]["seq"]
    recorder.sync_to(final)
    recorder.stop()
    messages = recorder.data()
    assert any(m.get("execId") == "A2" for m in messages), "ACC1's own fill arrived"
    assert any(m["type"] == "mark" for m in messages[1:]), "marks are public"
    for message in messages:
        # (`filter` echoes what was asked for; it is not data.)
        text = json.dumps({k: v for k, v in message.items() if k != "filter"})
        assert "ACC2" not in text, message
        assert not (message["type"] == "pnl" and message.get("scope") == "desk"), message
    assert resubscribed["desk"] is None and {p["account"] for p in resubscribed["positions"]} == {"ACC1"}

    status, body = server.get_json("/api/fills?account=ACC2", token=secured.acc1_viewer)
    assert status == 403, body
    status, body = server.get_json("/api/fills", token=secured.acc1_viewer)
    assert status == 400, body
    status, body = server.get_json("/api/fills?account=ACC1", token=secured.acc1_viewer)
    assert status == 200 and {f["execId"] for f in body["fills"]} == {"A1", "A2"}, body
    for path in ("/api/snapshot", "/api/snapshot?account=ACC2", "/api/snapshot?account=ACC1,ACC2"):
        status, scoped = server.get_json(path, token=secured.acc1_viewer)
        assert status == 200, scoped
        assert "ACC2" not in json.dumps({k: v for k, v in scoped.items() if k != "filter"}), (path, scoped)
        assert scoped["desk"] is None, path
    # An unscoped viewer does see both, and the desk.
    status, everything = server.get_json("/api/snapshot", token=secured.viewer)
    assert {p["account"] for p in everything["positions"]} == {"ACC1", "ACC2"} and everything["desk"] is not None


def test_token_expiring_during_a_connection_closes_it_with_4001(server_factory, tmp_path):
    tokens = tmp_path / "tokens.json"
    short = add_token(tokens, "short", "viewer", expires="6s")   # room for a slow start-up
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, tokens))])
    with ws_connect(server, "/ws", token=short) as ws:
        assert recv_json(ws)["type"] == "snapshot"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < 15:
                message = json.loads(ws.recv(timeout=15))
                assert message["type"] in ("heartbeat", "status"), message
        assert closed.value.rcvd is not None, "the server must send a close frame"
        assert closed.value.rcvd.code == 4001, closed.value
    # And the same token is now refused at the door.
    assert handshake_status(server, "/ws", token=short) == 401


def test_login_failures_are_audited(secured):
    server = secured.server
    handshake_status(server, "/ws")
    handshake_status(server, "/feed", token="lw_wrong")
    handshake_status(server, "/ws", token=secured.expired)
    handshake_status(server, "/feed", token=secured.viewer)
    server.get_json("/api/snapshot")
    # The audit is written by the pipeline thread; a committed POST afterwards flushes it.
    status, _ = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}], token=secured.producer)
    assert status == 200
    rows = journal_rows(server.db_path, "SELECT actor, detail FROM audit WHERE action = 'login_failure' ORDER BY id")
    details = [detail for _, detail in rows]
    # One row per kind of failure (missing, unknown, expired, forbidden) per address and minute:
    # the second missing-token refusal (/api/snapshot) is counted, not written (test_hardening).
    assert len(rows) == 4, rows
    assert any(" /ws:" in d and "required" in d for d in details), details
    assert any(" /feed:" in d and "unknown token" in d for d in details), details
    assert any("old-ops" in d and "expired" in d for d in details), details
    assert any(" /feed:" in d and "desk-screen" in d for d in details), details
    assert all(actor.startswith("127.0.0.1") for actor, _ in rows), rows
    # The secrets themselves never reach the audit.
    assert not any(secured.viewer in d or secured.expired in d for d in details)


def test_account_scoped_resume_replays_nothing_of_other_accounts(secured):
    server = secured.server
    with ws_connect(server, "/ws", token=secured.acc1_viewer) as ws:
        snapshot = recv_json(ws)
    since, epoch = snapshot["seq"], snapshot["epoch"]
    status, body = server.post_fills([
        {"type": "fill", "execId": "B9", "account": "ACC2", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110-16"},
        {"type": "fill", "execId": "A9", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 1, "price": "110-16"},
        {"type": "sod", "account": "ACC2", "instrument": "ESZ6", "qty": 3, "price": "6010"},
    ], token=secured.producer)
    assert status == 200, body
    last = body["results"][-1]["seq"]
    recorder = Recorder(ws_open(server, f"/ws?since={since}&epoch={epoch}", token=secured.acc1_viewer), "acc1-resume")
    recorder.sync_to(last)
    recorder.stop()
    stream = recorder.data()
    assert stream[0]["type"] == "resumed", stream[0]
    assert any(m.get("execId") == "A9" for m in stream)
    for message in stream:
        assert "ACC2" not in json.dumps(message), message
        assert not (message["type"] == "pnl" and message.get("scope") == "desk"), message


def test_producer_token_expiring_during_a_feed_connection_closes_it_with_4001(server_factory, tmp_path):
    tokens = tmp_path / "tokens.json"
    short = add_token(tokens, "short-feed", "producer", expires="5s")
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, tokens))])
    with ws_connect(server, "/feed", token=short) as feed:
        feed.send(json.dumps({"type": "mark", "instrument": "ZNZ6", "price": "110-16"}))
        assert recv_json(feed)["type"] == "ack"
        time.sleep(6.5)   # past the expiry and a housekeeping tick
        try:
            feed.send(json.dumps({"type": "mark", "instrument": "ZNZ6", "price": "110-16+"}))
            reply = recv_json(feed, timeout=5)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4001, closed
            return
        raise AssertionError(f"an expired producer token could still write: {reply}")


def test_account_scoped_viewer_in_a_terminal_sees_only_its_account(secured):
    server = secured.server
    with ws_connect(server, f"/ws?format=text&token={secured.acc1_viewer}") as ws:
        header, *lines = ws.recv(timeout=10).splitlines()
        assert "SNAPSHOT" in header
        assert lines and all("ACC2" not in line and "DESK" not in line for line in lines), lines
        ws.send("pnl")
        assert [line.split()[2] for line in ws.recv(timeout=10).splitlines()] == ["ACC1"]
        ws.send("fills 50")
        fills = ws.recv(timeout=10).splitlines()
        assert fills and all("ACC1" in line for line in fills), fills
        ws.send("sub accounts ACC2")
        assert ws.recv(timeout=10).startswith("ok:")
        ws.send("positions")
        assert ws.recv(timeout=10) == "(none)", "asking for ACC2 does not widen the scope"


def test_a_producer_scoped_to_one_account_cannot_bust_or_correct_another_accounts_fill(server_factory, tmp_path):
    tokens = tmp_path / "tokens.json"
    admin = add_token(tokens, "ops", "admin")
    producer = add_token(tokens, "feeder", "producer")
    acc1_producer = add_token(tokens, "acc1-feeder", "producer", accounts=["ACC1"])
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, tokens))])
    status, body = server.post_fills(DAY, token=producer)
    assert status == 200, body
    seq_before = server.get_json("/api/snapshot", token=admin)[1]["seq"]

    # POST: all or nothing, refused with the reason for the out-of-scope item.
    status, body = server.post_fills([{"type": "bust", "execId": "B1"}], token=acc1_producer)
    assert status == 422, body
    assert body["errors"][0]["code"] == "unauthorized_account", body
    # /feed: one error per out-of-scope message, in order; its own account's fill is fine.
    with ws_connect(server, "/feed", token=acc1_producer) as feed:
        for message in ({"type": "correct", "execId": "B2", "qty": 2}, {"type": "bust", "execId": "B1"},
                        {"type": "correct", "execId": "A1", "qty": 1}):
            feed.send(json.dumps(message))
        replies = [json.loads(feed.recv(timeout=10)) for _ in range(3)]
    assert [r["type"] for r in replies] == ["error", "error", "ack"], replies
    assert {replies[0]["code"], replies[1]["code"]} == {"unauthorized_account"}, replies
    assert replies[2]["seq"] == seq_before + 1

    # ACC2's fills are untouched; ACC1's correction is stored.
    status, fills = server.get_json("/api/fills?account=ACC2", token=admin)
    assert status == 200 and {f["execId"]: f["status"] for f in fills["fills"]} == {"B1": "live", "B2": "live"}, fills
    status, fills = server.get_json("/api/fills?account=ACC1", token=admin)
    assert [f["status"] for f in fills["fills"] if f["execId"] == "A1"] == ["corrected"], fills
