"""RFC 6455 violations sent by a raw socket client; each must get the exact close code, then TCP close.

The raw client (conftest.RawWebSocket) builds frames by hand so it can be wrong on purpose, and
reads the server's frames strictly (unmasked, RSV clear, short final control frames).
"""

from __future__ import annotations

import base64
import os

import pytest

from conftest import (MIB, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawHttp,
                      RawWebSocket, build_frame, close_payload)


@pytest.fixture
def ws(server):
    with RawWebSocket.connect(server.host, server.port, "/echo") as client:
        yield client


def assert_closed_with(client: RawWebSocket, code: int) -> None:
    frame = client.expect_close()
    assert frame.close_code == code, f"expected close {code}, got {frame.close_code} {frame.close_reason!r}"


def test_the_raw_client_itself_works(ws):
    # Guards every test below: a clean exchange and a clean close with this client.
    ws.send_text("é€😀")
    assert ws.recv_message() == (OP_TEXT, "é€😀".encode())
    ws.send_close(1000)
    assert_closed_with(ws, 1000)


def test_server_closes_tcp_even_if_the_client_never_answers_its_close(ws):
    # After failing the connection the server must not wait forever for our close frame.
    ws.send_frame(OP_TEXT, b"x", mask=False)
    frame = ws.recv_frame()
    while frame.opcode != OP_CLOSE:
        frame = ws.recv_frame()
    assert frame.close_code == 1002
    ws.expect_tcp_closed(timeout=10)   # no close reply from us


# -- framing ----------------------------------------------------------------------------------

def test_unmasked_frame_is_1002(ws):
    ws.send_frame(OP_TEXT, b"hello", mask=False)
    assert_closed_with(ws, 1002)


@pytest.mark.parametrize("rsv", [1, 2, 4, 7], ids=["rsv3", "rsv2", "rsv1", "all"])
def test_rsv_bits_without_extension_are_1002(ws, rsv):
    ws.send_frame(OP_TEXT, b"hello", rsv=rsv)
    assert_closed_with(ws, 1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcode_is_1002(ws, opcode):
    ws.send_frame(opcode, b"x")
    assert_closed_with(ws, 1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE], ids=["ping", "pong", "close"])
def test_control_frame_over_125_bytes_is_1002(ws, opcode):
    payload = close_payload(1000, b"r" * 124) if opcode == OP_CLOSE else b"p" * 126
    assert len(payload) == 126
    ws.send_frame(opcode, payload)
    assert_closed_with(ws, 1002)


def test_fragmented_ping_is_1002(ws):
    ws.send_frame(OP_PING, b"part", fin=False)
    assert_closed_with(ws, 1002)


def test_continuation_without_a_start_is_1002(ws):
    ws.send_frame(OP_CONT, b"orphan", fin=True)
    assert_closed_with(ws, 1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_new_data_frame_inside_a_fragmented_message_is_1002(ws, second):
    ws.send_frame(OP_TEXT, b"first half", fin=False)
    ws.send_frame(second, b"intruder", fin=True)
    assert_closed_with(ws, 1002)


def test_64bit_length_with_most_significant_bit_set_is_1002(ws):
    # RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0.
    ws.send_raw(build_frame(OP_BINARY, b"", declared_length=(1 << 63) | 10))
    assert_closed_with(ws, 1002)


def test_declared_length_over_the_limit_is_1009_before_the_payload(ws):
    # Only the header (with its mask key) is sent: the server must decide from the length alone.
    ws.send_raw(build_frame(OP_BINARY, b"", declared_length=16 * MIB + 1))   # /echo takes 16 MiB
    assert_closed_with(ws, 1009)


def test_declared_length_of_exactly_the_limit_is_accepted(ws):
    payload = os.urandom(MIB)
    ws.send_frame(OP_BINARY, payload)
    assert ws.recv_message(timeout=30) == (OP_BINARY, payload)


# -- close frames -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_code_is_1002(ws, code):
    ws.send_frame(OP_CLOSE, close_payload(code))
    assert_closed_with(ws, 1002)


def test_one_byte_close_payload_is_1002(ws):
    ws.send_frame(OP_CLOSE, b"\x03")
    assert_closed_with(ws, 1002)


def test_close_reason_not_utf8_is_1007(ws):
    ws.send_frame(OP_CLOSE, close_payload(1000, b"bad \xff\xfe reason"))
    assert_closed_with(ws, 1007)


def test_close_with_valid_utf8_reason_is_echoed(ws):
    ws.send_frame(OP_CLOSE, close_payload(3001, "fermé €".encode()))
    assert_closed_with(ws, 3001)


def test_empty_close_is_answered_and_tcp_closed(ws):
    ws.send_frame(OP_CLOSE, b"")
    frame = ws.expect_close()
    assert frame.close_code in (None, 1000)


# -- UTF-8 ------------------------------------------------------------------------------------

INVALID_UTF8 = {
    "overlong_2byte_slash": b"\xc0\xaf",
    "overlong_3byte_slash": b"\xe0\x80\xaf",
    "overlong_4byte_nul": b"\xf0\x80\x80\x80",
    "surrogate_high": b"\xed\xa0\x80",
    "surrogate_low": b"\xed\xbf\xbf",
    "above_10ffff": b"\xf4\x90\x80\x80",
    "f5_lead_byte": b"\xf5\x80\x80\x80",
    "ff_byte": b"\xff",
    "lone_continuation": b"\x80",
    "truncated_at_end": b"euro \xe2\x82",
    "truncated_then_ascii": b"\xe2\x82 x",
}


@pytest.mark.parametrize("payload", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_invalid_utf8_text_is_1007(ws, payload):
    ws.send_frame(OP_TEXT, b"valid prefix " + payload)
    assert_closed_with(ws, 1007)


def test_invalid_utf8_in_first_fragment_fails_fast(ws):
    # Only the first fragment is sent; the message never completes, yet the close must come.
    ws.send_frame(OP_TEXT, b"ok \xed\xa0\x80 and more", fin=False)
    assert_closed_with(ws, 1007)


def test_invalid_utf8_in_a_later_fragment_is_1007(ws):
    ws.send_frame(OP_TEXT, b"fine so far ", fin=False)
    ws.send_frame(OP_CONT, b"\xc0\xaf", fin=False)
    assert_closed_with(ws, 1007)


def test_binary_message_is_not_checked_for_utf8(ws):
    ws.send_frame(OP_BINARY, b"\xc0\xaf\xff")
    assert ws.recv_message() == (OP_BINARY, b"\xc0\xaf\xff")


@pytest.mark.parametrize("splits", [
    ("a\u20acb", [2, 3]),          # € = e2 82 ac split after every byte
    ("\U0001F600!", [1]),          # 😀 = f0 9f 98 80 split 1 + 3
    ("\U0001F600!", [3]),          # split 3 + 1
], ids=["euro_per_byte", "emoji_1_3", "emoji_3_1"])
def test_multibyte_character_split_across_fragments_is_echoed(ws, splits):
    text, cuts = splits
    data = text.encode()
    bounds = [0, *cuts, len(data)]
    pieces = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    for i, piece in enumerate(pieces):
        ws.send_frame(OP_TEXT if i == 0 else OP_CONT, piece, fin=(i == len(pieces) - 1))
    assert ws.recv_message() == (OP_TEXT, data)


def test_truncated_character_at_end_of_a_non_final_fragment_is_not_an_error(ws):
    # "\xe2\x82" may still be completed by the next fragment: no close yet.
    ws.send_frame(OP_TEXT, b"euro \xe2\x82", fin=False)
    ws.send_frame(OP_PING, b"still there?")
    pong = ws.recv_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"still there?")
    ws.send_frame(OP_CONT, b"\xac", fin=True)
    assert ws.recv_message() == (OP_TEXT, "euro €".encode())


# -- control frames interleaved ------------------------------------------------------------------

def test_ping_between_fragments_is_answered_before_the_message_completes(ws):
    ws.send_frame(OP_TEXT, b"hel", fin=False)
    ws.send_frame(OP_PING, b"between")
    frame = ws.recv_frame()
    assert (frame.opcode, frame.payload) == (OP_PONG, b"between"), \
        "the pong must come before the message it interrupts is complete"
    ws.send_frame(OP_CONT, b"lo", fin=True)
    assert ws.recv_message() == (OP_TEXT, b"hello")


def test_ping_gets_pong_with_identical_payload(ws):
    payload = bytes(range(125))
    ws.send_frame(OP_PING, payload)
    frame = ws.recv_frame()
    assert (frame.opcode, frame.payload) == (OP_PONG, payload)


def test_unsolicited_pong_is_ignored(ws):
    ws.send_frame(OP_PONG, b"nobody asked")
    ws.send_text("after pong")
    assert ws.recv_message() == (OP_TEXT, b"after pong")


def test_frames_split_across_tcp_segments_are_reassembled(ws):
    # Byte-at-a-time delivery: the parser must not assume a frame arrives in one read.
    frame = build_frame(OP_TEXT, "drip €".encode())
    for i in range(len(frame)):
        ws.send_raw(frame[i:i + 1])
    assert ws.recv_message() == (OP_TEXT, "drip €".encode())


def test_several_frames_in_one_tcp_segment_are_all_handled(ws):
    burst = b"".join(build_frame(OP_TEXT, f"m{i}".encode()) for i in range(50))
    ws.send_raw(burst + build_frame(OP_PING, b"end"))
    replies, pongs = [], []
    while len(replies) < 50 or not pongs:   # a pong may overtake queued echoes: both orders are fine
        frame = ws.recv_frame()
        (pongs if frame.opcode == OP_PONG else replies).append(frame)
    assert [(f.opcode, f.payload) for f in replies] == [(OP_TEXT, f"m{i}".encode()) for i in range(50)]
    assert [f.payload for f in pongs] == [b"end"]


def test_nothing_is_processed_after_the_client_close(ws):
    # Data after a close frame must be ignored (RFC 6455 5.5.1): no echo may follow the close.
    ws.send_raw(build_frame(OP_CLOSE, close_payload(1000)) + build_frame(OP_TEXT, b"too late"))
    first = ws.recv_frame()
    while first.opcode in (OP_PING, OP_PONG):
        first = ws.recv_frame()
    assert first.opcode == OP_CLOSE and first.close_code == 1000, f"got {first}"
    ws.expect_tcp_closed()


def test_peer_that_never_answers_pings_is_closed_1001(server_factory):
    # 1 s ping interval (and pong timeout): a peer that reads but never pongs is dead to the server.
    server = server_factory(echo=True, config={"shared": {"limits": {"pingIntervalSeconds": 1}}})
    with RawWebSocket.connect(server.host, server.port, "/echo") as client:
        pings = 0
        while True:
            frame = client.recv_frame(timeout=10)
            if frame.opcode == OP_PING:
                pings += 1     # deliberately not answered
            elif frame.opcode == OP_CLOSE:
                break
        assert pings >= 1
        assert frame.close_code == 1001, (frame.close_code, frame.close_reason)
        client.send_close(1001)
        client.expect_tcp_closed()


# -- handshake failures over raw HTTP ------------------------------------------------------------

def upgrade_request(server, *, method="GET", version="HTTP/1.1", path="/echo", drop=(), override=None) -> bytes:
    headers = {
        "Host": f"{server.host}:{server.port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    headers.update(override or {})
    lines = [f"{method} {path} {version}"] + [f"{k}: {v}" for k, v in headers.items() if k not in drop]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def handshake(server, raw: bytes):
    with RawHttp(server.host, server.port) as conn:
        return conn.request(raw)


def test_missing_upgrade_header_is_rejected(server):
    response = handshake(server, upgrade_request(server, drop=("Upgrade",)))
    assert response.status in (400, 426), response


def test_missing_connection_upgrade_is_rejected(server):
    response = handshake(server, upgrade_request(server, override={"Connection": "keep-alive"}))
    assert response.status in (400, 426), response


def test_missing_key_is_400(server):
    response = handshake(server, upgrade_request(server, drop=("Sec-WebSocket-Key",)))
    assert response.status == 400


@pytest.mark.parametrize("key", [
    base64.b64encode(b"x" * 15).decode(),
    base64.b64encode(b"x" * 17).decode(),
    "not base64 at all!!!!!!!",
    "",
], ids=["15_bytes", "17_bytes", "not_base64", "empty"])
def test_bad_key_is_400(server, key):
    response = handshake(server, upgrade_request(server, override={"Sec-WebSocket-Key": key}))
    assert response.status == 400, response


@pytest.mark.parametrize("version", ["8", "12", "14", ""])
def test_unsupported_version_is_426_naming_13(server, version):
    response = handshake(server, upgrade_request(server, override={"Sec-WebSocket-Version": version}))
    assert response.status == 426, response
    assert response.header("sec-websocket-version") == "13"


def test_post_upgrade_is_rejected(server):
    response = handshake(server, upgrade_request(server, method="POST"))
    assert response.status in (400, 405), response


def test_http_1_0_upgrade_is_400(server):
    response = handshake(server, upgrade_request(server, version="HTTP/1.0"))
    assert response.status == 400, response


def test_upgrade_on_unknown_path_is_404(server):
    response = handshake(server, upgrade_request(server, path="/no-such-socket"))
    assert response.status == 404


@pytest.mark.parametrize("connection,upgrade", [
    ("keep-alive, Upgrade", "websocket"),   # what Firefox sends
    ("upgrade", "WebSocket"),               # tokens are case-insensitive
])
def test_upgrade_tokens_are_parsed_as_lists_and_case_insensitively(server, connection, upgrade):
    raw = upgrade_request(server, override={"Connection": connection, "Upgrade": upgrade})
    with RawHttp(server.host, server.port) as conn:
        conn.send(raw)
        response = conn.read_response(head_request=True)
        assert response.status == 101, response


def test_first_frame_in_the_same_segment_as_the_handshake_is_not_lost(server):
    # Bytes after the request head belong to the WebSocket: a server that drops its HTTP read
    # buffer at the upgrade loses them.
    request = upgrade_request(server)
    with RawHttp(server.host, server.port) as conn:
        conn.send(request + build_frame(OP_TEXT, b"eager") + build_frame(OP_PING, b"p"))
        response = conn.read_response(head_request=True)
        assert response.status == 101
        ws = RawWebSocket(conn.sock, bytes(conn.buffer))
        assert ws.recv_message() == (OP_TEXT, b"eager")


def test_upgrade_after_a_plain_request_on_a_kept_alive_connection(server):
    with RawHttp(server.host, server.port) as conn:
        first = conn.request(f"GET /healthz HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode())
        assert first.status == 200
        conn.send(upgrade_request(server))
        response = conn.read_response(head_request=True)
        assert response.status == 101
        ws = RawWebSocket(conn.sock, bytes(conn.buffer))
        ws.send_text("upgraded late")
        assert ws.recv_message() == (OP_TEXT, b"upgraded late")


def test_tcp_closed_mid_frame_does_not_hurt_the_server(server):
    with RawWebSocket.connect(server.host, server.port, "/echo") as client:
        client.send_raw(build_frame(OP_TEXT, b"x" * 1000)[:200])
    # The server must still serve others.
    with RawWebSocket.connect(server.host, server.port, "/echo") as client:
        client.send_text("alive")
        assert client.recv_message() == (OP_TEXT, b"alive")

