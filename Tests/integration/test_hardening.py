"""Hardening (issue 16), end to end against the real binary: Host allowlist (DNS rebinding),
anonymous access tied to the listener, token list/revoke/reload with 4001 closes, trimmed
/healthz, slow-loris limits, bodies refused on their head, aggregated refusal audits, private
files. Every load here is bounded and on loopback."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import RawHttp, run_cli
from test_push_support import add_token, journal_rows, recv_json, write_config, ws_connect, ws_open

MARK = {"type": "mark", "instrument": "ZNZ6", "price": "110-16"}


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def raw(server, data: bytes, *, source: str | None = None, timeout: float = 10.0):
    """Sends `data` on a fresh connection and reads one response."""
    conn = RawHttp(server.host, server.port, timeout=timeout) if source is None else _from(server, source, timeout)
    try:
        conn.send(data)
        return conn.read_response()
    finally:
        conn.sock.close()


def _from(server, source: str, timeout: float) -> RawHttp:
    conn = RawHttp.__new__(RawHttp)
    conn.sock = socket.create_connection((server.host, server.port), timeout=timeout, source_address=(source, 0))
    conn.timeout, conn.buffer, conn.eof = timeout, bytearray(), False
    return conn


def flush_audit(server, token: str | None = None) -> None:
    """Audit rows are written by the pipeline thread; a committed POST after them flushes them."""
    status, body = server.post_fills([MARK], token=token)
    assert status == 200, body


@pytest.fixture
def tokens(server_factory, tmp_path):
    """A server with tokens only (anonymous off) and its token file."""
    path = tmp_path / "tokens.json"
    made = {name: add_token(path, name, role) for name, role in
            [("ops", "admin"), ("feeder", "producer"), ("screen", "viewer")]}
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, path))])
    return server, path, made


# ---- 1. DNS rebinding -------------------------------------------------------------------------

def test_a_foreign_host_is_refused_with_421_and_audited(server_factory, tmp_path):
    server = server_factory(config={"sim": {"allowedHosts": ["desk.example.com"]}})
    port = server.port
    evil = raw(server, f"GET /api/snapshot HTTP/1.1\r\nHost: rebound.attacker.example:{port}\r\n\r\n".encode())
    assert evil.status == 421, evil
    # The sim's anonymous admin is exactly what a rebinding page wants: a day roll must not pass.
    roll = raw(server, f"POST /api/dayroll HTTP/1.1\r\nHost: rebound.attacker.example:{port}\r\nContent-Length: 0\r\n\r\n".encode())
    assert roll.status == 421
    upgrade = raw(server, (f"GET /ws HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    assert upgrade.status == 421
    for good in (f"localhost:{port}", f"127.0.0.1:{port}", "LOCALHOST", "desk.example.com", "desk.example.com:443", f"[::1]:{port}"):
        ok = raw(server, f"GET /api/snapshot HTTP/1.1\r\nHost: {good}\r\n\r\n".encode())
        assert ok.status == 200, (good, ok)
    flush_audit(server)
    rows = journal_rows(server.db_path, "SELECT actor, detail FROM audit WHERE action = 'host_refused'")
    assert rows and all(actor == "127.0.0.1" for actor, _ in rows), rows
    assert any("rebound.attacker.example" in detail for _, detail in rows), rows
    assert journal_rows(server.db_path, "SELECT COUNT(*) FROM audit WHERE action = 'day_roll'")[0][0] == 0


# ---- 2. Anonymous access follows the listener ---------------------------------------------------

def test_anonymous_access_needs_a_loopback_listener_not_a_loopback_peer(server_factory, tmp_path):
    # allowAnonymousViewers on, but the listener is the wildcard: a proxy on this box would make
    # every peer 127.0.0.1, so a local peer must not be enough.
    server = server_factory(config={"sim": {"allowAnonymousViewers": True}}, start=False)
    server.host = "0.0.0.0"
    server.start()
    assert "anonymous access: off" in server.stdout_text(), server.stdout_text()
    refused = raw(server, f"GET /api/snapshot HTTP/1.1\r\nHost: localhost:{server.port}\r\n\r\n".encode())
    assert refused.status == 401, refused


def test_the_banner_says_what_is_open_on_a_loopback_listener(server_factory):
    server = server_factory()
    assert "OPEN: anonymous admin access" in server.stdout_text()
    assert "hosts served:" in server.stdout_text()


def test_uat_and_live_have_anonymous_access_off_and_full_durability():
    env = {"LADDERWIRE_TT_APP_KEY": "k", "LADDERWIRE_TT_APP_SECRET": "s"}
    for name in ("uat", "live"):
        done = run_cli_env(["config", "check", "--env", name], env)
        assert done.returncode == 0, done.stderr
        shown = done.stdout
        assert '"allowAnonymousViewers": false' in shown, shown
        assert '"durability": "full"' in shown, shown


def run_cli_env(args, env):
    import subprocess
    from conftest import ladderwire_binary, REPO_ROOT
    return subprocess.run([str(ladderwire_binary()), *args], capture_output=True, text=True, timeout=20,
                          cwd=str(REPO_ROOT), env={**os.environ, **env}, stdin=subprocess.DEVNULL)


# ---- 3. Tokens ----------------------------------------------------------------------------------

def test_token_list_and_revoke(tmp_path):
    path = tmp_path / "tokens.json"
    secret = add_token(path, "desk", "viewer", accounts=["ACC1"], expires="1h")
    add_token(path, "ops", "admin")
    listed = run_cli("token", "list", "--file", str(path))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["NAME", "ROLE", "ACCOUNTS", "EXPIRES"]
    assert lines[1].startswith("desk\tviewer\tACC1\t20") and lines[2] == "ops\tadmin\t*\tnever", lines
    assert secret not in listed.stdout and json.loads(path.read_text())["tokens"][0]["sha256"] not in listed.stdout
    revoked = run_cli("token", "revoke", "desk", "--file", str(path))
    assert revoked.returncode == 0, revoked.stderr
    assert [t["name"] for t in json.loads(path.read_text())["tokens"]] == ["ops"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    missing = run_cli("token", "revoke", "nobody", "--file", str(path))
    assert missing.returncode == 2 and "no token named 'nobody'" in missing.stderr


def test_revoked_tokens_close_open_connections_with_4001_and_are_audited(tokens):
    server, path, made = tokens
    with ws_connect(server, "/ws", token=made["screen"]) as viewer, \
         ws_connect(server, "/feed", token=made["feeder"]) as feed:
        assert recv_json(viewer)["type"] == "snapshot"
        assert run_cli("token", "revoke", "screen", "--file", str(path)).returncode == 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                viewer.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001, closed.value
        # The producer's token is untouched: its connection goes on.
        feed.send(json.dumps(MARK))
        assert recv_json(feed)["type"] == "ack"
        # SIGHUP reloads too: a token added while running works at once.
        newcomer = add_token(path, "late", "viewer")
        server.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: _status(server, newcomer) == 200)
        assert run_cli("token", "revoke", "feeder", "--file", str(path)).returncode == 0
        server.proc.send_signal(signal.SIGHUP)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                feed.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    flush_audit(server, made["ops"])
    rows = journal_rows(server.db_path, "SELECT action, detail FROM audit WHERE action LIKE 'token_%' ORDER BY id")
    assert ("token_revoke", "screen (viewer)") in rows, rows
    assert ("token_revoke", "feeder (producer)") in rows, rows
    assert any(action == "token_add" and detail.startswith("late (viewer") for action, detail in rows), rows
    assert _status(server, made["screen"]) == 401


def _status(server, token):
    return server.get_json("/api/snapshot", token=token)[0]


def test_far_expiries_are_clear_errors_not_crashes(tmp_path, server_factory):
    path = tmp_path / "tokens.json"
    done = run_cli("token", "add", "far", "--role", "viewer", "--expires", "300000d", "--file", str(path))
    assert done.returncode == 2 and "too far in the future" in done.stderr, done
    done = run_cli("token", "add", "far", "--role", "viewer", "--expires", "99999999999999999d", "--file", str(path))
    assert done.returncode == 2, done
    add_token(path, "ok", "viewer")
    data = json.loads(path.read_text())
    data["tokens"][0]["expires"] = "9999-12-31T00:00:00Z"
    path.write_text(json.dumps(data))
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, path))], start=False)
    with pytest.raises(Exception):
        server.start(timeout=10)
    assert server.proc.returncode == 2, server.diagnostics()
    assert "beyond 2262" in server.stderr_text(), server.stderr_text()


# ---- 4. /healthz shows error texts only to an admin ----------------------------------------------

def test_healthz_hides_error_texts_from_anyone_but_an_admin(server_factory, tmp_path):
    path = tmp_path / "tokens.json"
    admin = add_token(path, "ops", "admin")
    viewer = add_token(path, "screen", "viewer")
    secret_name = tmp_path / "EXEC-SECRET-42.ndjson"
    config = json.loads(write_config(tmp_path, path).read_text())
    config["sim"]["sources"] = {"enabled": ["replay"], "replay": {"file": str(secret_name), "speed": 0, "loop": False}}
    server = server_factory(sources=None, config=config)
    assert wait_for(lambda: server.get_json("/healthz")[1]["monitors"][0]["state"] == "degraded")
    for token in (None, viewer, "lw_wrong"):
        status, health = server.get_json("/healthz", token=token)
        assert status == 200 and health["detailed"] is False
        assert "EXEC-SECRET-42" not in json.dumps(health) and health["monitors"][0]["lastError"] is None
    _, _, metrics = server.request("GET", "/metrics")
    assert b"EXEC-SECRET-42" not in metrics
    status, health = server.get_json("/healthz", token=admin)
    assert health["detailed"] is True and "EXEC-SECRET-42" in health["monitors"][0]["lastError"]


# ---- 5. Slow-loris --------------------------------------------------------------------------------

def test_a_request_head_trickling_in_is_cut_at_the_header_deadline(server_factory):
    server = server_factory(config={"sim": {"limits": {"headerTimeoutSeconds": 1}}})
    conn = RawHttp(server.host, server.port, timeout=10)
    conn.send(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    for i in range(50):   # a header line every 0.2 s for 10 s: never idle, never complete
        readable, _, _ = select.select([conn.sock], [], [], 0.2)
        if readable:
            break
        try:
            conn.send(f"X-Slow-{i}: y\r\n".encode())
        except OSError:
            break
    answered = conn.sock.recv(4096)
    assert answered is not None and answered.startswith(b"HTTP/1.1 408 "), answered


def test_producers_and_viewers_connect_while_one_host_holds_many_half_open_requests(server_factory, tmp_path):
    limits = {"maxConnections": 1000, "maxHandshakesPerAddress": 32, "headerTimeoutSeconds": 60}
    server = server_factory(config={"sim": {"limits": limits}})
    held, refused = [], 0
    try:
        for _ in range(2000):   # one attacking host (127.0.0.2), twice the connection limit
            sock = socket.create_connection((server.host, server.port), timeout=5, source_address=("127.0.0.2", 0))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Half: ")
            held.append(sock)
        # Connections past the per-address cap were answered 503 and closed.
        for sock in held[32:]:
            sock.settimeout(5)
            try:
                data = sock.recv(64)
            except (ConnectionResetError, socket.timeout):
                data = b""
            refused += data.startswith(b"HTTP/1.1 503")
            sock.close()
        assert refused >= 1900, refused
        # Everyone else still gets in: a producer (POST) and a viewer (WebSocket snapshot).
        assert wait_for(lambda: server.post_fills([MARK])[0] == 200), "a producer could not get in"
        with ws_connect(server, "/ws") as viewer:
            assert recv_json(viewer)["type"] == "snapshot"
        metrics = server.metrics()
        # Refused as handshakes over the per-address cap, or (once 1,000 were open) at the connection limit.
        assert metrics['ladderwire_refused_total{reason="handshakes"}'] >= 900, metrics
        assert metrics['ladderwire_refused_total{reason="handshakes"}'] + metrics["ladderwire_connections_rejected_total"] >= 1900
    finally:
        for sock in held:
            sock.close()


def test_one_address_cannot_hold_every_connection(server_factory):
    server = server_factory(config={"sim": {"limits": {"maxConnectionsPerAddress": 20}}})
    held = [socket.create_connection((server.host, server.port), timeout=5, source_address=("127.0.0.3", 0)) for _ in range(20)]
    try:
        extra = socket.create_connection((server.host, server.port), timeout=5, source_address=("127.0.0.3", 0))
        assert extra.recv(64).startswith(b"HTTP/1.1 503")
        extra.close()
        assert server.get_json("/healthz")[0] == 200   # another address is not affected
    finally:
        for sock in held:
            sock.close()


# ---- 6. Bodies --------------------------------------------------------------------------------------

def test_a_body_is_refused_on_its_head_before_it_is_read(tokens):
    server, _, made = tokens
    conn = RawHttp(server.host, server.port, timeout=5)
    conn.send(b"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n[")
    response = conn.read_response()   # answered without the 4 MB
    assert response.status == 401, response
    assert (response.header("connection") or "").lower() == "close"
    conn.sock.close()
    viewer = raw(server, (f"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {made['screen']}\r\n"
                          f"Content-Length: 4000000\r\n\r\n").encode())
    assert viewer.status == 403, viewer


def test_request_bodies_share_one_server_wide_budget(tokens, server_factory, tmp_path):
    _, path, made = tokens
    config = write_config(tmp_path, path, limits={"maxBufferedBodyBytes": 8192})
    server = server_factory(extra_args=["--config", str(config)])
    body = json.dumps([MARK] * 90).encode()
    assert 4096 < len(body) < 8192
    head = (f"POST /api/fills HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {made['feeder']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    first = RawHttp(server.host, server.port, timeout=5)
    first.send(head)
    time.sleep(0.3)   # ordering only: the first head is reserved before the second arrives
    second = raw(server, head)
    assert second.status == 503 and second.header("retry-after") == "1", second
    first.send(body)
    assert first.read_response().status == 200
    first.sock.close()
    assert raw(server, head + body).status == 200   # the budget was released


def test_fills_are_paged_at_1000(server_factory):
    server = server_factory()
    for batch in range(3):
        items = [{"type": "fill", "execId": f"P{batch}-{i}", "account": "ACC1", "instrument": "ZNZ6",
                  "side": "buy" if i % 2 else "sell", "qty": 1, "price": "110-16"} for i in range(400)]
        assert server.post_fills(items)[0] == 200
    status, page = server.get_json("/api/fills?account=ACC1&limit=5000")
    assert status == 200 and len(page["fills"]) == 1000 and page["limit"] == 1000 and page["more"] is True
    status, first = server.get_json("/api/fills?account=ACC1&since=0&limit=700")
    assert len(first["fills"]) == 700 and first["more"] is True and first["next"] == first["fills"][-1]["seq"]
    status, rest = server.get_json(f"/api/fills?account=ACC1&since={first['next']}&limit=700")
    assert len(rest["fills"]) == 500 and rest["more"] is False and rest["next"] is None


# ---- 7. Refusal audits are aggregated; refused connections close ------------------------------------

def test_refusals_are_aggregated_in_the_audit_and_close_the_connection(tokens):
    server, _, made = tokens
    long_path = "/api/snapshot?x=" + "A" * 7000
    for _ in range(30):
        assert raw(server, f"GET {long_path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer lw_bad\r\n\r\n".encode()).status == 401
    # On one keep-alive connection, the third refusal closes it.
    conn = RawHttp(server.host, server.port, timeout=5)
    statuses = []
    for _ in range(3):
        conn.send(b"GET /api/snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = conn.read_response()
        statuses.append((response.status, (response.header("connection") or "").lower()))
    assert statuses == [(401, "keep-alive"), (401, "keep-alive"), (401, "close")], statuses
    assert not conn._fill()   # closed by the server
    flush_audit(server, made["feeder"])
    rows = journal_rows(server.db_path, "SELECT action, detail FROM audit WHERE actor = '127.0.0.1' AND action = 'login_failure'")
    assert len(rows) == 2, rows   # one per kind (unknown token, missing token), not one per request
    assert all(len(detail.encode()) <= 300 for _, detail in rows), [len(d) for _, d in rows]
    server.stop()
    summary = journal_rows(server.db_path, "SELECT detail FROM audit WHERE action = 'refusals_suppressed'")
    assert any(detail.startswith("29 more refusals (login_failure invalid)") for (detail,) in summary), summary


# ---- 8. Private files --------------------------------------------------------------------------------

def test_database_wal_and_token_files_are_private(server_factory, tmp_path):
    path = tmp_path / "tokens.json"
    add_token(path, "ops", "admin")
    server = server_factory()
    flush_audit(server)
    for file in (server.db_path, Path(str(server.db_path) + "-wal"), path):
        assert file.exists(), file
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, (file, oct(file.stat().st_mode))


# ---- JSON pings are keep-alives, not commands -----------------------------------------------------

def test_json_pings_are_answered_beyond_the_command_budget(server_factory):
    """The command rate (burst 20) must not count pings: a client pinging fast stays connected
    and gets every pong, while anything else that is not a ping still counts."""
    server = server_factory()
    with ws_connect(server, "/ws") as ws:
        recv_json(ws)   # the snapshot
        for i in range(100):
            ws.send(json.dumps({"type": "ping", "id": i}))
        pongs = [recv_json(ws) for _ in range(100)]
        assert [p["id"] for p in pongs] == list(range(100)) and all(p["type"] == "pong" for p in pongs)
        # A command that merely mentions "ping" is a command: the budget runs out.
        for _ in range(30):
            ws.send(json.dumps({"type": "subscribe", "accounts": ["ping"]}))
        seen_rate_limited = False
        for _ in range(60):
            message = recv_json(ws)
            if message.get("code") == "rate_limited":
                seen_rate_limited = True
                break
        assert seen_rate_limited


# ---- New /ws sessions per address: a burst, then a rate --------------------------------------------

def test_new_subscriptions_per_address_are_rate_limited_with_429(server_factory):
    """A viewer reconnecting in a loop gets a fresh command budget each time; every session costs
    a snapshot. Past the burst, the upgrade is answered 429 + Retry-After, per address only."""
    server = server_factory(config={"shared": {"limits": {"viewerRequestsPerAddressBurst": 3,
                                                          "viewerRequestsPerAddressPerSecond": 1}}})
    opened = []
    for _ in range(3):
        ws = ws_open(server, "/ws")
        assert recv_json(ws)["type"] == "snapshot"
        opened.append(ws)
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(server, "/ws")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers.get("Retry-After") == "1"
    # Another address is not affected.
    other = raw(server, b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", source="127.0.0.2")
    assert other.status == 101, other
    time.sleep(1.1)   # one token back at 1/s
    with ws_connect(server, "/ws") as again:
        assert recv_json(again)["type"] == "snapshot"
    for ws in opened:
        ws.close()
    _, _, metrics = server.request("GET", "/metrics")
    assert b'ladderwire_refused_total{reason="subscription_rate"} 1' in metrics


def test_client_commands_share_the_address_budget_with_new_sessions(server_factory):
    """The connection's own budget (burst 20) is not enough: its host's budget is shared by all
    its connections, so reconnecting does not buy a fresh one."""
    server = server_factory(config={"shared": {"limits": {"viewerRequestsPerAddressBurst": 4,
                                                          "viewerRequestsPerAddressPerSecond": 0.01}}})
    with ws_connect(server, "/ws") as ws:                       # 1 of 4
        assert recv_json(ws)["type"] == "snapshot"
        for _ in range(6):
            ws.send(json.dumps({"type": "subscribe", "accounts": ["ACC1"]}))
        # Three are taken, the rest dropped with the one `rate_limited` error a second. Each taken
        # `subscribe` gets its snapshot unless a later one supersedes it before it is out.
        messages = []
        while not (any(m.get("code") == "rate_limited" for m in messages) and any(m["type"] == "snapshot" for m in messages)):
            message = recv_json(ws)
            if message["type"] != "heartbeat":   # heartbeats may come in between on a loaded machine
                messages.append(message)
        snapshots = [m for m in messages if m["type"] == "snapshot"]
        errors = [m for m in messages if m["type"] == "error"]
        assert 1 <= len(snapshots) <= 3 and len(errors) == 1, [m["type"] for m in messages]
        assert snapshots[-1]["filter"]["accounts"] == ["ACC1"]
    with pytest.raises(InvalidStatus) as refused:              # the host's budget is spent
        ws_connect(server, "/ws")
    assert refused.value.response.status_code == 429
