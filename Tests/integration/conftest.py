"""Shared harness for Ladderwire's end-to-end tests with real peers.

Every test gets its own server process (ephemeral port, own temp database), so the suite is
parallel-safe under pytest-xdist. The harness also carries the hand-built RFC 6455 client and the
raw HTTP client the conformance tests use: a library client would refuse to send the malformed
bytes those tests are about.

Interface other test files rely on (keep it stable):
- fixture `server_factory(**kw) -> Server` (echo, static, sources, db_path, extra_args, env,
  config, start), fixture `server` (started with --echo)
- `Server.url`, `.ws_url`, `.port`, `.db_path`, `.cwd`, `.proc`, `.post_fills()`, `.get_json()`,
  `.metrics()`, `.stop(sig)`, `.kill()`, `.start()`, `.stdout_text()`, `.stderr_text()`,
  `.ssl_context` (set it to trust a test certificate when the server runs TLS)
- `RawWebSocket`, `build_frame`, `RawHttp`, `HttpResponse`, `run_cli` (import from conftest)
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("LADDERWIRE_BIN", REPO_ROOT / ".build" / "debug"))
LADDERWIRE = BIN_DIR / "ladderwire"
REPO_STATIC = REPO_ROOT / "static"
STARTUP_TIMEOUT = 20.0
LISTENING_LINE = re.compile(r"listening on (https?)://([^\s:/]+|\[[^\]]+\]):(\d+)")
MIB = 1 << 20
FOUNDATION_DUMPS = ("NSCocoaErrorDomain", "Error Domain=")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# The load tests open ~1,000 sockets and the server inherits our limit: raise the soft limit once.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft != resource.RLIM_INFINITY and (_hard == resource.RLIM_INFINITY or _soft < _hard):
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard if _hard != resource.RLIM_INFINITY else 65536, _hard))


def ladderwire_binary() -> Path:
    if not LADDERWIRE.exists():
        pytest.fail(f"{LADDERWIRE} not found: run `swift build` first or set LADDERWIRE_BIN", pytrace=False)
    return LADDERWIRE


def run_cli(*args: str, timeout: float = 20.0, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs the binary to completion (for --help, --version, bad flags). Fails on a Foundation
    error dump in its output: errors are sentences."""
    done = subprocess.run([str(ladderwire_binary()), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=str(cwd or REPO_ROOT), stdin=subprocess.DEVNULL)
    for marker in FOUNDATION_DUMPS:
        assert marker not in done.stdout and marker not in done.stderr, f"Foundation error dump from {args}:\n{done.stderr}"
    return done


def _die_with_parent() -> None:
    """Runs in the child before exec: a crashed or killed pytest must not leave servers behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServerStartError(RuntimeError):
    pass


class Server:
    """One `ladderwire serve` process. Restartable on the same database (and port if it is free)."""

    def __init__(self, tmp_dir: Path, *, echo: bool, static: Path | None, sources: str | None,
                 db_path: Path | None, extra_args: list[str], env: dict[str, str] | None,
                 host: str = "127.0.0.1"):
        self.tmp_dir = tmp_dir
        self.echo = echo
        self.static = static
        self.sources = sources
        self.db_path = Path(db_path) if db_path else tmp_dir / "ladderwire.db"
        self.extra_args = list(extra_args)
        self.env = env
        self.host = host
        self.cwd = REPO_ROOT   # the folder the process starts in
        self.port = 0
        self.scheme = "http"
        self.ssl_context: ssl.SSLContext | None = None   # trusted by the helpers when scheme is https
        self.proc: subprocess.Popen | None = None
        self.expected_exit = False   # set when the test itself stops or kills the process
        self.runs: list[dict] = []   # captured output of every run, for diagnostics
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._listening = threading.Event()

    # -- addresses --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.host}:{self.port}"

    # -- lifecycle --------------------------------------------------------------------------
    def command(self, port: int) -> list[str]:
        args = [str(ladderwire_binary()), "serve", "--host", self.host, "--port", str(port),
                "--db", str(self.db_path)]
        if self.sources is not None:
            args += ["--sources", self.sources]
        if self.echo:
            args.append("--echo")
        if self.static is not None:
            args += ["--static", str(self.static)]
        return args + self.extra_args

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "Server":
        """Starts (or restarts) the process; tries the previous port first so clients can reconnect."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServerStartError("server already running")
        if self.port:
            try:
                return self._spawn(self.port, timeout)
            except ServerStartError:
                pass   # the old port is taken (TIME_WAIT or another test): take a new one
        return self._spawn(0, timeout)

    def _spawn(self, port: int, timeout: float) -> "Server":
        self._stdout, self._stderr = [], []
        self._listening = threading.Event()
        self.expected_exit = False
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.command(port), cwd=str(self.cwd), env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        self.runs.append({"args": self.proc.args, "stdout": self._stdout, "stderr": self._stderr})
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._stdout, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self._stderr, False), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                time.sleep(0.1)   # let the pumps collect the last words
                raise ServerStartError(
                    f"ladderwire exited with {self.proc.returncode} before listening\n"
                    f"args: {' '.join(self.proc.args)}\nstderr:\n{self.stderr_text()}\nstdout:\n{self.stdout_text()}")
            if time.monotonic() > deadline:
                self._terminate(signal.SIGKILL)
                raise ServerStartError(
                    f"no 'listening on' line within {timeout}s\nstderr:\n{self.stderr_text()}\n"
                    f"stdout:\n{self.stdout_text()}")
        return self

    def _pump(self, stream, sink: list[str], watch_for_listening: bool) -> None:
        for line in stream:
            sink.append(line)
            if watch_for_listening and not self._listening.is_set():
                match = LISTENING_LINE.search(line)
                if match:
                    self.scheme, self.host, self.port = match.group(1), match.group(2).strip("[]"), int(match.group(3))
                    self._listening.set()
        stream.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Sends `sig` and waits; returns the exit status (negative = killed by a signal)."""
        self.expected_exit = True
        return self._terminate(sig, timeout)

    def kill(self) -> int | None:
        return self.stop(signal.SIGKILL)

    def _terminate(self, sig: int, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        return self.proc.returncode

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def crashed(self) -> bool:
        """True when the process died on its own from a signal (a trap, a segfault)."""
        return (self.proc is not None and not self.expected_exit
                and self.proc.poll() is not None and self.proc.returncode < 0)

    # -- diagnostics ------------------------------------------------------------------------
    def stdout_text(self) -> str:
        return "".join(self._stdout)

    def stderr_text(self) -> str:
        return "".join(self._stderr)

    def diagnostics(self) -> str:
        parts = []
        for i, run in enumerate(self.runs):
            parts.append(f"--- run {i}: {' '.join(run['args'])}\n[stdout]\n{''.join(run['stdout'])[-8000:]}"
                         f"\n[stderr]\n{''.join(run['stderr'])[-8000:]}")
        if self.proc is not None:
            parts.append(f"exit status: {self.proc.poll()}")
        return "\n".join(parts)

    # -- HTTP conveniences --------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def get_json(self, path: str, token: str | None = None) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, _, data = self.request("GET", path, headers=headers)
        return status, _json_or_text(data)

    def post_fills(self, items: list[dict], token: str | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _, data = self.request("POST", "/api/fills", body=json.dumps(items).encode(), headers=headers)
        return status, _json_or_text(data)

    def metrics(self) -> dict[str, float]:
        """/metrics parsed into {'name{labels}': value}."""
        status, _, data = self.request("GET", "/metrics")
        assert status == 200, f"/metrics answered {status}"
        return parse_prometheus(data.decode())


def _json_or_text(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


PROM_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+-?\d+)?$")


def parse_prometheus(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PROM_SAMPLE.match(line)
        if not match:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


@dataclass
class _Registry:
    servers: list[Server] = field(default_factory=list)


@pytest.fixture
def server_factory(tmp_path_factory, request):
    """server_factory(echo=False, static=<repo>/static, sources="none", db_path=None,
    extra_args=(), env=None, config=None, start=True) -> Server. `config` is a dict written to a
    private JSON file passed with --config (e.g. {"shared": {"limits": {"pingIntervalSeconds": 1}}}).
    Every server is stopped at teardown."""
    registry = _Registry()
    request.node._ladderwire_servers = registry.servers

    def factory(*, echo: bool = False, static: Path | str | None | bool = True, sources: str | None = "none",
                db_path: Path | str | None = None, extra_args: list[str] | tuple[str, ...] = (),
                env: dict[str, str] | None = None, config: dict | None = None, start: bool = True) -> Server:
        if static is True:
            static_dir = REPO_STATIC if REPO_STATIC.exists() else None
        elif static in (False, None):
            static_dir = None
        else:
            static_dir = Path(static)
        tmp_dir = tmp_path_factory.mktemp("ladderwire")
        if config is not None:
            config_file = tmp_dir / "ladderwire.json"
            config_file.write_text(json.dumps(config))
            extra_args = ["--config", str(config_file), *extra_args]
        server = Server(tmp_dir, echo=echo, static=static_dir, sources=sources, db_path=db_path,
                        extra_args=list(extra_args), env=env)
        registry.servers.append(server)
        if start:
            try:
                server.start()
            except ServerStartError as error:
                pytest.fail(str(error), pytrace=False)
        return server

    yield factory

    crashed = [s for s in registry.servers if s.crashed()]
    for server in registry.servers:
        server._terminate(signal.SIGTERM, timeout=3)   # then SIGKILL: a hung shutdown has its own test
    if crashed:
        details = "\n".join(s.diagnostics() for s in crashed)
        pytest.fail(f"ladderwire died from a signal during the test:\n{details}", pytrace=False)
    # Operators get sentences, never a Foundation error object (issue 18).
    dumps = [s for s in registry.servers if any(marker in run_text for run in s.runs for marker in FOUNDATION_DUMPS
                                                 for run_text in ("".join(run["stdout"]), "".join(run["stderr"])))]
    if dumps:
        details = "\n".join(s.diagnostics() for s in dumps)
        pytest.fail(f"ladderwire printed a Foundation error dump:\n{details}", pytrace=False)


@pytest.fixture
def server(server_factory) -> Server:
    return server_factory(echo=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    servers = getattr(item, "_ladderwire_servers", None)
    if report.failed and servers:
        for i, server in enumerate(servers):
            report.sections.append((f"ladderwire server {i}", server.diagnostics()))


# ---------------------------------------------------------------------------------------------
# Raw RFC 6455 client: builds any frame, legal or not, and reads the server's frames strictly.
# ---------------------------------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def mask_payload(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return b""
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def build_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bool = True,
                mask_key: bytes | None = None, declared_length: int | None = None) -> bytes:
    """One frame; `declared_length` lies about the length (the payload is sent as given)."""
    length = len(payload) if declared_length is None else declared_length
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header = bytes([first, mask_bit | length])
    elif length < 1 << 16:
        header = bytes([first, mask_bit | 126]) + struct.pack("!H", length)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return header + key + mask_payload(payload, key)


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> bytes:
        return self.payload[2:]


class PeerClosed(Exception):
    """The server closed TCP (EOF or reset) while a frame was expected."""


class RawWebSocket:
    """A WebSocket client on a plain socket. Frames from the server are checked strictly:
    unmasked, RSV clear, known opcodes, control frames short and final."""

    def __init__(self, sock: socket.socket, leftover: bytes = b""):
        self.sock = sock
        self.buffer = bytearray(leftover)
        self.response: HttpResponse | None = None
        # Set when permessage-deflate was agreed: RSV1 may then mark a data message's first frame.
        self.allow_rsv1 = False

    @classmethod
    def connect(cls, host: str, port: int, path: str = "/echo", *, headers: dict[str, str] | None = None,
                rcvbuf: int | None = None, timeout: float = 10.0) -> "RawWebSocket":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)   # before connect: caps the window
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        raw = bytearray()
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError(f"server closed during the handshake; got {bytes(raw)!r}")
            raw += chunk
        head, _, rest = bytes(raw).partition(b"\r\n\r\n")
        response = parse_response_head(head)
        assert response.status == 101, f"handshake answered {response.status}: {head!r}"
        assert response.header("upgrade", "").lower() == "websocket", head
        assert "upgrade" in response.header("connection", "").lower(), head
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert response.header("sec-websocket-accept") == expected, head
        ws = cls(sock, rest)
        ws.response = response
        ws.allow_rsv1 = "permessage-deflate" in (response.header("sec-websocket-extensions") or "")
        return ws

    # -- writing ----------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw) -> None:
        self.sock.sendall(build_frame(opcode, payload, **kw))

    def send_text(self, text: str | bytes) -> None:
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OP_BINARY, data)

    def send_close(self, code: int | None = 1000, reason: bytes = b"") -> None:
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    # -- reading ----------------------------------------------------------------------------
    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("no data from the server in time") from None
        except (ConnectionResetError, BrokenPipeError) as error:
            raise PeerClosed(f"connection reset: {error}") from None
        if not chunk:
            raise PeerClosed("EOF")
        self.buffer += chunk

    def _need(self, n: int, deadline: float) -> None:
        while len(self.buffer) < n:
            self._fill(deadline)

    def recv_frame(self, timeout: float = 5.0) -> Frame:
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buffer[0], self.buffer[1]
        assert not b1 & 0x80, "server frames must not be masked (RFC 6455 5.1)"
        length, offset = b1 & 0x7F, 2
        if length == 126:
            self._need(4, deadline)
            length, offset = struct.unpack("!H", self.buffer[2:4])[0], 4
            assert length >= 126, "server used a non-minimal 16-bit length"
        elif length == 127:
            self._need(10, deadline)
            length, offset = struct.unpack("!Q", self.buffer[2:10])[0], 10
            assert length >= 1 << 16 and not length >> 63, "server used a bad 64-bit length"
        self._need(offset + length, deadline)
        payload = bytes(self.buffer[offset:offset + length])
        del self.buffer[:offset + length]
        frame = Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload)
        assert frame.rsv == 0 or (self.allow_rsv1 and frame.rsv == 4 and frame.opcode in (1, 2)), \
            f"server set RSV bits {frame.rsv} on opcode {frame.opcode} (deflate agreed: {self.allow_rsv1})"
        assert frame.opcode in (0, 1, 2, 8, 9, 10), f"server sent reserved opcode {frame.opcode}"
        if frame.opcode >= 8:
            assert frame.fin and length <= 125, "server sent a fragmented or long control frame"
        return frame

    def recv_message(self, timeout: float = 10.0, *, answer_pings: bool = True) -> tuple[int, bytes]:
        """Next data message, reassembled; server pings are answered; a close raises."""
        deadline = time.monotonic() + timeout
        opcode, parts = None, []
        while True:
            frame = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if frame.opcode == OP_PING:
                if answer_pings:
                    self.send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_PONG:
                continue
            if frame.opcode == OP_CLOSE:
                raise AssertionError(f"server closed with {frame.close_code} {frame.close_reason!r} "
                                     "while a message was expected")
            if opcode is None:
                assert frame.opcode in (OP_TEXT, OP_BINARY), f"message starts with opcode {frame.opcode}"
                opcode = frame.opcode
            else:
                assert frame.opcode == OP_CONT, f"new opcode {frame.opcode} inside a fragmented message"
            parts.append(frame.payload)
            if frame.fin:
                return opcode, b"".join(parts)

    def expect_close(self, timeout: float = 5.0) -> Frame:
        """Skips data until the server's close frame, answers it like a polite client, and checks
        that the server then closes TCP. Returns the server's close frame."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self.recv_frame(max(0.01, deadline - time.monotonic()))
            except PeerClosed as closed:
                raise AssertionError(f"TCP closed without a close frame ({closed})") from None
            if frame.opcode == OP_CLOSE:
                break
        if frame.payload:
            assert len(frame.payload) >= 2, "server close payload of 1 byte"
            frame.close_reason.decode("utf-8")   # the server's reason must be UTF-8 too
        try:
            self.send_frame(OP_CLOSE, frame.payload[:2])
        except OSError:
            pass   # the server may already be gone: fine
        self.expect_tcp_closed(timeout)
        return frame

    def expect_tcp_closed(self, timeout: float = 5.0) -> str:
        """Waits for EOF or a reset, ignoring (but not allowing) further frames. Returns how it ended."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"server did not close TCP within {timeout}s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return "reset"
            if not chunk:
                return "eof"
            self.buffer += chunk
            assert len(self.buffer) < 1 << 20, "server kept sending after its close frame"

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# Raw HTTP/1.1: exact bytes out, a strict parser in (keep-alive aware).
# ---------------------------------------------------------------------------------------------

@dataclass
class HttpResponse:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_response_head(head: bytes) -> HttpResponse:
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
    assert match, f"bad status line {lines[0]!r}"
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        assert sep and name and name == name.strip(), f"bad header line {line!r}"
        headers.append((name, value.strip()))
    return HttpResponse(match.group(1), int(match.group(2)), match.group(3) or "", headers)


class RawHttp:
    """One TCP connection speaking HTTP/1.1 by hand."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # small writes leave as written
        self.timeout = timeout
        self.buffer = bytearray()
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def read_response(self, *, head_request: bool = False) -> HttpResponse:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise PeerClosed(f"connection closed before a full response head; got {bytes(self.buffer)!r}")
        head, _, _ = bytes(self.buffer).partition(b"\r\n\r\n")
        del self.buffer[:len(head) + 4]
        response = parse_response_head(head)
        if head_request or response.status in (204, 304) or 100 <= response.status < 200:
            return response
        if (response.header("transfer-encoding") or "").lower() == "chunked":
            response.body = self._read_chunked()
        elif response.header("content-length") is not None:
            length = int(response.header("content-length"))
            while len(self.buffer) < length:
                if not self._fill():
                    raise PeerClosed("connection closed inside the body")
            response.body = bytes(self.buffer[:length])
            del self.buffer[:length]
        else:
            while self._fill():
                pass
            response.body, self.buffer = bytes(self.buffer), bytearray()
        return response

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            while b"\r\n" not in self.buffer:
                if not self._fill():
                    raise PeerClosed("closed inside chunked body")
            line, _, _ = bytes(self.buffer).partition(b"\r\n")
            del self.buffer[:len(line) + 2]
            size = int(line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                if not self._fill():
                    raise PeerClosed("closed inside a chunk")
            body += self.buffer[:size]
            del self.buffer[:size + 2]
            if size == 0:
                return bytes(body)

    def request(self, raw: bytes, *, head_request: bool = False) -> HttpResponse:
        self.send(raw)
        return self.read_response(head_request=head_request)

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection within `timeout` (any pending bytes discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if ready and not self._fill():
                return True
        return False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_get_raw(host: str, port: int, path: str, extra: str = "", method: str = "GET") -> HttpResponse:
    """One request with Connection: close, the path sent byte for byte."""
    with RawHttp(host, port) as conn:
        raw = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n{extra}\r\n"
        return conn.request(raw.encode("latin-1"), head_request=(method == "HEAD"))


def copy_static(target: Path) -> Path:
    """A private static dir: the repo's files (if any) plus a known set the HTTP tests rely on."""
    if REPO_STATIC.exists():
        shutil.copytree(REPO_STATIC, target, symlinks=True)
    else:
        target.mkdir(parents=True)
    return target
