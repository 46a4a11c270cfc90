"""TLS on the one listening port: wss:// and https:// with a certificate made by the openssl CLI.

What is checked: echo over wss at several sizes, TLS 1.3 with ALPN http/1.1, https /healthz,
plain HTTP to the TLS port (a clear-text 400, then close), stalled and garbage handshakes closed by
the handshake timeout while others are served, 1,000 TLS connections, certificate reload on
SIGHUP (new connections see the new certificate, open ones keep working, a bad pair keeps the old
one), start-up errors for unusable files, the slow-consumer cap and graceful shutdown over TLS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from conftest import (OP_BINARY, OP_CLOSE, WS_GUID, PeerClosed, RawWebSocket, build_frame,
                      parse_prometheus, parse_response_head, run_cli)

HANDSHAKE_TIMEOUT = 1.5   # seconds, via limits.tlsHandshakeTimeoutSeconds, so stalled-client tests stay short


# -- certificates ---------------------------------------------------------------------------------

def make_certificate(directory: Path, name: str, common_name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed P-256 certificate for localhost and 127.0.0.1 (the documented one-liner)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line tool is needed to make test certificates")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.cert.pem", directory / f"{name}.key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "30", "-subj", f"/CN={common_name}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def client_context(cert: Path) -> ssl.SSLContext:
    """Trusts exactly `cert`; verifies the host name (127.0.0.1 is in the subjectAltName)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.set_alpn_protocols(["http/1.1"])
    return context


@pytest.fixture
def certs(tmp_path) -> dict[str, tuple[Path, Path]]:
    return {"a": make_certificate(tmp_path / "certs", "a", "ladderwire-a"),
            "b": make_certificate(tmp_path / "certs", "b", "ladderwire-b")}


@pytest.fixture
def tls_server(server_factory, certs, tmp_path):
    """An --echo server on TLS whose certificate files live at fixed paths (so SIGHUP can reload them)."""
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(certs["a"][0], cert)
    shutil.copy(certs["a"][1], key)
    server = server_factory(echo=True, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)],
                            config={"shared": {"limits": {"tlsHandshakeTimeoutSeconds": HANDSHAKE_TIMEOUT}}})
    server.tls_files = (cert, key)
    server.ssl_context = client_context(certs["a"][0])   # for the conftest helpers (metrics, get_json)
    return server


# -- clients --------------------------------------------------------------------------------------

def wss_connect(server, cert: Path, path: str = "/echo", **kw):
    return connect(f"wss://{server.host}:{server.port}{path}", ssl=client_context(cert), ping_interval=None,
                   max_size=None, compression=None, proxy=None, open_timeout=30, close_timeout=10, **kw)


def https_get(server, cert: Path, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"https://{server.host}:{server.port}{path}", context=client_context(cert),
                                timeout=10) as response:
        return response.status, response.read()


def tls_socket(server, cert: Path, *, rcvbuf: int | None = None) -> ssl.SSLSocket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((server.host, server.port))
    return client_context(cert).wrap_socket(sock, server_hostname=server.host)


def peer_certificate(server, cert: Path) -> bytes:
    with tls_socket(server, cert) as sock:
        return sock.getpeercert(binary_form=True)


def pem_to_der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def raw_websocket_over_tls(server, cert: Path, *, rcvbuf: int | None = None) -> RawWebSocket:
    """The strict hand-built client of conftest, over an SSL socket."""
    sock = tls_socket(server, cert, rcvbuf=rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /echo HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    raw = bytearray()
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(4096)
        assert chunk, f"server closed during the upgrade; got {bytes(raw)!r}"
        raw += chunk
    head, _, rest = bytes(raw).partition(b"\r\n\r\n")
    response = parse_response_head(head)
    assert response.status == 101, head
    assert response.header("sec-websocket-accept") == base64.b64encode(
        hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    return RawWebSocket(sock, rest)


def wait_closed_by_server(sock: socket.socket, timeout: float) -> str:
    """Reads (and drops) until the server ends the connection; returns how it ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return "EOF"
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
    raise AssertionError(f"the server kept the connection open for {timeout} s")


def wait_for_log(server, text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.stdout_text():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{server.stdout_text()}"
        time.sleep(0.05)


# -- the tests ------------------------------------------------------------------------------------

def test_listening_line_announces_https_and_wss(tls_server):
    assert tls_server.url.startswith("https://")
    assert tls_server.ws_url.startswith("wss://")
    wait_for_log(tls_server, f"wss://127.0.0.1:{tls_server.port}/ws")   # the line after "listening on"


def test_echo_over_wss_at_several_sizes(tls_server, certs):
    cert = certs["a"][0]
    # Small frames, the 125/126 and 16 KiB record edges, and 1 MiB (many records, partial writes).
    sizes = [0, 1, 125, 126, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 65535, 65536, 300_000, 1 << 20]

    async def scenario():
        async with wss_connect(tls_server, cert) as ws:
            for size in sizes:
                payload = os.urandom(size)
                await ws.send(payload)
                assert await ws.recv() == payload, f"binary echo of {size} bytes came back wrong"
            text = "ünïcode " * 5000
            await ws.send(text)
            assert await ws.recv() == text
            # Many small messages in flight at once: coalesced into records on the way back.
            burst = [f"m{i}" for i in range(500)]
            for message in burst:
                await ws.send(message)
            assert [await ws.recv() for _ in burst] == burst

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_negotiates_tls13_and_alpn_http11(tls_server, certs):
    with tls_socket(tls_server, certs["a"][0]) as sock:
        assert sock.version() == "TLSv1.3"
        assert sock.selected_alpn_protocol() == "http/1.1"
        assert sock.getpeercert(binary_form=True) == pem_to_der(certs["a"][0])


def test_tls12_client_is_served_and_tls11_is_refused(tls_server, certs):
    context = client_context(certs["a"][0])
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((tls_server.host, tls_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=tls_server.host) as sock:
            assert sock.version() == "TLSv1.2"
            assert sock.cipher()[0].startswith("ECDHE-")

    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # offering TLS 1.1 is the point
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1 at all")
    with socket.create_connection((tls_server.host, tls_server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError) as refused:
            old.wrap_socket(raw, server_hostname=tls_server.host)
    # The server's protocol_version alert, not the client giving up on its own.
    assert "ALERT_PROTOCOL_VERSION" in str(refused.value), refused.value


def test_https_healthz_and_metrics(tls_server, certs):
    status, body = https_get(tls_server, certs["a"][0], "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    status, body = https_get(tls_server, certs["a"][0], "/metrics")
    assert status == 200 and parse_prometheus(body.decode())


def test_untrusted_certificate_is_rejected_by_the_client(tls_server, certs):
    # Sanity for the reload tests: trusting only certificate b must fail against a server on a.
    with pytest.raises(ssl.SSLCertVerificationError):
        peer_certificate(tls_server, certs["b"][0])


def test_plain_http_to_the_tls_port_gets_a_clear_text_400_then_close(tls_server, certs):
    with socket.create_connection((tls_server.host, tls_server.port), timeout=10) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{tls_server.port}\r\n\r\n".encode())
        received = bytearray()
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert parse_response_head(head).status == 400, received
    assert b"https://" in body
    # And the port still speaks TLS to everyone else.
    assert https_get(tls_server, certs["a"][0], "/healthz")[0] == 200


def test_stalled_and_garbage_handshakes_are_closed_while_others_are_served(tls_server, certs):
    cert = certs["a"][0]
    silent = socket.create_connection((tls_server.host, tls_server.port), timeout=10)
    # A ClientHello record header promising 512 bytes, then only a few of them.
    partial = socket.create_connection((tls_server.host, tls_server.port), timeout=10)
    partial.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]))
    garbage = socket.create_connection((tls_server.host, tls_server.port), timeout=10)
    garbage.sendall(os.urandom(64).replace(b"\x16", b"\x17"))
    try:
        opened = time.monotonic()

        async def served():
            async with wss_connect(tls_server, cert) as ws:
                for i in range(20):
                    await ws.send(f"still here {i}")
                    assert await ws.recv() == f"still here {i}"

        asyncio.run(asyncio.wait_for(served(), 20))
        assert wait_closed_by_server(garbage, 5)
        assert wait_closed_by_server(silent, HANDSHAKE_TIMEOUT + 5)
        assert wait_closed_by_server(partial, HANDSHAKE_TIMEOUT + 5)
        assert time.monotonic() - opened >= HANDSHAKE_TIMEOUT - 0.1, "closed before the handshake timeout"
    finally:
        for sock in (silent, partial, garbage):
            sock.close()
    assert https_get(tls_server, cert, "/healthz")[0] == 200


def test_a_thousand_tls_connections_echo(tls_server, certs):
    from test_load import raise_fd_limit
    connections = 1000
    raise_fd_limit(2 * connections + 512)
    cert = certs["a"][0]

    async def scenario():
        opening = asyncio.Semaphore(100)

        async def open_one():
            async with opening:
                return await wss_connect(tls_server, cert)

        clients = await asyncio.gather(*(open_one() for _ in range(connections)))
        try:
            status, body = await asyncio.to_thread(https_get, tls_server, cert, "/healthz")
            assert status == 200 and json.loads(body)["connections"] >= connections

            async def echo(i, ws):
                message = f"tls client {i} " + "y" * (i % 700)
                await ws.send(message)
                return await ws.recv() == message

            results = await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(clients)))
            assert all(results), f"{results.count(False)} clients got a wrong echo"
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
        codes = {ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None for ws in clients}
        assert codes == {1000}, f"close codes seen: {codes}"

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert https_get(tls_server, cert, "/healthz")[0] == 200


def test_sighup_reloads_the_certificate_without_dropping_connections(tls_server, certs):
    (cert_a, _), (cert_b, key_b) = certs["a"], certs["b"]
    live_cert, live_key = tls_server.tls_files

    async def scenario():
        async with wss_connect(tls_server, cert_a) as before:
            await before.send("before reload")
            assert await before.recv() == "before reload"

            shutil.copy(cert_b, live_cert)
            shutil.copy(key_b, live_key)
            tls_server.proc.send_signal(signal.SIGHUP)
            await asyncio.to_thread(wait_for_log, tls_server, "reloaded")

            # New connections see certificate b; the one opened before goes on working on a.
            assert await asyncio.to_thread(peer_certificate, tls_server, cert_b) == pem_to_der(cert_b)
            async with wss_connect(tls_server, cert_b) as after:
                await after.send("after reload")
                assert await after.recv() == "after reload"
            payload = os.urandom(200_000)
            await before.send(payload)
            assert await before.recv() == payload

    asyncio.run(asyncio.wait_for(scenario(), 30))
    with pytest.raises(ssl.SSLCertVerificationError):
        peer_certificate(tls_server, cert_a)
    assert tls_server.running


def test_sighup_with_a_mismatched_key_keeps_the_old_certificate(tls_server, certs):
    (cert_a, _), (_, key_b) = certs["a"], certs["b"]
    live_cert, live_key = tls_server.tls_files
    shutil.copy(key_b, live_key)   # certificate a with key b: unusable
    tls_server.proc.send_signal(signal.SIGHUP)
    wait_for_log(tls_server, "reload failed")
    assert "does not match" in tls_server.stdout_text()
    assert peer_certificate(tls_server, cert_a) == pem_to_der(cert_a)
    assert tls_server.running


@pytest.mark.parametrize("problem", ["missing cert", "mismatched key", "key as cert", "unreadable key"])
def test_unusable_certificate_or_key_is_one_clear_line_at_start(certs, tmp_path, problem):
    (cert_a, key_a), (_, key_b) = certs["a"], certs["b"]
    cert, key = cert_a, key_a
    if problem == "missing cert":
        cert = tmp_path / "nope.pem"
    elif problem == "mismatched key":
        key = key_b
    elif problem == "key as cert":
        cert = key_a
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        key = tmp_path / "locked.pem"
        shutil.copy(key_a, key)
        key.chmod(0)
    result = run_cli("serve", "--port", "0", "--db", str(tmp_path / "x.db"), "--sources", "none",
                     "--tls-cert", str(cert), "--tls-key", str(key))
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TLS" in lines[0] and (str(cert) in lines[0] or str(key) in lines[0]), lines[0]
    expected = {"missing cert": "No such file", "mismatched key": "does not match",
                "key as cert": "certificate", "unreadable key": "Permission denied"}[problem]
    assert expected in lines[0], lines[0]
    assert "listening on" not in result.stdout


def test_slow_consumer_over_tls_is_cut_off(tls_server, certs):
    """Same rule as plain TCP for a peer that never reads: /echo stops reading it once more than
    the cap waits (its sends block), and a backlog over the cap that does not shrink within the
    5 s drain window is closed with 4008. Either the server ends it, or it holds no more than the
    cap plus one echo for it (TLS may have taken the rest into a record already)."""
    cert = certs["a"][0]
    slow = raw_websocket_over_tls(tls_server, cert, rcvbuf=4096)
    frame = build_frame(OP_BINARY, os.urandom(64 * 1024))
    sent, cut_off = 0, False
    slow.sock.settimeout(0.5)
    deadline = time.monotonic() + 20
    try:
        while sent < 128 << 20 and time.monotonic() < deadline:
            try:
                slow.sock.sendall(frame)
                sent += len(frame)
            except (socket.timeout, ssl.SSLWantWriteError):
                # A timed-out SSL write may have sent part of a record: the stream is no longer
                # well-framed for the server, so stop here and let the cap (or the error) decide.
                break
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                cut_off = True
                break

        async def fast():
            async with wss_connect(tls_server, cert) as ws:
                for i in range(50):
                    message = os.urandom(4096)
                    await ws.send(message)
                    assert await ws.recv() == message

        asyncio.run(asyncio.wait_for(fast(), 30))
        if not cut_off:
            # The server must end it: a close frame (4008) or the end of TLS/TCP, never silence.
            code, ended = None, "timeout"
            end = time.monotonic() + 15
            while time.monotonic() < end:
                try:
                    received = slow.recv_frame(timeout=end - time.monotonic())
                except TimeoutError:
                    continue
                except (PeerClosed, OSError) as error:
                    ended = repr(error)
                    break
                if received.opcode == OP_CLOSE:
                    code, ended = received.close_code, "close frame"
                    break
            if ended == "timeout":
                status, body = https_get(tls_server, cert, "/metrics")
                queued = parse_prometheus(body.decode())["ladderwire_outbound_queue_bytes"]
                assert queued <= (1 << 20) + 2 * len(frame), \
                    f"the server neither closed the slow consumer nor stopped at the cap: {queued} bytes queued"
            else:
                assert code in (None, 4008), code
                status, body = https_get(tls_server, cert, "/metrics")
                slow_samples = {name: value for name, value in parse_prometheus(body.decode()).items() if "slow" in name.lower()}
                assert any(value >= 1 for value in slow_samples.values()), slow_samples
    finally:
        slow.sock.close()
    assert sent > 1 << 20, f"only {sent} bytes went out: the outbound cap was never reached"



def test_websocket_close_ends_tls_with_close_notify(tls_server, certs):
    ws = raw_websocket_over_tls(tls_server, certs["a"][0])
    try:
        ws.send_text("bye soon")
        assert ws.recv_message()[1] == b"bye soon"
        ws.send_close(1000)
        assert ws.recv_frame().opcode == OP_CLOSE
        # A clean TLS end reads as b"" here; a bare TCP FIN would raise SSLEOFError.
        ws.sock.settimeout(5)
        assert ws.sock.recv(4096) == b""
    finally:
        ws.sock.close()


def test_graceful_shutdown_closes_wss_clients_with_1001(tls_server, certs):
    cert = certs["a"][0]
    received = {}

    async def scenario():
        async with wss_connect(tls_server, cert) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            tls_server.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except Exception:
                pass
            received["code"] = ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None

    tls_server.expected_exit = True
    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert received["code"] == 1001
    assert tls_server.proc.wait(10) == 0
    assert "stopped cleanly" in tls_server.stdout_text()
