"""The bad-input corpus (issue 16, "done when"): one case per class of bad input and per message
type — malformed, oversize, off-grid, wrong scope, wrong Host, revoked or expired token,
slow-loris, body flood, command flood — against one real server. Each case gets its documented
answer (docs/protocol.md), and after each one the database is unchanged apart from the audit
(every table but `audit`, read from the SQLite file).

Storage faults get their own server, on a small tmpfs that is filled up (needs root to mount it,
as tools/test runs in CI): every message type is then answered `storage_error` (503) and nothing
but the audit changes; test_storage_full.py checks the recovery when space returns."""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import sqlite3
import subprocess
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import RawHttp, Server
from test_push_support import add_token, recv_json, write_config, ws_connect
from conftest import run_cli

F1 = {"type": "fill", "execId": "F1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110-16"}
F2 = {"type": "fill", "execId": "F2", "account": "ACC2", "instrument": "ZNZ6", "side": "sell", "qty": 2, "price": "110-16"}
SEED = [{"type": "mark", "instrument": "ZNZ6", "price": "110-16"},
        {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"}, F1, F2]


def table_digest(db_path) -> str:
    """Every row of every table but the audit, hashed."""
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'audit' ORDER BY name")]
        for table in tables:
            for row in sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr):
                digest.update(repr((table, row)).encode())
    return digest.hexdigest()


class Corpus:
    def __init__(self, server: Server, tokens: dict[str, str]):
        self.server, self.tokens = server, tokens

    def fingerprint(self) -> str:
        """Every row of every table but the audit, hashed (the barrier makes earlier work land first)."""
        status, body = self.server.post_fills([F1], token=self.tokens["feeder"])   # a duplicate: no event
        assert status == 200 and body["results"][0]["type"] == "duplicate", body
        return table_digest(self.server.db_path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    path = tmp / "tokens.json"
    tokens = {name: add_token(path, name, role, accounts=accounts) for name, role, accounts in [
        ("ops", "admin", None), ("feeder", "producer", None), ("acc1-feed", "producer", ["ACC1"]),
        ("screen", "viewer", None), ("gone", "producer", None)]}
    assert run_cli("token", "revoke", "gone", "--file", str(path)).returncode == 0
    data = json.loads(path.read_text())
    tokens["old"] = "lw_" + "cd" * 32
    data["tokens"].append({"name": "old", "sha256": hashlib.sha256(tokens["old"].encode()).hexdigest(),
                           "role": "admin", "expires": "2020-01-01T00:00:00Z"})
    path.write_text(json.dumps(data))
    config = write_config(tmp, path, limits={"maxMessageBytes": 4096, "headerTimeoutSeconds": 1,
                                             "maxBufferedBodyBytes": 65536, "maxHandshakesPerAddress": 16})
    server = Server(tmp, echo=False, static=None, sources="none", db_path=None,
                    extra_args=["--config", str(config)], env=None)
    server.start()
    try:
        status, body = server.post_fills(SEED, token=tokens["feeder"])
        assert status == 200, body
        yield Corpus(server, tokens)
    finally:
        server.stop()
    assert not server.crashed(), server.diagnostics()


# ---- the cases ------------------------------------------------------------------------------------

def post_error(code: str, *items: dict, token: str = "feeder", status: int = 422):
    def case(c: Corpus):
        got, body = c.server.post_fills(list(items), token=c.tokens[token])
        assert got == status, body
        assert body["accepted"] is False and body["errors"][0]["code"] == code, body
    return case


def feed_error(code: str, message, token: str = "feeder"):
    def case(c: Corpus):
        with ws_connect(c.server, "/feed", token=c.tokens[token]) as feed:
            if isinstance(message, bytes):
                feed.send(message)
            else:
                feed.send(message if isinstance(message, str) else json.dumps(message))
            reply = recv_json(feed)
            assert reply["type"] == "error" and reply["code"] == code, reply
    return case


def http_status(status: int, request: bytes, contains: bytes = b""):
    def case(c: Corpus):
        conn = RawHttp(c.server.host, c.server.port, timeout=10)
        try:
            data = request.replace(b"PORT", str(c.server.port).encode())
            for placeholder, name in ((b"TOKEN", "feeder"), (b"VIEWER", "screen"), (b"GONE", "gone")):
                data = data.replace(b"Bearer " + placeholder, b"Bearer " + c.tokens[name].encode())
            conn.send(data)
            response = conn.read_response()
            assert response.status == status, response
            assert contains in response.body, response.body
        finally:
            conn.sock.close()
    return case


def handshake_refused(status: int, path: str, token: str | None = None, headers=None):
    def case(c: Corpus):
        with pytest.raises(InvalidStatus) as refused:
            with ws_connect(c.server, path, token=c.tokens.get(token) if token else None, headers=headers):
                pass
        assert refused.value.response.status_code == status
    return case


def closes_with(code: int, path: str, payload: str, token: str):
    def case(c: Corpus):
        with ws_connect(c.server, path, token=c.tokens[token]) as ws:
            if path.startswith("/ws"):
                assert recv_json(ws)["type"] == "snapshot"
            ws.send(payload)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code, closed.value
    return case


def slow_loris(c: Corpus):
    conn = RawHttp(c.server.host, c.server.port, timeout=10)
    conn.send(b"GET /api/snapshot HTTP/1.1\r\nHost: localhost\r\n")
    for i in range(50):
        if select.select([conn.sock], [], [], 0.2)[0]:
            break
        conn.send(f"X-Slow-{i}: y\r\n".encode())
    assert conn.sock.recv(4096).startswith(b"HTTP/1.1 408 ")
    conn.sock.close()


def silent_connection(c: Corpus):
    conn = RawHttp(c.server.host, c.server.port, timeout=10)
    assert select.select([conn.sock], [], [], 8)[0], "no answer to a silent connection"
    assert conn.sock.recv(4096).startswith(b"HTTP/1.1 408 ")
    conn.sock.close()


def handshake_flood(c: Corpus):
    held = [socket.create_connection((c.server.host, c.server.port), timeout=5, source_address=("127.0.0.4", 0)) for _ in range(16)]
    try:
        extra = socket.create_connection((c.server.host, c.server.port), timeout=5, source_address=("127.0.0.4", 0))
        assert extra.recv(64).startswith(b"HTTP/1.1 503 ")
        extra.close()
    finally:
        for sock in held:
            sock.close()


def body_before_auth(token: str | None, status: int):
    def case(c: Corpus):
        auth = f"Authorization: Bearer {c.tokens[token]}\r\n" if token else ""
        conn = RawHttp(c.server.host, c.server.port, timeout=5)
        conn.send(f"POST /api/fills HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Length: 3000000\r\n\r\n[".encode())
        assert conn.read_response().status == status   # answered without the body
        conn.sock.close()
    return case


def body_budget(c: Corpus):
    head = (f"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {c.tokens['feeder']}\r\n"
            f"Content-Length: 60000\r\n\r\n").encode()
    first = RawHttp(c.server.host, c.server.port, timeout=5)
    first.send(head)
    time.sleep(0.3)   # ordering only
    second = RawHttp(c.server.host, c.server.port, timeout=5)
    second.send(head)
    response = second.read_response()
    assert response.status == 503 and response.header("retry-after") == "1", response
    first.sock.close()
    second.sock.close()


def command_flood(text: bool):
    def case(c: Corpus):
        path = "/ws?format=text" if text else "/ws"
        with ws_connect(c.server, path, token=c.tokens["screen"]) as ws:
            ws.recv(timeout=10)   # the snapshot
            command = "help" if text else json.dumps({"type": "subscribe", "accounts": ["ACC1"]})
            for _ in range(400):
                try:
                    ws.send(command)
                except ConnectionClosed:
                    break
            seen_error = False
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    message = ws.recv(timeout=10)
                    seen_error |= "rate_limited" in message
            assert seen_error
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, closed.value
    return case


def correct(execId="F1", **fields):
    return {"type": "correct", "execId": execId, **fields}


CASES = {
    # malformed, per message type and per door
    "post-not-json": http_status(400, b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 5\r\n\r\n{nope", b"malformed_json"),
    "fill-missing-execId": post_error("missing_field", {k: v for k, v in F1.items() if k != "execId"}),
    "fill-bad-side": post_error("invalid_side", {**F1, "execId": "X1", "side": "long"}),
    "fill-bad-qty": post_error("invalid_quantity", {**F1, "execId": "X2", "qty": 0}),
    "fill-numeric-price": post_error("invalid_price", {**F1, "execId": "X3", "price": 110.5}),
    "fill-bad-time": post_error("invalid_time", {**F1, "execId": "X4", "time": "yesterday"}),
    "fill-unknown-instrument": post_error("unknown_instrument", {**F1, "execId": "X5", "instrument": "ZZZ9"}),
    "unknown-type": post_error("unknown_type", {"type": "trade", "execId": "X6"}),
    "bust-missing-execId": post_error("missing_field", {"type": "bust"}),
    "bust-unknown-fill": post_error("unknown_fill", {"type": "bust", "execId": "NEVER"}),
    "correct-bad-qty": post_error("invalid_quantity", correct(qty="two", price="110-16")),
    "mark-missing-price": post_error("missing_field", {"type": "mark", "instrument": "ZNZ6"}),
    "sod-fractional-qty": post_error("invalid_quantity", {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 1.5, "price": "110-16"}),
    "order-off-grid": post_error("price_off_grid", {"type": "order", "action": "new", "orderId": "O1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 1, "price": "110-08.25"}),
    "order-unknown-action": post_error("invalid_field", {"type": "order", "action": "amend", "orderId": "O1"}),
    "not-a-type": post_error("unknown_type", {"type": "quote", "instrument": "ZNZ6", "price": "110-08"}),
    "correct-unknown-fill": post_error("unknown_fill", correct("NEVER", qty=1, price="110-16")),
    "mark-unknown-instrument": post_error("unknown_instrument", {"type": "mark", "instrument": "ZZZ9", "price": "110-16"}),
    "batch-one-bad-item": post_error("not_applied", {**F1, "execId": "X7"}, {**F1, "execId": "X8", "side": "long"}),
    "feed-not-json": feed_error("malformed_json", "{not json"),
    "feed-binary-frame": feed_error("malformed_json", b"\x00\x01"),
    "feed-fill-missing-account": feed_error("missing_field", {k: v for k, v in F1.items() if k != "account"} | {"execId": "X9"}),
    # off-grid, per message type
    "fill-off-grid": post_error("price_off_grid", {**F1, "execId": "G1", "price": "110-16.25"}),
    "fill-price-malformed": post_error("price_malformed", {**F1, "execId": "G2", "price": "one hundred"}),
    "correct-off-grid": post_error("price_off_grid", correct(qty=2, price="110-16.25")),
    "mark-off-grid": post_error("price_off_grid", {"type": "mark", "instrument": "ZNZ6", "price": "110-16.25"}),
    "sod-off-grid": post_error("price_off_grid", {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 1, "price": "110-16.25"}),
    "feed-correct-off-grid": feed_error("price_off_grid", correct(qty=1, price="110-16.25")),
    "feed-mark-off-grid": feed_error("price_off_grid", {"type": "mark", "instrument": "ZNZ6", "price": "110-16.25"}),
    # wrong scope
    "scoped-fill-other-account": post_error("unauthorized_account", {**F2, "execId": "S1"}, token="acc1-feed"),
    "scoped-bust-other-account": post_error("unauthorized_account", {"type": "bust", "execId": "F2"}, token="acc1-feed"),
    "scoped-correct-other-account": post_error("unauthorized_account", correct("F2", qty=1, price="110-16"), token="acc1-feed"),
    "scoped-sod-other-account": post_error("unauthorized_account", {"type": "sod", "account": "ACC2", "instrument": "ZNZ6", "qty": 1, "price": "110-16"}, token="acc1-feed"),
    "scoped-feed-other-account": feed_error("unauthorized_account", {**F2, "execId": "S2"}, token="acc1-feed"),
    "viewer-posts-fills": http_status(403, b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer VIEWER\r\nContent-Length: 2\r\n\r\n[]"),
    "viewer-opens-feed": handshake_refused(403, "/feed", token="screen"),
    "producer-rolls-the-day": http_status(403, b"POST /api/dayroll HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 0\r\n\r\n"),
    # oversize
    "post-body-over-4mib": http_status(413, b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 5000000\r\n\r\n"),
    "request-line-too-long": http_status(414, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    "headers-too-large": http_status(431, b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(70)) + b"\r\n"),
    "feed-message-too-big": closes_with(1009, "/feed", json.dumps({**F1, "execId": "B" * 5000}), "feeder"),
    "ws-message-too-big": closes_with(1009, "/ws", json.dumps({"type": "subscribe", "accounts": ["A" * 5000]}), "screen"),
    # malformed HTTP
    "bare-lf": http_status(400, b"GET / HTTP/1.1\nHost: localhost\n\n"),
    "transfer-encoding": http_status(501, b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    # wrong Host
    "host-snapshot": http_status(421, b"GET /api/snapshot HTTP/1.1\r\nHost: rebound.example:PORT\r\n\r\n"),
    "host-post": http_status(421, b"POST /api/fills HTTP/1.1\r\nHost: rebound.example\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 2\r\n\r\n[]"),
    "host-feed-upgrade": http_status(421, b"GET /feed HTTP/1.1\r\nHost: rebound.example\r\nAuthorization: Bearer TOKEN\r\nUpgrade: websocket\r\n"
                                          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    # revoked and expired tokens
    "revoked-post": http_status(401, b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer GONE\r\nContent-Length: 2\r\n\r\n[]"),
    "revoked-feed": handshake_refused(401, "/feed", token="gone"),
    "revoked-ws": handshake_refused(401, "/ws", token="gone"),
    "expired-ws": handshake_refused(401, "/ws", token="old"),
    "no-token-ws": handshake_refused(401, "/ws"),
    # slow-loris
    "slow-loris-head": slow_loris,
    "silent-connection": silent_connection,
    "handshake-flood": handshake_flood,
    # body flood
    "body-without-token": body_before_auth(None, 401),
    "body-with-viewer-token": body_before_auth("screen", 403),
    "body-budget": body_budget,
    # command flood
    "command-flood-json": command_flood(text=False),
    "command-flood-text": command_flood(text=True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_its_documented_answer_and_changes_nothing(corpus, name):
    before = corpus.fingerprint()
    CASES[name](corpus)
    assert corpus.server.running, corpus.server.diagnostics()
    assert corpus.fingerprint() == before, f"{name} changed the database"


# ---- storage faults: a real full filesystem --------------------------------------------------------

STORAGE_CASES = {
    "fill": {**F1, "execId": "D1"},
    "bust": {"type": "bust", "execId": "F1"},
    "correct": correct(qty=1, price="110-16"),
    "mark": {"type": "mark", "instrument": "ZNZ6", "price": "110-17"},
    "sod": {"type": "sod", "account": "ACC2", "instrument": "ZNZ6", "qty": 3, "price": "110-16"},
}


@pytest.fixture(scope="module")
def full_disk_server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    tmp = tmp_path_factory.mktemp("fulldisk")
    disk = tmp / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    server = Server(tmp, echo=False, static=None, sources="none", db_path=disk / "ladderwire.db", extra_args=[], env=None)
    try:
        server.start()
        assert server.post_fills(SEED)[0] == 200
        with open(disk / "filler", "wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        # The WAL may still have room it can reuse: post until a commit needs a block it cannot get.
        for attempt in range(300):
            batch = [{**F1, "execId": f"W{attempt}-{n}"} for n in range(100)]
            if server.post_fills(batch)[0] == 503:
                break
        else:
            pytest.fail("the disk never filled up")
        yield server
    finally:
        server.stop()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("kind", sorted(STORAGE_CASES))
def test_a_storage_fault_refuses_every_message_type_and_changes_nothing(full_disk_server, kind):
    before = table_digest(full_disk_server.db_path)
    status, body = full_disk_server.post_fills([STORAGE_CASES[kind]])
    assert status == 503, body
    assert [e["code"] for e in body["errors"]] == ["storage_error"], body
    assert table_digest(full_disk_server.db_path) == before


def test_the_corpus_has_at_least_40_cases():
    assert len(CASES) + len(STORAGE_CASES) >= 40
