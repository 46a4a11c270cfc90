"""Shared pieces of the stream end-to-end tests (test_stream_*.py): a private `redis-server` per
test (Debian's, loopback, temporary directory, AOF on, fsync always) and a tiny RESP client of
our own, so the tests read the stream without trusting Ladderwire's RESP code.

It holds no tests itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import _die_with_parent

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Resp:
    """A blocking RESP2 client: enough for XRANGE, XLEN, XADD, DEL and CONFIG in tests."""

    def __init__(self, port: int, timeout: float = 10.0, ca: Path | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if ca is not None:
            import ssl
            self.sock = ssl.create_default_context(cafile=str(ca)).wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        self.sock.sendall(out)
        return self._read()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buffer) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n + 2:]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ValueError(f"unexpected RESP line {line!r}")


class RedisError(Exception):
    pass


class RedisServer:
    """One private redis-server: loopback, its own directory, AOF with fsync always (so a stop
    and start keeps every acknowledged entry), no RDB snapshots."""

    def __init__(self, directory: Path, port: int | None = None, tls: tuple[Path, Path] | None = None):
        self.directory = directory
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.tls = tls   # (certificate, key): TLS only, the certificate is also the CA

    def start(self, timeout: float = 10.0) -> "RedisServer":
        self.directory.mkdir(parents=True, exist_ok=True)
        listen = ["--port", str(self.port)]
        if self.tls:
            cert, key = self.tls
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                      "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(
            [REDIS_SERVER, *listen, "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client = self.client(timeout=1)
                try:
                    if client.command("PING") == "PONG":
                        return self
                finally:
                    client.close()
            except (OSError, ConnectionError, RedisError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log")
                raise RuntimeError(f"redis-server did not start on port {self.port}: "
                                   f"{log.read_text()[-2000:] if log.exists() else ''}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: redis finishes the AOF and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def url(self) -> str:
        if self.tls:
            return f"rediss://127.0.0.1:{self.port}?ca={self.tls[0]}"
        return f"redis://127.0.0.1:{self.port}"

    def client(self, timeout: float = 10.0) -> Resp:
        return Resp(self.port, timeout=timeout, ca=self.tls[0] if self.tls else None)

    def entries(self, key: str = "ladderwire:events", start: str = "-", end: str = "+") -> list[tuple[int, dict]]:
        """(seq, fields) of every entry, IDs checked to be <seq>-0."""
        client = self.client()
        try:
            reply = client.command("XRANGE", key, start, end)
        finally:
            client.close()
        out = []
        for entry_id, fields in reply:
            seq, part = entry_id.decode().split("-")
            assert part == "0", f"entry ID {entry_id!r} is not <seq>-0"
            values = {fields[i].decode(): fields[i + 1] for i in range(0, len(fields), 2)}
            out.append((int(seq), values))
        return out


@pytest.fixture
def redis_factory(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed (tools/test installs Debian's redis-server as root)", pytrace=False)
    servers: list[RedisServer] = []

    def factory(start: bool = True, tls: tuple[Path, Path] | None = None) -> RedisServer:
        server = RedisServer(tmp_path_factory.mktemp("redis"), tls=tls)
        servers.append(server)
        return server.start() if start else server

    yield factory
    for server in servers:
        server.kill()


def wait_until(predicate, timeout: float = 20.0, what: str = "the condition", interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Edges: `ladderwire edge` processes, with the same lifecycle helpers as a core (conftest.Server)
# ---------------------------------------------------------------------------------------------

from conftest import Server, ServerStartError  # noqa: E402


class EdgeServer(Server):
    """One `ladderwire edge` process following `stream` (a redis:// URL), loading from `core`."""

    def __init__(self, tmp_dir: Path, stream: str, core: str | None, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None):
        super().__init__(tmp_dir, echo=False, static=None, sources=None, db_path=None,
                         extra_args=list(extra_args or []), env=env)
        self.stream = stream
        self.core = core

    def command(self, port: int) -> list[str]:
        from conftest import ladderwire_binary
        args = [str(ladderwire_binary()), "edge", "--host", self.host, "--port", str(port), "--stream", self.stream]
        if self.core:
            args += ["--core", self.core]
        return args + self.extra_args


@pytest.fixture
def edge_factory(tmp_path_factory):
    edges: list[EdgeServer] = []

    def factory(stream: str, core: str | None, extra_args: list[str] | None = None, start: bool = True) -> EdgeServer:
        edge = EdgeServer(tmp_path_factory.mktemp("edge"), stream, core, extra_args)
        edges.append(edge)
        if start:
            try:
                edge.start()
            except ServerStartError as error:
                pytest.fail(str(error), pytrace=False)
        return edge

    yield factory
    crashed = [e for e in edges if e.crashed()]
    for edge in edges:
        edge._terminate(signal.SIGTERM, timeout=3)
    if crashed:
        pytest.fail("an edge died from a signal during the test:\n" + "\n".join(e.diagnostics() for e in crashed), pytrace=False)


def health(server) -> dict:
    status, body = server.get_json("/healthz")
    assert status == 200, body
    return body


def wait_edge_at(edge, seq: int, timeout: float = 20.0) -> dict:
    return wait_until(lambda: (h := health(edge))["seq"] >= seq and h, timeout=timeout, what=f"{edge.url} to reach seq {seq}")


def comparable(snapshot: dict) -> dict:
    """A snapshot without what differs between servers by design (its build time; the edge's
    own `upstream` monitor)."""
    return {k: v for k, v in snapshot.items() if k not in ("time", "monitors")}
