"""permessage-deflate (RFC 7692) and the message limits of /echo, end to end: the `websockets`
library with compression on (its default), and raw-socket frames for what a library will not
send (RSV1 in the wrong place, bombs, corrupt data, every parameter of the offer).

Each Autobahn case class Ladderwire once failed has a test here: 9.1.x/9.2.x (messages of 4-16 MiB
were refused with 1009, and their echo was cut with 4008 although the client read at full
speed) and 9.3.x/9.4.x (4 MiB in 64-byte fragments passed the frame-count limit); 12.x/13.x
(compression with every parameter) had no implementation at all.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import zlib

import pytest
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from conftest import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, RawWebSocket, build_frame

MIB = 1 << 20
TAIL = b"\x00\x00\xff\xff"


def run(coro, timeout: float = 120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def deflate_client(server, path="/echo", **kw):
    """The library client as an application would use it: compression on (its default offer)."""
    kw.setdefault("ping_interval", None)
    kw.setdefault("max_size", None)
    kw.setdefault("proxy", None)
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    return connect(server.ws_url + path, **kw)


def compress(data: bytes, wbits: int = 15) -> bytes:
    """One permessage-deflate payload, as RFC 7692 7.2.1 makes it (sync flush, tail removed)."""
    deflater = zlib.compressobj(wbits=-wbits)
    out = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def raw_deflate(server, offer="permessage-deflate", path="/echo", **kw) -> RawWebSocket:
    return RawWebSocket.connect(server.host, server.port, path, headers={"Sec-WebSocket-Extensions": offer}, **kw)


def recv_inflated(ws: RawWebSocket, wbits: int = 15, timeout: float = 30) -> tuple[int, bytes, bool]:
    """The next data message: (opcode, payload after inflating, whether it came compressed)."""
    opcode, compressed, parts = None, False, []
    while True:
        frame = ws.recv_frame(timeout)
        if frame.opcode == OP_PING:
            ws.send_frame(0xA, frame.payload)
            continue
        assert frame.opcode != OP_CLOSE, f"server closed with {frame.close_code} {frame.close_reason!r}"
        if opcode is None:
            opcode, compressed = frame.opcode, frame.rsv == 4
        else:
            assert frame.opcode == OP_CONT and frame.rsv == 0
        parts.append(frame.payload)
        if frame.fin:
            break
    payload = b"".join(parts)
    if compressed:
        payload = zlib.decompressobj(wbits=-wbits).decompress(payload + TAIL)
    return opcode, payload, compressed


def close_code_of(ws: RawWebSocket, timeout: float = 30) -> int | None:
    while True:
        frame = ws.recv_frame(timeout)
        if frame.opcode == OP_CLOSE:
            return frame.close_code


def json_like_text(n: int) -> bytes:
    line = b'{"type":"position","account":"ACC1","instrument":"ZNZ6","net":3,"avgPrice":"110-16.5"}\n'
    return (line * (n // len(line) + 1))[:n]


# -- the Python websockets library, compression on -------------------------------------------

@pytest.mark.parametrize("size", [0, 200, 70_000, 4 * MIB], ids=["empty", "200B", "70KB", "4MiB"])
def test_websockets_with_compression_negotiates_and_echoes(server, size):
    message = json_like_text(size).decode()

    async def scenario():
        async with deflate_client(server) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
            await ws.send(message)
            text = await ws.recv()
            await ws.send(message.encode())
            binary = await ws.recv()
            return extensions, text, binary

    extensions, text, binary = run(scenario())
    assert extensions.startswith("permessage-deflate"), extensions
    assert "server_no_context_takeover" in extensions
    assert text == message and binary == message.encode()


@pytest.mark.parametrize("settings", [
    dict(),
    dict(client_no_context_takeover=True),
    dict(server_no_context_takeover=True),
    dict(server_max_window_bits=9),
    dict(server_max_window_bits=15, client_max_window_bits=9),
    dict(client_max_window_bits=True),
], ids=["plain", "client-nct", "server-nct", "server-9", "server-15-client-9", "client-bits-novalue"])
def test_websockets_with_every_parameter_gets_the_same_messages(server, settings):
    messages = [json_like_text(n).decode() for n in (10, 300, 5000, 100_000)] * 3

    async def scenario():
        factory = ClientPerMessageDeflateFactory(**settings)
        async with deflate_client(server, extensions=[factory], compression=None) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
            got = []
            for message in messages:
                await ws.send(message)
                got.append(await ws.recv())
            return extensions, got

    extensions, got = run(scenario())
    assert "permessage-deflate" in extensions
    assert got == messages


# -- raw frames: negotiation -----------------------------------------------------------------

@pytest.mark.parametrize("offer, expected", [
    ("permessage-deflate", "permessage-deflate; server_no_context_takeover"),
    ("permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover"),
    ("permessage-deflate; client_no_context_takeover",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    ("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
    ("permessage-deflate; mystery=1, permessage-deflate; server_max_window_bits=8",
     "permessage-deflate; server_no_context_takeover; server_max_window_bits=8"),
    ("x-webkit-deflate-frame", None),
    ("permessage-deflate; server_max_window_bits=16", None),
    ("permessage-deflate; client_no_context_takeover=1", None),
], ids=["plain", "client-bits", "client-nct", "server-10", "several-offers", "other-extension", "bad-window", "bad-value"])
def test_the_offer_is_answered_per_rfc_7692(server, offer, expected):
    with raw_deflate(server, offer) as ws:
        assert ws.response.header("sec-websocket-extensions") == expected
        payload = json_like_text(3000)
        if expected is None:
            ws.send_text(payload)
            opcode, echoed, compressed = recv_inflated(ws)
            assert not compressed
        else:
            ws.send_frame(OP_TEXT, compress(payload), rsv=4)
            bits = int(expected.rsplit("=", 1)[1]) if "server_max_window_bits" in expected else 15
            opcode, echoed, compressed = recv_inflated(ws, wbits=max(bits, 9) if bits > 8 else 8)
            assert compressed
        assert opcode == OP_TEXT and echoed == payload


def test_the_server_window_of_8_uses_no_back_references(server):
    """zlib cannot make a raw 256-byte window; the server sends Huffman-only blocks, which a
    peer with a 256-byte window inflates."""
    with raw_deflate(server, "permessage-deflate; server_max_window_bits=8") as ws:
        payload = json_like_text(50_000)
        ws.send_binary(payload)
        _, echoed, compressed = recv_inflated(ws, wbits=8)
        assert compressed and echoed == payload


def test_the_rfcs_compressed_and_fragmented_hello(server):
    with raw_deflate(server) as ws:
        ws.send_frame(OP_TEXT, bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), rsv=4)
        assert recv_inflated(ws)[1] == b"Hello"
        ws.send_frame(OP_TEXT, bytes([0xF2, 0x48, 0xCD]), rsv=4, fin=False)
        ws.send_frame(OP_CONT, bytes([0xC9, 0xC9, 0x07, 0x00]))
        assert recv_inflated(ws)[1] == b"Hello"


def test_context_takeover_from_the_client_is_inflated_across_messages(server):
    deflater = zlib.compressobj(wbits=-15)
    with raw_deflate(server) as ws:
        payload = json_like_text(4000)
        for _ in range(3):
            data = deflater.compress(payload) + deflater.flush(zlib.Z_SYNC_FLUSH)
            ws.send_frame(OP_BINARY, data[:-4], rsv=4)
            assert recv_inflated(ws)[1] == payload


def test_a_compressed_message_in_many_fragments(server):
    payload = json_like_text(200_000)
    data = compress(payload)
    with raw_deflate(server) as ws:
        pieces = [data[i:i + 64] for i in range(0, len(data), 64)]
        for index, piece in enumerate(pieces):
            ws.send_frame(OP_TEXT if index == 0 else OP_CONT, piece, rsv=4 if index == 0 else 0,
                          fin=index == len(pieces) - 1)
        assert recv_inflated(ws)[1] == payload


# -- raw frames: violations ------------------------------------------------------------------

@pytest.mark.parametrize("case", ["rsv1-continuation", "rsv1-ping", "rsv2", "rsv1-not-agreed"])
def test_misplaced_reserved_bits_are_1002(server, case):
    offer = "x-unknown" if case == "rsv1-not-agreed" else "permessage-deflate"
    with raw_deflate(server, offer) as ws:
        if case == "rsv1-continuation":
            ws.send_frame(OP_TEXT, compress(b"Hello")[:2], rsv=4, fin=False)
            ws.send_frame(OP_CONT, compress(b"Hello")[2:], rsv=4)
        elif case == "rsv1-ping":
            ws.send_frame(OP_PING, b"", rsv=4)
        elif case == "rsv2":
            ws.send_frame(OP_TEXT, compress(b"Hello"), rsv=2)
        else:
            ws.send_frame(OP_TEXT, compress(b"Hello"), rsv=4)
        assert close_code_of(ws) == 1002


def test_corrupt_compressed_data_is_1007(server):
    with raw_deflate(server) as ws:
        ws.send_frame(OP_BINARY, b"\xff\xff\xff\xff", rsv=4)
        assert close_code_of(ws) == 1007


def test_compressed_text_that_is_not_utf8_is_1007(server):
    with raw_deflate(server) as ws:
        ws.send_frame(OP_TEXT, compress(b"ok \xc3\x28 not"), rsv=4)
        assert close_code_of(ws) == 1007


@pytest.mark.parametrize("path, inflated", [("/echo", 17 * MIB), ("/ws", 2 * MIB)], ids=["echo-16MiB", "ws-1MiB"])
def test_a_decompression_bomb_is_1009_without_inflating_it_all(server, path, inflated):
    """A few KiB that inflate past the endpoint's message limit: 1009, and the server's memory
    does not take the whole inflated size (it stops at the limit)."""
    bomb = compress(b"\0" * inflated)
    assert len(bomb) < 32 * 1024
    with raw_deflate(server, path=path) as ws:
        if path == "/ws":
            recv_inflated(ws)   # the snapshot
        ws.send_frame(OP_TEXT, bomb, rsv=4)
        assert close_code_of(ws) == 1009
    with raw_deflate(server) as other:   # still serving
        other.send_text("alive")
        assert recv_inflated(other)[1] == b"alive"


# -- /echo limits (Autobahn 9.x) -------------------------------------------------------------

@pytest.mark.parametrize("compression", [None, "deflate"], ids=["plain", "deflate"])
def test_a_16_mib_message_echoes_whole_and_is_not_a_slow_consumer(server, compression):
    """Autobahn 9.1.6/9.2.6: the echo of 16 MiB is far above the 1 MiB outbound cap; a client
    reading at full speed must get it, not 4008."""
    message = os.urandom(8 * MIB) + json_like_text(8 * MIB)

    async def scenario():
        async with deflate_client(server, compression=compression) as ws:
            await ws.send(message)
            return await ws.recv()

    assert run(scenario()) == message
    assert server.metrics()["ladderwire_slow_consumer_disconnects_total"] == 0


def test_a_message_over_16_mib_is_1009(server):
    with RawWebSocket.connect(server.host, server.port, "/echo") as ws:
        ws.send_raw(build_frame(OP_BINARY, b"", fin=False))
        header = bytes([0x00, 0xFF]) + struct.pack("!Q", 16 * MIB + 1) + b"\0\0\0\0"
        ws.send_raw(header)
        assert close_code_of(ws) == 1009


@pytest.mark.parametrize("fragment", [64, 256], ids=["64B", "256B"])
def test_4_mib_in_tiny_fragments_echoes(server, fragment):
    """Autobahn 9.3.x/9.4.x: 4 MiB split into 64- to 256-byte frames (65,536 frames)."""
    payload = json_like_text(4 * MIB)
    frames = bytearray()
    for index in range(0, len(payload), fragment):
        last = index + fragment >= len(payload)
        frames += build_frame(OP_TEXT if index == 0 else OP_CONT, payload[index:index + fragment], fin=last)
    with RawWebSocket.connect(server.host, server.port, "/echo") as ws:
        ws.send_raw(bytes(frames))
        opcode, echoed = ws.recv_message(timeout=60)
        assert opcode == OP_TEXT and echoed == payload


def test_ws_keeps_its_tight_limits_under_echo(server):
    """/ws under --echo still refuses a 1 MiB + 1 command (its limit is the configured one)."""
    with RawWebSocket.connect(server.host, server.port, "/ws") as ws:
        ws.recv_message()   # snapshot
        ws.send_frame(OP_TEXT, b" " * (MIB + 1))
        assert close_code_of(ws) == 1009


# -- configuration and metrics ---------------------------------------------------------------

def test_compression_off_declines_the_offer(server_factory):
    server = server_factory(echo=True, config={"shared": {"compression": {"echo": "off", "ws": "off"}}})
    for path in ("/echo", "/ws"):
        with raw_deflate(server, path=path) as ws:
            assert ws.response.header("sec-websocket-extensions") is None
            if path == "/echo":
                ws.send_frame(OP_TEXT, compress(b"Hello"), rsv=4)
                assert close_code_of(ws) == 1002


def test_auto_leaves_small_messages_uncompressed_and_on_compresses_all(server_factory):
    auto = server_factory(echo=True, config={"shared": {"compression": {"echo": "auto", "minBytes": 500}}})
    with raw_deflate(auto) as ws:
        ws.send_text(json_like_text(400))
        assert recv_inflated(ws)[2] is False
        ws.send_text(json_like_text(600))
        assert recv_inflated(ws)[2] is True
    on = server_factory(echo=True, config={"shared": {"compression": {"echo": "on"}}})
    with raw_deflate(on) as ws:
        ws.send_text(b"x")
        assert recv_inflated(ws) == (OP_TEXT, b"x", True)


def test_metrics_count_bytes_before_and_after_compression(server):
    with raw_deflate(server) as ws:
        ws.send_text(json_like_text(100_000))
        recv_inflated(ws)
    metrics = server.metrics()
    before = metrics['ladderwire_deflate_bytes_total{stage="before"}']
    after = metrics['ladderwire_deflate_bytes_total{stage="after"}']
    assert before >= 100_000 and 0 < after < before / 5, (before, after)


def test_ws_with_deflate_gets_the_same_messages_as_a_plain_client(server):
    """A compressed and an uncompressed subscriber on /ws: the same deltas, byte for byte."""
    from websockets.sync.client import connect as sync_connect
    from test_push_support import ws_connect as plain_connect

    fills = [{"type": "fill", "execId": f"D{i}", "account": "ACC1", "instrument": "ZNZ6", "side": "buy" if i % 2 else "sell",
              "qty": 1 + i % 3, "price": "110-16"} for i in range(40)]
    with plain_connect(server, "/ws") as plain, sync_connect(server.ws_url + "/ws", open_timeout=10, max_size=None, proxy=None) as packed:
        assert "permessage-deflate" in packed.response.headers.get("Sec-WebSocket-Extensions", "")
        assert plain.response.headers.get("Sec-WebSocket-Extensions") is None
        snapshot_plain, snapshot_packed = json.loads(plain.recv(timeout=10)), json.loads(packed.recv(timeout=10))
        assert snapshot_plain["seq"] == snapshot_packed["seq"]
        status, body = server.post_fills(fills)
        assert status == 200, body
        last = body["results"][-1]["seq"]

        def deltas(ws):
            """Every message up to the last fill's own `fill` delta (heartbeats aside: their
            time depends on when each client was last sent something)."""
            got = []
            while True:
                raw = ws.recv(timeout=10)
                message = json.loads(raw)
                if message.get("type") == "heartbeat":
                    continue
                got.append(raw)
                if message.get("type") == "fill" and message.get("seq") == last:
                    return got

        a, b = deltas(plain), deltas(packed)
    assert a == b
    assert len(a) >= 40

