"""Shared pieces of the live-push end-to-end tests (test_push_*.py): real `websockets` clients,
a recording subscriber, stream invariants, token files and read-only journal access.

It holds no tests itself; it is named like a test module only so it sits with them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import run_cli

# Default instruments with a centre price on each tick grid and its tick (exact fractions).
INSTRUMENT_TICKS = {
    "ZTZ6": ("102.9453125", "0.00390625"),
    "ZFZ6": ("107.5078125", "0.0078125"),
    "ZNZ6": ("110.5", "0.015625"),
    "TNZ6": ("113.25", "0.015625"),
    "ZBZ6": ("115.5625", "0.03125"),
    "UBZ6": ("120.75", "0.03125"),
    "ESZ6": ("6012.25", "0.25"),
}


def ws_connect(server, path: str, *, token: str | None = None, subprotocols=None, headers=None, **kw):
    url = server.ws_url + path
    if token is not None:
        headers = dict(headers or {})
        headers["Authorization"] = f"Bearer {token}"
    # max_queue=None: a test that closes with messages still unread must not stall the close
    # handshake behind the client's own flow control.
    return connect(url, open_timeout=10, close_timeout=5, max_size=None, max_queue=None, compression=None,
                   proxy=None, subprotocols=subprotocols, additional_headers=headers, **kw)


def ws_open(server, path: str, **kw):
    """An open connection to keep beyond a `with` block (a recorder closes it)."""
    return ws_connect(server, path, legacy=True, **kw)


def recv_json(ws, timeout: float = 10.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


class Recorder:
    """Reads every message of one subscriber connection on its own thread, in arrival order."""

    def __init__(self, ws, name: str = ""):
        self.ws = ws
        self.name = name
        self.messages: list[dict] = []
        self.closed: ConnectionClosed | None = None
        self.failure: BaseException | None = None
        self.finished = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"recorder {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for raw in self.ws:
                message = json.loads(raw)
                with self._changed:
                    self.messages.append(message)
                    self._changed.notify_all()
        except ConnectionClosed as closed:
            self.closed = closed
        except BaseException as error:   # recorded, re-raised by the test through `check`
            self.failure = error
        finally:
            with self._changed:
                if self.closed is None and self.ws.close_code is not None:
                    self.closed = ConnectionClosed(None, None)
                self.finished = True
                self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "a message") -> dict:
        """The first recorded message satisfying `predicate` (waiting for it)."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for message in self.messages[seen:]:
                    if predicate(message):
                        return message
                seen = len(self.messages)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.finished:
                    raise AssertionError(f"{self.name}: no {what} within {timeout}s; last messages: "
                                         f"{self.messages[-5:]} (failure {self.failure!r}, closed {self.closed!r})")
                self._changed.wait(remaining)

    def sync_to(self, seq: int, timeout: float = 15.0) -> None:
        """Waits until the server has given this subscriber everything up to `seq`: a pong carries
        the highest seq the server has passed (or filtered) for it, sent after those messages."""
        deadline = time.monotonic() + timeout
        ping_id = 0
        while True:
            ping_id += 1
            if self.finished:
                raise AssertionError(f"{self.name}: connection ended ({self.closed!r}) before seq {seq}")
            self.ws.send(json.dumps({"type": "ping", "id": f"{self.name}-{ping_id}"}))
            pong = self.wait_for(lambda m, i=ping_id: m.get("type") == "pong" and m.get("id") == f"{self.name}-{i}",
                                 timeout=max(0.1, deadline - time.monotonic()), what=f"pong {ping_id}")
            if pong["seq"] >= seq:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: server still at seq {pong['seq']} for this subscriber, wanted {seq}")
            time.sleep(0.05)

    def data(self) -> list[dict]:
        """The recorded messages that carry state (no pongs, heartbeats, status)."""
        with self._changed:
            return [m for m in self.messages if m.get("type") not in ("pong", "heartbeat", "status")]

    def stop(self, *, expect_clean: bool = True) -> None:
        """Closes the connection and waits for the reader; `expect_clean=False` after the test
        itself broke the connection (a reader error is then expected)."""
        try:
            self.ws.close()
        except Exception:
            pass
        self._thread.join(10)
        if expect_clean and self.failure is not None:
            raise AssertionError(f"{self.name}: reader failed: {self.failure!r}")


def message_key(message: dict) -> tuple:
    return (message.get("seq"), message.get("type"), message.get("scope"), message.get("account"),
            message.get("instrument"))


def check_stream(messages: list[dict], *, gapless: bool, name: str = "", after_resume: bool = False) -> int:
    """The invariants every subscriber stream keeps; returns the starting seq (snapshot or resume).

    First message a snapshot (or `resumed` for a resume); seqs never go down; nothing at or below
    the starting seq; no message twice; and for an unfiltered stream every seq after the start."""
    assert messages, f"{name}: no messages at all"
    first = messages[0]
    expected_first = "resumed" if after_resume else "snapshot"
    assert first["type"] == expected_first, f"{name}: first message is {first['type']}, not {expected_first}: {first}"
    start = first["since"] if after_resume else first["seq"]
    last = start
    seen_keys: set[tuple] = set()
    seen_seqs: set[int] = set()
    for index, message in enumerate(messages[1:], start=1):
        if "seq" not in message:
            continue
        seq = message["seq"]
        assert seq > start, f"{name}: message {index} has seq {seq}, at or below the start {start}: {message}"
        assert seq >= last, f"{name}: seq went down from {last} to {seq} at message {index}: {message}"
        key = message_key(message)
        assert key not in seen_keys, f"{name}: duplicated message {key} at {index}: {message}"
        seen_keys.add(key)
        seen_seqs.add(seq)
        last = seq
    if gapless and seen_seqs:
        missing = sorted(set(range(start + 1, last + 1)) - seen_seqs)
        assert not missing, f"{name}: seqs missing after {start}: {missing[:20]} (of {len(missing)})"
    return start


# ---------------------------------------------------------------------------------------------
# Tokens and configuration
# ---------------------------------------------------------------------------------------------

def add_token(tokens_file: Path, name: str, role: str, accounts: list[str] | None = None,
              expires: str | None = None) -> str:
    args = ["token", "add", name, "--role", role, "--file", str(tokens_file)]
    if accounts:
        args += ["--accounts", ",".join(accounts)]
    if expires:
        args += ["--expires", expires]
    done = run_cli(*args)
    assert done.returncode == 0, f"token add failed: {done.stderr}"
    token = done.stdout.strip()
    assert token, "token add printed no token"
    return token


def write_config(directory: Path, tokens_file: Path | None = None, *, anonymous: bool | None = None, **sim) -> Path:
    """A config file with only a `sim` section: the token file, anonymous access (off whenever a
    token file is given), and any other keys of that section (e.g. limits)."""
    config = directory / "ladderwire-test.json"
    section: dict = {}
    if tokens_file is not None:
        section["tokensFile"] = str(tokens_file)
    if anonymous is None:
        anonymous = tokens_file is None
    section["allowAnonymousViewers"] = anonymous
    section.update(sim)
    config.write_text(json.dumps({"sim": section}))
    return config


# ---------------------------------------------------------------------------------------------
# The journal, read-only
# ---------------------------------------------------------------------------------------------

def journal_rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def journal_counts(db_path: Path) -> dict[str, int]:
    counts = {}
    for table in ("events", "fills", "marks", "sod", "audit"):
        counts[table] = journal_rows(db_path, f"SELECT COUNT(*) FROM {table}")[0][0]
    return counts
