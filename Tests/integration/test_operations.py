"""Operating Ladderwire (issue 18), end to end against the real binary, always run from a folder
outside the checkout: path resolution and one-line start-up errors, `tools/install` into a
temporary prefix, the JSON log option, and the operator's commands `backup`, `export`, `audit`
and `db check` with their `--help` and progress lines."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from conftest import (LISTENING_LINE, REPO_ROOT, BIN_DIR, Server, ServerStartError, ladderwire_binary, run_cli)

DAY = [
    {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110'160"},
    {"type": "fill", "execId": "F1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110-08+"},
    {"type": "fill", "execId": "F2", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 1, "price": "110-09"},
    {"type": "fill", "execId": "F3", "account": "ACC2", "instrument": "ESZ6", "side": "buy", "qty": 2, "price": "6012.25"},
    {"type": "fill", "execId": "F4", "account": "ACC2", "instrument": "ESZ6", "side": "sell", "qty": 1, "price": "6013.5"},
    {"type": "mark", "instrument": "ZNZ6", "price": "110-10"},
]

FOUNDATION_DUMP = ("NSCocoaErrorDomain", "Error Domain=", "NSUnderlyingError")


def one_human_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    for marker in FOUNDATION_DUMP:
        assert marker not in stderr
    assert lines[0].startswith("ladderwire: ")
    return lines[0]


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The binary run from `cwd` (outside the checkout)."""
    full_env = dict(os.environ, **(env or {}))
    raw = subprocess.run([str(ladderwire_binary()), *args], capture_output=True, timeout=timeout,
                         cwd=str(cwd), stdin=subprocess.DEVNULL, env=full_env)
    # Decoded by hand: text mode would turn the CSV's CRLF into LF.
    done = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
    for marker in FOUNDATION_DUMP:
        assert marker not in done.stderr and marker not in done.stdout
    return done


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert REPO_ROOT not in folder.resolve().parents
    return folder


@pytest.fixture
def day_server(server_factory):
    """A server (started from the checkout by the harness) holding DAY and one busted fill."""
    server = server_factory()
    status, body = server.post_fills(DAY)
    assert status == 200, body
    status, body = server.post_fills([{"type": "bust", "execId": "F2"}])
    assert status == 200, body
    return server


class Spawned(Server):
    """A `serve` started from any folder with exactly the arguments given (no --static/--db added)."""

    def __init__(self, tmp_dir: Path, args: list[str], cwd: Path, env: dict | None = None, binary: Path | None = None):
        super().__init__(tmp_dir, echo=False, static=None, sources=None, db_path=None, extra_args=args, env=env)
        self.cwd = cwd
        self.binary = binary or ladderwire_binary()

    def command(self, port: int) -> list[str]:
        return [str(self.binary), "serve", "--port", str(port), *self.extra_args]


@pytest.fixture
def spawned(tmp_path):
    servers: list[Spawned] = []

    def start(args: list[str], cwd: Path, env: dict | None = None, binary: Path | None = None) -> Spawned:
        server = Spawned(tmp_path, args, cwd, env, binary)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server._terminate(15, timeout=5)
        for marker in FOUNDATION_DUMP:
            assert marker not in server.stderr_text() and marker not in server.stdout_text()


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


# -- runs from anywhere ------------------------------------------------------------------------

def test_relative_paths_in_a_config_file_resolve_against_its_folder_when_started_from_root(tmp_path, spawned):
    etc = tmp_path / "site" / "etc"
    etc.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "config" / "instruments.json", etc / "desk-instruments.json")
    www = tmp_path / "site" / "www"
    www.mkdir()
    (www / "index.html").write_text("<h1>site page</h1>")
    (etc / "ladderwire.json").write_text(json.dumps({"shared": {
        "instrumentsFile": "desk-instruments.json", "staticDir": "../www", "databasePath": "../data/lw.db",
        "sources": {"enabled": []}}}))
    server = spawned(["--config", str(etc / "ladderwire.json")], cwd=Path("/"))
    assert http_get(server.url + "/")[1] == b"<h1>site page</h1>"
    status, body = server.post_fills(DAY[:2])
    assert status == 200, body
    assert (tmp_path / "site" / "data" / "lw.db").exists(), "the database path resolved against the config's folder"
    assert "database " + str(tmp_path / "site" / "data" / "lw.db") in server.stdout_text()


def test_with_no_config_the_binary_finds_its_own_default_from_any_folder(outside, spawned):
    server = spawned(["--db", "here.db", "--sources", "none"], cwd=outside)
    status, page = http_get(server.url + "/")
    assert status == 200 and b"<html" in page.lower(), "static files found beside the binary's checkout"
    assert (outside / "here.db").exists(), "a --db flag is relative to the current folder"
    status, body = server.post_fills(DAY[:2])
    assert status == 200, body


@pytest.mark.parametrize("case", ["missing config", "missing instruments", "instruments is a folder", "bad instruments",
                                  "missing static", "bad accounts", "missing tokens", "unwritable database"])
def test_every_start_up_error_is_one_human_line_naming_the_file_and_the_fix(case, tmp_path, outside):
    config = tmp_path / "c.json"
    shared: dict = {"sources": {"enabled": []}}
    expect = []
    if case == "missing config":
        config = tmp_path / "nope.json"
        expect = ["nope.json", "config file not found", "--config"]
    elif case == "missing instruments":
        shared["instrumentsFile"] = "gone.json"
        expect = [str(tmp_path / "gone.json"), "not found", "instrumentsFile"]
    elif case == "instruments is a folder":
        shared["instrumentsFile"] = "."
        expect = ["instruments file", "is a folder", "instrumentsFile"]
    elif case == "bad instruments":
        (tmp_path / "bad.json").write_text("{not json")
        shared["instrumentsFile"] = "bad.json"
        expect = [str(tmp_path / "bad.json"), "fix the file"]
    elif case == "missing static":
        shared["staticDir"] = "no-such-folder"
        expect = [str(tmp_path / "no-such-folder"), "staticDir"]
    elif case == "bad accounts":
        (tmp_path / "acc.json").write_text("[1,2")
        shared["accountsFile"] = "acc.json"
        expect = [str(tmp_path / "acc.json"), "accounts file"]
    elif case == "missing tokens":
        shared["tokensFile"] = "tokens.json"
        expect = [str(tmp_path / "tokens.json"), "token add"]
    elif case == "unwritable database":
        shared["databasePath"] = "/proc/ladderwire/x.db"
        expect = ["/proc/ladderwire/x.db"]
    if case != "missing config":
        config.write_text(json.dumps({"shared": shared}))
    done = cli("serve", "--port", "0", "--config", str(config), cwd=outside, timeout=20)
    assert done.returncode != 0
    line = one_human_line(done.stderr)
    for text in expect:
        assert text in line, line


def test_no_test_output_anywhere_holds_a_foundation_error_dump():
    """The end-to-end suite itself: no expected output names NSCocoaErrorDomain (it used to)."""
    for path in Path(__file__).parent.glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        assert "NSCocoaErrorDomain" not in path.read_text(), path


# -- install, service, logs ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("prefix") / "opt-ladderwire"
    done = subprocess.run([str(REPO_ROOT / "tools" / "install"), str(prefix)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, LADDERWIRE_INSTALL_BIN=str(BIN_DIR)))
    assert done.returncode == 0, done.stdout + done.stderr
    return prefix


def test_install_lays_out_binary_static_config_data_and_unit(installed):
    assert os.access(installed / "bin" / "ladderwire", os.X_OK)
    assert (installed / "share" / "ladderwire" / "static" / "index.html").exists()
    assert (installed / "share" / "ladderwire" / "config" / "instruments.json").exists()
    config = json.loads((installed / "etc" / "ladderwire" / "ladderwire.json").read_text())
    assert config["shared"]["staticDir"] == str(installed / "share" / "ladderwire" / "static")
    assert config["sim"]["databasePath"] == str(installed / "var" / "lib" / "ladderwire" / "ladderwire-sim.db")
    unit = (installed / "share" / "ladderwire" / "ladderwire.service").read_text()
    assert f"ExecStart={installed}/bin/ladderwire serve --config {installed}/etc/ladderwire/ladderwire.json" in unit
    assert "@PREFIX@" not in unit
    if shutil.which("systemd-analyze"):
        check = subprocess.run(["systemd-analyze", "verify", "--man=no", str(installed / "share" / "ladderwire" / "ladderwire.service")],
                               capture_output=True, text=True, timeout=60)
        problems = [line for line in check.stderr.splitlines()
                    if "ladderwire.service" in line and "User" not in line and "Executable" not in line]
        assert not problems, check.stderr


def test_the_installed_binary_runs_from_another_folder_with_no_flags_but_a_port(installed, outside, spawned):
    server = spawned(["--sources", "none"], cwd=outside, binary=installed / "bin" / "ladderwire")
    assert f"database {installed}/var/lib/ladderwire/ladderwire-sim.db" in server.stdout_text()
    status, page = http_get(server.url + "/")
    assert status == 200 and page == (installed / "share" / "ladderwire" / "static" / "index.html").read_bytes()
    status, body = server.post_fills(DAY[:2])
    assert status == 200, body
    assert not any(outside.iterdir()), "nothing is written to the current folder"
    # The same config copied elsewhere (as to /etc/ladderwire/) still works: its paths are absolute.
    elsewhere = outside / "etc-copy.json"
    shutil.copy(installed / "etc" / "ladderwire" / "ladderwire.json", elsewhere)
    check = subprocess.run([str(installed / "bin" / "ladderwire"), "config", "check", "--config", str(elsewhere)],
                           capture_output=True, text=True, cwd="/", timeout=20)
    assert check.returncode == 0, check.stderr


def test_installing_again_keeps_an_edited_config(installed):
    config = installed / "etc" / "ladderwire" / "ladderwire.json"
    original = config.read_text()
    config.write_text(original.replace('"port": 8080', '"port": 8181'))
    done = subprocess.run([str(REPO_ROOT / "tools" / "install"), str(installed)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, LADDERWIRE_INSTALL_BIN=str(BIN_DIR)))
    assert done.returncode == 0, done.stderr
    assert '"port": 8181' in config.read_text()
    assert (installed / "etc" / "ladderwire" / "ladderwire.json.new").read_text() == original
    config.write_text(original)


def test_json_log_lines_are_one_object_per_line(outside, spawned, tmp_path):
    server = spawned(["--db", str(tmp_path / "j.db"), "--sources", "none", "--log-format", "json"], cwd=outside)
    server.stop()
    lines = server.stdout_text().splitlines()
    assert lines, "no log lines"
    records = [json.loads(line) for line in lines]
    assert all(set(r) == {"time", "level", "msg"} and r["time"].endswith("Z") for r in records)
    assert any(r["msg"].startswith("listening on http://") for r in records)
    assert any(r["level"] == "warn" for r in records), "the anonymous-access warning is a warn"
    assert records[-1]["msg"] == "stopped cleanly"
    bad = cli("serve", "--log-format", "xml", cwd=outside)
    assert bad.returncode == 2 and "--log-format takes text or json" in one_human_line(bad.stderr)


# -- help -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["backup"], ["export"], ["audit"], ["db"], ["db", "check"]])
def test_each_operator_command_has_its_own_help(command, outside):
    done = cli(*command, "--help", cwd=outside)
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: ladderwire {command[0]}")
    assert "--db PATH" in done.stdout
    general = cli("--help", cwd=outside).stdout
    assert f"ladderwire {command[0]}" in general


def test_operator_commands_reject_bad_flags_in_one_line(outside, tmp_path):
    for args, text in [(["backup"], "usage: ladderwire backup --out FILE"),
                       (["export", "trades"], "usage: ladderwire export fills|positions|audit"),
                       (["export", "fills", "--date", "24/11/2026"], "--date takes YYYY-MM-DD"),
                       (["export", "fills", "--format", "xlsx"], "--format takes csv or ndjson"),
                       (["audit", "--since", "yesterday"], "--since takes an ISO 8601 time"),
                       (["backup", "--out", "x.db", "--kind", "bust"], "backup does not take --kind"),
                       (["db", "fix"], "usage: ladderwire db check"),
                       (["db", "check", "--db", str(tmp_path / "none.db")], "not found")]:
        done = cli(*args, cwd=outside)
        assert done.returncode != 0, args
        assert text in one_human_line(done.stderr), (args, done.stderr)


# -- backup ---------------------------------------------------------------------------------------

def test_backup_while_serve_writes_gives_a_verified_copy_that_serves(day_server, outside, server_factory):
    stop = threading.Event()
    written = []

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            status, _ = day_server.post_fills([{"type": "fill", "execId": f"W{n}", "account": "ACC3", "instrument": "ZBZ6",
                                                "side": "buy", "qty": 1, "price": "115-16"}])
            if status == 200:
                written.append(n)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if len(written) >= 20:
                break
            threading.Event().wait(0.01)
        assert len(written) >= 20, "the writer is writing while the backup runs"
        done = cli("backup", "--out", "copy.db", "--db", str(day_server.db_path), cwd=outside)
    finally:
        stop.set()
        thread.join(10)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("backup: ") and line.endswith("(100%)") for line in lines), done.stderr
    assert lines[-1].startswith("backup ok: copy.db") and "integrity ok" in lines[-1] and "pages/s" in lines[-1]
    copy = outside / "copy.db"
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count, last = db.execute("SELECT count(*), max(seq) FROM events").fetchone()
    assert count == last and f"events up to seq {last}" in lines[-1], "a consistent copy: gapless up to its last seq"
    assert day_server.running
    # The copy is a database the server restores from.
    restored = server_factory(db_path=copy)
    status, fills = restored.get_json("/api/fills?account=ACC1")
    assert status == 200 and {f["execId"] for f in fills["fills"]} == {"F1", "F2"}
    again = cli("backup", "--out", "copy.db", "--db", str(day_server.db_path), cwd=outside)
    assert again.returncode != 0 and "already exists" in one_human_line(again.stderr)


# -- export ---------------------------------------------------------------------------------------

def read_csv(text: str) -> list[dict]:
    assert text.endswith("\r\n"), "CRLF line ends, as Excel writes them"
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_export_fills_as_csv_with_display_and_exact_prices(day_server, outside):
    done = cli("export", "fills", "--db", str(day_server.db_path), cwd=outside)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\r\n")[0] == ("trade_date,time,seq,exec_id,account,instrument,side,qty,price,price_decimal,"
                                            "status,original_qty,original_price_decimal,source")
    rows = {row["exec_id"]: row for row in read_csv(done.stdout)}
    assert set(rows) == {"F1", "F2", "F3", "F4"}
    f1 = rows["F1"]
    assert (f1["account"], f1["instrument"], f1["side"], f1["qty"]) == ("ACC1", "ZNZ6", "buy", "3")
    assert f1["price"] == "110'085" and f1["price_decimal"] == "110.265625"
    assert f1["time"].endswith("Z") and f1["time"][10] == "T" and len(f1["time"]) == 24
    assert rows["F2"]["status"] == "busted"
    assert rows["F3"]["price"] == "6012.25" and rows["F4"]["price_decimal"] == "6013.5"
    assert [int(r["seq"]) for r in read_csv(done.stdout)] == sorted(int(r["seq"]) for r in rows.values())
    # --account and --date filter; the trade date is the desk's trading day.
    only = read_csv(cli("export", "fills", "--db", str(day_server.db_path), "--account", "ACC2", cwd=outside).stdout)
    assert {r["exec_id"] for r in only} == {"F3", "F4"}
    day = f1["trade_date"]
    assert len(read_csv(cli("export", "fills", "--db", str(day_server.db_path), "--date", day, cwd=outside).stdout)) == 4
    other = cli("export", "fills", "--db", str(day_server.db_path), "--date", "2001-01-02", cwd=outside)
    assert other.returncode == 0 and other.stdout.count("\r\n") == 1, "a day without fills: the header only"


def test_export_ndjson_and_to_a_file(day_server, outside):
    done = cli("export", "fills", "--format", "ndjson", "--db", str(day_server.db_path), cwd=outside)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 4 and all(isinstance(v, str) for row in rows for v in row.values())
    assert rows[0]["exec_id"] == "F1" and rows[0]["price_decimal"] == "110.265625"
    to_file = cli("export", "fills", "--out", "day.csv", "--db", str(day_server.db_path), cwd=outside)
    assert to_file.returncode == 0 and to_file.stdout == ""
    assert "exported 4 fills rows to day.csv" in to_file.stderr
    assert (outside / "day.csv").read_bytes().decode() == cli("export", "fills", "--db", str(day_server.db_path), cwd=outside).stdout


def test_export_positions_equals_the_live_snapshot_money_exact(day_server, outside):
    status, snapshot = day_server.get_json("/api/snapshot")
    assert status == 200
    live = {(p["account"], p["instrument"]): p for p in snapshot["positions"]}
    done = cli("export", "positions", "--db", str(day_server.db_path), cwd=outside)
    assert done.returncode == 0, done.stderr
    rows = read_csv(done.stdout)
    assert {(r["account"], r["instrument"]) for r in rows} == set(live)
    for row in rows:
        p = live[(row["account"], row["instrument"])]
        assert int(row["net"]) == p["net"]
        assert (row["realized"], row["unrealized"], row["total"]) == (p["realized"], p["unrealized"], p["total"])
    zn = next(r for r in rows if r["instrument"] == "ZNZ6")
    assert zn["mark"] == "110'100" and zn["mark_decimal"] == "110.3125"
    day = read_csv(cli("export", "fills", "--db", str(day_server.db_path), cwd=outside).stdout)[0]["trade_date"]
    assert len(read_csv(cli("export", "positions", "--date", day, "--db", str(day_server.db_path), cwd=outside).stdout)) == len(rows)
    before = read_csv(cli("export", "positions", "--date", "2001-01-02", "--db", str(day_server.db_path), cwd=outside).stdout)
    assert before == [], "positions as they stood at an earlier close: none yet"
    acc2 = read_csv(cli("export", "positions", "--account", "ACC2", "--db", str(day_server.db_path), cwd=outside).stdout)
    assert [r["instrument"] for r in acc2] == ["ESZ6"] and acc2[0]["realized"] == "62.5"


def test_export_audit_csv(day_server, outside):
    rows = read_csv(cli("export", "audit", "--db", str(day_server.db_path), cwd=outside).stdout)
    actions = [r["action"] for r in rows]
    assert actions[0] == "config_load" and "sod" in actions and "bust" in actions
    bust = next(r for r in rows if r["action"] == "bust")
    assert bust["detail"] == "F2" and bust["seq"].isdigit() and bust["time"].endswith("Z")


# -- audit ------------------------------------------------------------------------------------------

def test_audit_prints_a_readable_trail_filtered_by_kind_and_time(day_server, outside):
    status, _ = day_server.post_fills([{"type": "fill", "execId": "BAD", "account": "ACC1", "instrument": "ZNZ6",
                                        "side": "buy", "qty": 1, "price": "110-08.25"}])
    assert status >= 400
    done = cli("audit", "--db", str(day_server.db_path), cwd=outside)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "server" in lines[0] and "config_load" in lines[0] and "environment sim" in lines[0]
    bust = next(line for line in lines if " bust " in line)
    assert bust[:24].endswith("Z") and "F2" in bust and "(seq " in bust
    rejected = cli("audit", "--kind", "reject", "--db", str(day_server.db_path), cwd=outside)
    assert rejected.stdout.count("\n") == 1 and "price_off_grid" in rejected.stdout
    assert "1 audit entries of kind reject" in rejected.stderr
    future = cli("audit", "--since", "2199-01-01T00:00:00Z", "--db", str(day_server.db_path), cwd=outside)
    assert future.returncode == 0 and future.stdout == ""
    past = cli("audit", "--since", "2001-01-01", "--db", str(day_server.db_path), cwd=outside)
    assert past.stdout == done.stdout
    last = cli("audit", "--limit", "1", "--db", str(day_server.db_path), cwd=outside)
    assert last.stdout.splitlines() == [lines[-1]]


# -- db check -----------------------------------------------------------------------------------------

def post_until_checkpointed(server) -> None:
    """DAY one commit at a time, then marks until a ledger checkpoint is stored. A checkpoint is
    encoded off the ingest thread and stored with a later commit, so how many commits that takes
    depends on the scheduler: wait for the row, not for a time."""
    for item in DAY:
        status, body = server.post_fills([item])
        assert status == 200, body
    for n in range(500):
        with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
            if db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] >= 1:
                return
        status, body = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": f"110-{10 + n % 2}"}])
        assert status == 200, body
    pytest.fail("no ledger checkpoint after 500 more commits")


def test_db_check_passes_on_a_good_database_while_serving(server_factory, tmp_path, outside):
    from test_push_support import write_config
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, checkpointEvery=3))])
    post_until_checkpointed(server)
    done = cli("db", "check", "--db", str(server.db_path), cwd=outside)
    assert done.returncode == 0, done.stderr
    assert "integrity: ok" in done.stderr
    assert "ledger: replay from the checkpoint at seq" in done.stderr
    assert done.stderr.splitlines()[-1] == f"db check ok: {server.db_path}"


def test_db_check_finds_a_fill_without_its_row_and_a_journal_that_disagrees_with_its_checkpoint(server_factory, tmp_path, outside):
    from test_push_support import write_config
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, checkpointEvery=3))])
    post_until_checkpointed(server)
    server.stop()
    with sqlite3.connect(server.db_path) as db:
        assert db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] >= 1
        # Change history before the checkpoint: the checkpoint no longer matches the events.
        db.execute("""UPDATE events SET payload = replace(payload, '"qty":3', '"qty":5') WHERE seq = 2""")
        # A fill row is its event's row (journal v4): lose its fill columns.
        db.execute("UPDATE events SET qty = NULL WHERE exec_id = 'F4' AND kind = 'fill'")
    done = cli("db", "check", "--db", str(server.db_path), cwd=outside)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if line.startswith("PROBLEM: ")]
    assert any("fill events but" in p for p in problems), done.stderr
    assert any("differs from the full replay" in p and "ACC1/ZNZ6" in p for p in problems), done.stderr
    assert done.stderr.splitlines()[-1].startswith("db check FAILED")


# -- progress -------------------------------------------------------------------------------------------

def test_long_work_prints_progress_and_a_rate(day_server, outside, server_factory):
    """The one-second quiet period is an environment setting; at 0 every progress line shows, so
    this checks the lines without timing anything."""
    now = {"LADDERWIRE_PROGRESS_AFTER_SECONDS": "0"}
    export = cli("export", "fills", "--db", str(day_server.db_path), cwd=outside, env=now)
    assert any(line.startswith("export: 4 of 4 fills (100%)") and "fills/s" in line for line in export.stderr.splitlines()), export.stderr
    check = cli("db", "check", "--db", str(day_server.db_path), cwd=outside, env=now)
    assert "db check (full replay): " in check.stderr and "events/s, done in" in check.stderr
    quiet = cli("export", "fills", "--db", str(day_server.db_path), cwd=outside)
    assert quiet.stderr == "", "short work prints no progress"
    day_server.stop()
    restarted = server_factory(db_path=day_server.db_path, env=now)
    recovery = [line for line in restarted.stdout_text().splitlines() if line.startswith("recovery: ")]
    assert recovery and "events/s, done in" in recovery[-1], restarted.stdout_text()
    recorder = subprocess.Popen([str(ladderwire_binary()), "record", "--url", restarted.ws_url, "--out", "rec.ndjson",
                                 "--count", "2"], cwd=str(outside), env=dict(os.environ, **now),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for n in (1, 2, 3):
            # Sent until the recorder has what it waits for (it subscribes in its own time).
            status, body = restarted.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": f"110-1{n}"}])
            assert status == 200, body
        out, err = recorder.communicate(timeout=5) if recorder.poll() is not None else (None, None)
        if out is None:
            n = 3
            while recorder.poll() is None and n < 200:
                n += 1
                restarted.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-1" + str(n % 10)}])
            out, err = recorder.communicate(timeout=20)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 0, err
    assert any(line.startswith("record: 2 of 2 events (100%)") for line in err.splitlines()), err
