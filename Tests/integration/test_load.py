"""Many peers at once, and one peer that never reads. Correctness under load, never timing."""

from __future__ import annotations

import asyncio
import http.client
import os
import resource
import socket
import threading
import time

import pytest
from websockets.asyncio.client import connect

from conftest import OP_BINARY, OP_CLOSE, PeerClosed, RawWebSocket, build_frame

pytestmark = pytest.mark.load

CONNECTIONS = 1000


def ws_connect(server, path="/echo", **kw):
    return connect(server.ws_url + path, ping_interval=None, max_size=None, compression=None, proxy=None,
                   open_timeout=30, close_timeout=10, **kw)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {soft} is below the {needed} descriptors this test needs")


def test_a_thousand_connections_echo_at_once(server_factory):
    # Our sockets and the server's live on this machine and the server inherits our limit.
    raise_fd_limit(2 * CONNECTIONS + 512)
    server = server_factory(echo=True)

    async def scenario():
        opening = asyncio.Semaphore(100)   # stay under the listen backlog while handshaking

        async def open_one():
            async with opening:
                return await ws_connect(server)

        clients = await asyncio.gather(*(open_one() for _ in range(CONNECTIONS)))
        try:
            status, health = await asyncio.to_thread(server.get_json, "/healthz")
            assert status == 200
            assert health["connections"] >= CONNECTIONS

            async def echo(i, ws):
                message = f"client {i} " + "x" * (i % 300)
                await ws.send(message)
                return await ws.recv() == message

            results = await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(clients)))
            assert all(results), f"{results.count(False)} clients got a wrong echo"
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
        codes = {ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None for ws in clients}
        assert codes == {1000}, f"close codes seen: {codes}"

    asyncio.run(asyncio.wait_for(scenario(), 60))
    # After the crowd leaves, the server is still answering.
    status, health = server.get_json("/healthz")
    assert status == 200


SLOW_CHUNK = 64 * 1024
SLOW_MAX_BYTES = 64 << 20       # hard bound on what the slow client sends
SLOW_MAX_SECONDS = 20
FAST_ROUND_TRIPS = 300


class SlowConsumer:
    """Sends 64 KiB echo requests as fast as the server takes them and never reads, with a 4 KiB
    receive window, so the echoes pile up in the server's outbound buffer for this peer."""

    def __init__(self, server):
        self.ws = RawWebSocket.connect(server.host, server.port, "/echo", rcvbuf=4096)
        self.sent = 0
        self.ended_by = None            # "send-error" if the server cut us off while we were sending
        self.pumping = threading.Event()
        self.done = threading.Event()

    def pump(self) -> None:
        frame = build_frame(OP_BINARY, os.urandom(SLOW_CHUNK))
        deadline = time.monotonic() + SLOW_MAX_SECONDS
        self.ws.sock.settimeout(0.5)
        try:
            while self.sent < SLOW_MAX_BYTES and time.monotonic() < deadline:
                try:
                    self.ws.sock.sendall(frame)
                except socket.timeout:
                    # The server is not reading us right now; keep trying until it decides.
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    self.ended_by = "send-error"
                    return
                self.sent += len(frame)
                if self.sent >= 2 << 20:
                    self.pumping.set()
        finally:
            self.pumping.set()
            self.done.set()

    def outcome(self, timeout: float = 15.0) -> tuple[int | None, str]:
        """Reads what the server left for us: (close code if a close frame came, how TCP ended)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the server never closed the slow consumer (sent {self.sent} bytes)")
            try:
                frame = self.ws.recv_frame(timeout=remaining)
            except PeerClosed as closed:
                return None, str(closed)
            except TimeoutError:
                continue   # the deadline check above turns this into the failure message
            if frame.opcode == OP_CLOSE:
                return frame.close_code, self.ws.expect_tcp_closed(timeout=5)


def test_slow_consumer_is_cut_off_while_a_fast_one_completes(server_factory):
    """What is asserted for the slow peer: a close frame with code 4008, then the server ends TCP
    (we never close first). Ladderwire drops the peer's queued messages and still sends that close
    frame (reading and discarding what the peer keeps sending meanwhile), so the code reaches a
    client that reads late; a bare reset or EOF would leave the client unable to tell a slow-
    consumer cut (resume with since) from a crash, and fails this test. /metrics must count it.
    """
    server = server_factory(echo=True)
    slow = SlowConsumer(server)
    pump = threading.Thread(target=slow.pump, daemon=True)
    pump.start()
    assert slow.pumping.wait(SLOW_MAX_SECONDS + 5)

    async def fast_client():
        async with ws_connect(server) as ws:
            for i in range(FAST_ROUND_TRIPS):
                message = os.urandom(4096)
                await ws.send(message)
                assert await ws.recv() == message, f"round trip {i} came back wrong"
            return FAST_ROUND_TRIPS

    try:
        assert asyncio.run(asyncio.wait_for(fast_client(), 45)) == FAST_ROUND_TRIPS
        pump.join(SLOW_MAX_SECONDS + 5)
        code, ended = slow.outcome()
    finally:
        slow.ws.close()
    assert slow.sent > 1 << 20, f"only {slow.sent} bytes went out: the outbound cap was never reached"
    assert code == 4008, (f"slow consumer: close code {code}, TCP ended by {ended}, sending ended by "
                          f"{slow.ended_by or 'our own limit'}; expected 4008")

    metrics = server.metrics()
    slow_samples = {name: value for name, value in metrics.items() if "slow" in name.lower()}
    assert slow_samples, f"no slow-consumer metric in /metrics: {sorted(metrics)}"
    assert any(value >= 1 for value in slow_samples.values()), slow_samples


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_ping_flood_from_a_peer_that_never_reads_stays_bounded(server_factory):
    """A peer floods pings and never reads its pongs. RFC 6455 5.5.3 lets the server answer only
    the latest ping, so it may keep the peer; either way what it holds for that peer is bounded:
    it closes with 4008 (or cuts TCP), or its memory does not grow with the flood."""
    server = server_factory(echo=True)
    flood_bytes = 32 << 20
    ws = RawWebSocket.connect(server.host, server.port, "/echo", rcvbuf=4096)
    burst = build_frame(0x9, b"p" * 125) * 512
    rss_before = rss_bytes(server.proc.pid)
    ws.sock.settimeout(0.5)
    sent, deadline, cut_off = 0, time.monotonic() + SLOW_MAX_SECONDS, False
    try:
        while sent < flood_bytes and time.monotonic() < deadline:
            try:
                ws.sock.sendall(burst)
                sent += len(burst)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
        growth = rss_bytes(server.proc.pid) - rss_before
        close_code = None
        if not cut_off:
            try:
                while True:
                    frame = ws.recv_frame(timeout=2)
                    if frame.opcode == OP_CLOSE:
                        close_code = frame.close_code
                        break
            except (PeerClosed, TimeoutError):
                pass
    finally:
        ws.close()
    assert close_code in (None, 4008), close_code
    if not cut_off and close_code is None:
        assert growth < 24 << 20, f"server grew by {growth} bytes while holding pongs for a peer that never reads"
    with RawWebSocket.connect(server.host, server.port, "/echo") as other:
        other.send_text("still serving")
        assert other.recv_message()[1] == b"still serving"


def test_connections_past_the_limit_get_503_and_the_slot_is_reusable(server_factory):
    limit = 8
    server = server_factory(echo=True, config={"shared": {"limits": {"maxConnections": limit}}})
    held = [RawWebSocket.connect(server.host, server.port, "/echo") for _ in range(limit)]
    try:
        for ws in held:   # all of them really are served
            ws.send_text("in")
            assert ws.recv_message()[1] == b"in"
        extra = socket.create_connection((server.host, server.port), timeout=10)
        try:
            answer = b""
            while chunk := extra.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        finally:
            extra.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer[:100]
        held.pop().close()
        deadline = time.monotonic() + 10
        while True:   # the server notices the close on its next turn
            try:
                metrics = server.metrics()
                break
            except (AssertionError, ConnectionError, http.client.HTTPException) as error:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no free slot after a client left: {error}")
                time.sleep(0.1)
        rejected = {k: v for k, v in metrics.items() if "rejected" in k}
        assert any(v >= 1 for v in rejected.values()), rejected
    finally:
        for ws in held:
            ws.close()

