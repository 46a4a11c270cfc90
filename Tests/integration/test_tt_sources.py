"""TT sources end to end against a loopback fake TT REST API: the orders monitor drives an order's
life (new → partial fill → replace → cancel) into the ledger each once, across a SIGKILL; it reads
the working orders over several pages, and neither a page that fails nor a kill in the middle of a
paged read loses or repeats a change, nor does an order that moves across a page boundary while
a poll is between pages get cancelled; the fill poller's fills name their order and its trade
cancel busts a fill; the reconciliation monitor reports a position break injected at TT on
/healthz, /metrics, the text mode and the page."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from test_push_support import ws_connect

ENV = "ext_uat_cert"
# TT's orderStatus numbering (its order enums.proto), as the orders monitor reads it.
NEW, PARTIALLY_FILLED, CANCELED = "1", "2", "5"


class FakeTT:
    """Tokens, fills (by timeStamp window), working orders (in pages keyed by `nextPageKey`, as
    TT's list endpoints page) and positions, all scripted, with faults per orders page."""

    def __init__(self):
        # Reentrant, so a test can make several changes in one step (`with fake.lock:`).
        self.lock = threading.RLock()
        self.fills: list[dict] = []
        self.orders: dict[str, dict] = {}
        self.positions: list[dict] = []
        self.requests: list[str] = []
        # Orders paging: `order_page_size` orders a page (None: one page); a key leads to a page.
        self.order_page_size: int | None = None
        # The order the list is in when not by id (names every order), and a change to it made
        # once just before the request for a page is answered: TT's live list moving mid-poll.
        self.order_sequence: list[str] | None = None
        self.order_sequence_change: tuple[int, list[str]] | None = None
        self.order_page_of_key: dict[str, int] = {}
        self.order_keys: list[str | None] = []   # the nextPageKey of every orders request (None: page 1)
        # Faults served once to the request for that orders page: an HTTP status or "malformed".
        self.order_page_faults: list[tuple[int, int | str]] = []
        self.order_faults_served: list[tuple[int, int | str]] = []
        # One request for this orders page is held until `release_held_page()`.
        self.hold_page: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, body: dict, status: int = 200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with fake.lock:
                    fake.requests.append(self.path)
                if self.path.startswith(f"/ttid/{ENV}/token"):
                    return self.reply({"access_token": "T1", "token_type": "bearer", "seconds_until_expiry": 3600})
                self.reply({}, 404)

            def do_GET(self):
                url = urlparse(self.path)
                query = parse_qs(url.query)
                with fake.lock:
                    fake.requests.append(url.path)
                    if self.headers.get("Authorization") != "Bearer T1":
                        return self.reply({"status": "Unauthorized"}, 401)
                    if url.path == f"/ttledger/{ENV}/fills":
                        low, high = int(query["minTimestamp"][0]), int(query["maxTimestamp"][0])
                        page = sorted((f for f in fake.fills if low <= int(f["timeStamp"]) <= high), key=lambda f: int(f["timeStamp"]))[:100]
                        return self.reply({"lastPage": "true", "fills": page})
                    if url.path == f"/ttmonitor/{ENV}/position":
                        return self.reply({"positions": fake.positions})
                    if url.path != f"/ttledger/{ENV}/orders":
                        return self.reply({}, 404)
                    page, reply = fake.orders_page(query.get("nextPageKey", [None])[0])
                    if fake.hold_page != page:
                        return self.reply(*reply)
                    fake.hold_page = None
                # A held orders page: answered only after the test lets go (the client may be dead by then).
                fake.holding.set()
                fake.release.wait(30)
                try:
                    self.reply(*reply)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()

    def orders_page(self, key: str | None) -> tuple[int, tuple]:
        """(page number, reply) for an orders request; called with the lock held. Keyset paging
        by orderId (after the key's place in the list as it is then); `lastPage` "false" with a
        `nextPageKey` while orders remain."""
        page = 1 if key is None else self.order_page_of_key.get(key, 2)
        self.order_keys.append(key)
        fault = next((f for f in self.order_page_faults if f[0] == page), None)
        if fault is not None:
            self.order_page_faults.remove(fault)
            self.order_faults_served.append(fault)
            if fault[1] == "malformed":
                return page, ({"lastPage": "true", "orders": "not a list"}, 200)
            return page, ({"status": "Error"}, fault[1])
        if self.order_sequence_change and self.order_sequence_change[0] == page:
            self.order_sequence = self.order_sequence_change[1]
            self.order_sequence_change = None
        ids = [i for i in self.order_sequence if i in self.orders] if self.order_sequence else sorted(self.orders)
        if key is None:
            remaining = ids
        elif key in ids:
            remaining = ids[ids.index(key) + 1:]
        else:
            remaining = [i for i in ids if i > key]
        size = self.order_page_size or max(1, len(remaining))
        listed = remaining[:size]
        body = {"status": "Ok", "lastPage": "true", "orders": [self.orders[i] for i in listed]}
        if len(remaining) > size:
            body.update(lastPage="false", nextPageKey=listed[-1])
            self.order_page_of_key[listed[-1]] = page + 1
        return page, (body, 200)

    def release_held_page(self):
        self.release.set()

    def order_polls(self) -> int:
        """Orders polls begun so far (requests for page 1)."""
        with self.lock:
            return sum(1 for key in self.order_keys if key is None)

    def count(self, endpoint: str) -> int:
        """Requests served so far to the path ending in `endpoint` (fills, orders, position)."""
        with self.lock:
            return sum(1 for path in self.requests if path.endswith("/" + endpoint))

    def order(self, order_id, *, qty, leaves, price, side="1", status=NEW, filled=None):
        """An order with the fields and number forms of a real TT reply; `filled` defaults to
        qty − leaves."""
        with self.lock:
            self.orders[order_id] = {"orderId": order_id, "accountId": 12345, "instrumentId": "INS1", "side": side,
                                     "orderQty": float(qty), "leavesQuantity": float(leaves),
                                     "cumulatedQuantity": float(qty - leaves if filled is None else filled),
                                     "price": price, "orderStatus": status, "orderType": "2"}

    def fill(self, unique_exec_id, *, qty, price, order_id=None, side="1", **extra):
        now = time.time_ns()
        record = {"timeStamp": str(now), "transactTime": now, "uniqueExecId": unique_exec_id, "accountId": 12345,
                  "instrumentId": "INS1", "side": side, "lastQty": qty, "lastPx": price, **extra}
        if order_id:
            record["orderId"] = order_id
        with self.lock:
            self.fills.append(record)

    def position(self, *, net, bought, sold, sod=0):
        with self.lock:
            self.positions = [{"accountId": 12345, "instrumentId": "INS1", "netPosition": net, "buyFillQty": bought,
                               "sellFillQty": sold, "sodNetPos": sod, "pnl": 0, "realizedPnl": 0}]


@pytest.fixture
def fake_tt():
    tt = FakeTT()
    yield tt
    tt.stop()


def tt_server(server_factory, fake_tt, tmp_path, sources, **tt):
    config = {"sim": {"sources": {"enabled": sources, "tt": {**tt,
        "baseURL": fake_tt.url, "environment": ENV, "pollSeconds": 1, "requestsPerSecond": 25, "lookbackSeconds": 600,
        "tokenFile": str(tmp_path / "tt-token.json"), "backoffCapSeconds": 1,
        "accounts": {"12345": "ACC1"}, "instruments": {"INS1": {"symbol": "ZNZ6"}}}}}}
    return server_factory(sources=None, config=config,
                          env={"LADDERWIRE_TT_APP_KEY": "app-key", "LADDERWIRE_TT_APP_SECRET": "app-secret"})


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def order_of(server, order_id):
    status, snapshot = server.get_json("/api/snapshot")
    assert status == 200
    return next((o for o in snapshot["orders"] if o["orderId"] == order_id), None)


def order_events(server):
    import sqlite3
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT payload FROM events WHERE kind = 'order' ORDER BY seq")]


def test_tt_orders_and_fills_drive_an_orders_life_once_across_a_kill(server_factory, fake_tt, tmp_path):
    fake_tt.order("TT1", qty=5, leaves=5, price=110.25)
    server = tt_server(server_factory, fake_tt, tmp_path, ["tt", "ttorders"])
    order = wait_until(lambda: order_of(server, "TT1"), what="the TT order on the ladder")
    assert (order["leavesQty"], order["price"], order["account"], order["instrument"]) == (5, "110'080", "ACC1", "ZNZ6")

    # A partial fill at TT: the fill names the order, the leaves drop; the orders monitor sends nothing.
    fake_tt.order("TT1", qty=5, leaves=3, price=110.25, status=PARTIALLY_FILLED)
    fake_tt.fill("UF1", qty=2, price=110.25, order_id="TT1")
    wait_until(lambda: (order_of(server, "TT1") or {}).get("leavesQty") == 3, what="the partial fill")

    # A replace: price and total.
    fake_tt.order("TT1", qty=4, leaves=2, price=110.265625, status=PARTIALLY_FILLED)
    wait_until(lambda: (order_of(server, "TT1") or {}).get("price") == "110'085", what="the replace")
    assert order_of(server, "TT1")["qty"] == 4 and order_of(server, "TT1")["leavesQty"] == 2

    # Killed and restarted: nothing is sent twice, and a change made while it was down arrives once.
    server.kill()
    fake_tt.order("TT1", qty=4, leaves=0, price=110.265625, status=CANCELED, filled=2)
    fake_tt.fill("UB1", qty=2, price=110.25, execType="H", refUniqueExecId="UF1")
    server.start()
    wait_until(lambda: order_of(server, "TT1") is None, what="the cancel after the restart")
    # Two more polls of each source after that (counted at the fake, not timed) change nothing.
    polls = fake_tt.count("orders"), fake_tt.count("fills")
    wait_until(lambda: fake_tt.count("orders") >= polls[0] + 2 and fake_tt.count("fills") >= polls[1] + 2,
               what="two more polls")
    assert [(e["action"], e["version"]) for e in order_events(server)] == [("new", 1), ("replace", 2), ("cancel", 3)]
    status, fills = server.get_json("/api/fills?account=ACC1")
    assert [(f["execId"], f["status"]) for f in fills["fills"]] == [("UF1", "busted")]
    status, snapshot = server.get_json("/api/snapshot")
    assert all(p["net"] == 0 for p in snapshot["positions"] if p["instrument"] == "ZNZ6")


def working_order_ids(server) -> set[str]:
    status, snapshot = server.get_json("/api/snapshot")
    assert status == 200
    return {o["orderId"] for o in snapshot["orders"]}


def test_tt_orders_over_pages_survive_failing_pages_and_a_kill_mid_read(server_factory, fake_tt, tmp_path):
    fake_tt.order_page_size = 2
    for n in range(1, 6):
        fake_tt.order(f"P{n}", qty=n, leaves=n, price=110.25)
    server = tt_server(server_factory, fake_tt, tmp_path, ["ttorders"])
    wait_until(lambda: working_order_ids(server) == {"P1", "P2", "P3", "P4", "P5"}, what="five orders over three pages")
    assert fake_tt.order_keys[:3] == [None, "P2", "P4"]

    # In one step, TT's set changes and its pages fail: page 2 answers 500 for one poll, page 3 a
    # malformed body for the next. P1 replaced, P4 cancelled, P6 new: pages [P1 P2] [P3 P5] [P6].
    # A set diffed from page 1 alone would cancel P3 and P5.
    with fake_tt.lock:
        fake_tt.order_page_faults = [(2, 500), (3, "malformed")]
        fake_tt.order("P4", qty=4, leaves=0, price=110.25, status=CANCELED, filled=0)
        fake_tt.order("P1", qty=7, leaves=7, price=110.265625)
        fake_tt.order("P6", qty=6, leaves=6, price=110.28125)
    wait_until(lambda: working_order_ids(server) == {"P1", "P2", "P3", "P5", "P6"}, what="the changes after two failed polls")
    assert fake_tt.order_faults_served == [(2, 500), (3, "malformed")]
    assert order_of(server, "P1")["price"] == "110'085" and order_of(server, "P1")["qty"] == 7

    # Killed in the middle of a paged read: TT holds page 2 of a poll, the set changes, the server
    # dies, then comes back; the change arrives once, and nothing before it is sent again.
    with fake_tt.lock:
        fake_tt.hold_page = 2
    assert fake_tt.holding.wait(20), "a poll reached page 2"
    with fake_tt.lock:
        fake_tt.order("P2", qty=2, leaves=0, price=110.25, status=CANCELED, filled=0)
        fake_tt.order("P7", qty=1, leaves=1, price=110.25, side="2")
    server.kill()
    fake_tt.release_held_page()
    server.start()
    wait_until(lambda: working_order_ids(server) == {"P1", "P3", "P5", "P6", "P7"}, what="the change made during the kill")
    # Two more complete polls (counted at the fake) change nothing.
    polls = fake_tt.order_polls()
    wait_until(lambda: fake_tt.order_polls() >= polls + 3, what="two more polls")
    events = [(e["action"], e["orderId"], e["version"]) for e in order_events(server)]
    assert sorted(events[:5]) == [("new", f"P{n}", 1) for n in range(1, 6)]
    assert sorted(events[5:8]) == [("cancel", "P4", 2), ("new", "P6", 1), ("replace", "P1", 2)]
    assert sorted(events[8:]) == [("cancel", "P2", 2), ("new", "P7", 1)]


def test_a_working_order_that_moves_across_a_page_boundary_mid_poll_stays_on_the_ladder(server_factory, fake_tt, tmp_path):
    fake_tt.order_page_size = 2
    for n in range(1, 7):
        fake_tt.order(f"S{n}", qty=n, leaves=n, price=110.25)
    server = tt_server(server_factory, fake_tt, tmp_path, ["ttorders"])
    wait_until(lambda: working_order_ids(server) == {f"S{n}" for n in range(1, 7)}, what="six orders over three pages")

    # A poll reads [S1 S2] [S3 S4]; then S5 moves ahead of S4 in TT's list, so page 3 (after S4)
    # lists only S6 and that poll finds S5 on no page. It must not cancel S5: a cancel would stick
    # (a later `new` is a duplicate).
    with fake_tt.lock:
        fake_tt.order_sequence_change = (3, ["S1", "S2", "S3", "S5", "S4", "S6"])
    wait_until(lambda: fake_tt.order_sequence_change is None, what="a poll reaching page 3 after the move")
    # Two more complete polls (counted at the fake: a third has begun) after the one that missed S5.
    polls = fake_tt.order_polls()
    wait_until(lambda: fake_tt.order_polls() >= polls + 3, what="two more polls")
    assert working_order_ids(server) == {f"S{n}" for n in range(1, 7)}
    assert [(e["action"], e["orderId"]) for e in order_events(server)] == [("new", f"S{n}") for n in range(1, 7)]


def test_a_position_break_at_tt_shows_on_healthz_metrics_text_and_the_page(server_factory, fake_tt, tmp_path, request):
    fake_tt.position(net=3, bought=3, sold=0)
    server = tt_server(server_factory, fake_tt, tmp_path, ["ttrecon"])
    status, body = server.post_fills([{"type": "fill", "execId": "P1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
                                       "qty": 3, "price": "110-16"}])
    assert status == 200, body

    def recon():
        status, health = server.get_json("/healthz")
        monitor = next((m for m in health["monitors"] if m["name"] == "ttrecon"), None)
        return (monitor or {}).get("recon")
    lines = wait_until(lambda: (recon() or [None])[0] and recon()[0]["state"] == "match" and recon(), what="a match")
    assert lines == [{"account": "ACC1", "instrument": "ZNZ6", "state": "match", "ledger": {"net": 3, "bought": 3, "sold": 0, "sod": 0},
                      "tt": {"net": 3, "bought": 3, "sold": 0, "sod": 0}, "difference": 0}]

    with ws_connect(server, "/ws?format=text&channels=status") as ws:
        ws.recv(timeout=10)   # the snapshot
        polls = fake_tt.count("position")
        fake_tt.position(net=5, bought=5, sold=0)
        line = ws.recv(timeout=10)
        # Within one poll: the poll in flight at the injection (old data), the next one (the
        # break), and at most one more that may have started before this line was read.
        assert fake_tt.count("position") <= polls + 3, "the break arrived within a poll"
        assert "RECON    ACC1       ZNZ6   BREAK  ledger net    +3 (b 3 s 0 sod 0)  tt net    +5 (b 5 s 0 sod 0)  diff -2" in line, line
    assert recon()[0]["state"] == "break" and recon()[0]["difference"] == -2
    metrics = server.metrics()
    assert metrics['ladderwire_recon_lines{monitor="ttrecon",state="break"}'] == 1
    assert metrics['ladderwire_recon_lines{monitor="ttrecon",state="match"}'] == 0

    # The page shows it where the trader looks (headless Chromium, when installed).
    browser = request.getfixturevalue("browser") if _chromium() else None
    if browser is None:
        return
    from selenium.webdriver.common.by import By
    browser.get(server.url + "/")
    banner = wait_until(lambda: (lambda el: el if el.is_displayed() and "POSITION BREAK" in el.text else None)(
        browser.find_element(By.ID, "recon-banner")), what="the break banner")
    assert banner.text == "POSITION BREAK vs TT — ACC1 ZNZ6: ledger +3, TT +5 (diff −2)"
    fake_tt.position(net=3, bought=3, sold=0)
    wait_until(lambda: not browser.find_element(By.ID, "recon-banner").is_displayed(), what="the banner to clear")


CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = next((path for path in (os.environ.get("CHROMIUM"), shutil.which("chromium"),
                                   shutil.which("chromium-browser"), shutil.which("google-chrome")) if path), None)


def test_seed_sod_takes_tts_start_of_day_for_an_untraded_book_audited(server_factory, fake_tt, tmp_path):
    fake_tt.position(net=5, bought=0, sold=0, sod=5)
    server = tt_server(server_factory, fake_tt, tmp_path, ["ttrecon"], seedSOD=True)
    status, body = server.post_fills([{"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"}])
    assert status == 200, body

    def line():
        status, snapshot = server.get_json("/api/snapshot")
        return next((p for p in snapshot["positions"] if p["account"] == "ACC1" and p["instrument"] == "ZNZ6"), None)
    wait_until(lambda: (line() or {}).get("sodQty") == 5, what="TT's SOD in the ledger")
    assert line()["net"] == 5 and line()["avgPrice"] == "110'160"
    import sqlite3
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        audit = db.execute("SELECT actor, action, detail FROM audit WHERE action = 'sod' ORDER BY id").fetchall()
    assert audit[-1] == ("ttrecon", "sod", "ACC1/ZNZ6"), audit

    def recon():
        status, health = server.get_json("/healthz")
        return next(m for m in health["monitors"] if m["name"] == "ttrecon").get("recon")
    wait_until(lambda: recon() and recon()[0]["state"] == "match", what="the match after seeding")


def _chromium() -> bool:
    return CHROMIUM is not None and os.path.exists(CHROMEDRIVER) and importlib.util.find_spec("selenium") is not None


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
