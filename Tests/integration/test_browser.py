"""The browser ladder (static/) against the real server, in headless Chromium.

Posts the worked example of domain.md §4 (ZNZ6, LIFO, SOD long 2 at 110'160), opens the page and
checks what a trader sees: volumes on the right ladder rows, P&L equal to /api/snapshot to the
cent, a bust struck through, the connection indicator through a server restart, a resume without
duplicate blotter rows, a resync onto another database, a manual mark typed in 32nds, every row
label of every product against the server's own label, tokens (admin and account-scoped viewer),
a stale source, and the day's volume when the snapshot holds only the latest fills.
Screenshots go to var/screenshots/. Skips only when Chromium or chromedriver is not installed.
"""

import json
import os
import shutil
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = next((path for path in (os.environ.get("CHROMIUM"), shutil.which("chromium"),
                                   shutil.which("chromium-browser"), shutil.which("google-chrome"))
                 if path), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not os.path.exists(CHROMEDRIVER),
    reason="headless Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
)

SOD = {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"}
WORKED_FILLS = [
    {"type": "fill", "execId": "F1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3, "price": "110-18.5"},
    {"type": "fill", "execId": "F2", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110'200"},
    {"type": "fill", "execId": "F3", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 4, "price": "110-21+"},
    {"type": "fill", "execId": "F4", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 6, "price": "110-17"},
    {"type": "fill", "execId": "F5", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110.453125"},
]
# A fill on another account that is then busted: its volume must leave the ladder.
BUSTED = {"type": "fill", "execId": "X1", "account": "ACC2", "instrument": "ZNZ6", "side": "buy", "qty": 7, "price": "110-19"}
MARK = {"type": "mark", "instrument": "ZNZ6", "price": "110-16"}

# Ladder rows by exact decimal: (bought, sold) today at that price.
EXPECTED_VOLUME = {
    "110.578125": ("3", ""),   # F1 110'185
    "110.625": ("2", ""),      # F2 110'200
    "110.671875": ("", "4"),   # F3 110'215
    "110.53125": ("", "6"),    # F4 110'170
    "110.453125": ("2", ""),   # F5 110'145
    "110.59375": ("", ""),     # X1 110'190, busted
    "110.5": ("", ""),         # the mark, no fills
}


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post_ok(server, messages):
    status, body = server.post_fills(messages)
    assert 200 <= status < 300, f"server rejected {messages}: {status} {body}"
    return body


def displayed_money(text):
    """The decorated money text back as a Decimal: '+1,484.375 ▲' -> 1484.375, '−203.125 ▼' -> -203.125."""
    cleaned = text.replace("▲", "").replace("▼", "").replace(",", "").replace("−", "-").replace("+", "").strip()
    return Decimal(cleaned)


def cents(value):
    """To the cent as the page rounds for the eye: half away from zero."""
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,900", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as error:  # installed but broken is a failure, not a skip
        pytest.fail(f"headless Chromium is installed but could not start: {error.msg}", pytrace=False)
    yield driver
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
              and "WebSocket" not in entry["message"] and "ERR_CONNECTION_REFUSED" not in entry["message"]
              # expected: a rejected mark (4xx) and the token probe of a protected server (401)
              and "/api/fills" not in entry["message"] and "status of 401" not in entry["message"]]
    driver.quit()
    assert not errors, f"page logged errors: {errors}"


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def wait_for(driver, condition, timeout=15, message=""):
    def safe(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(safe, message)


def conn_state(driver):
    return driver.find_element(By.ID, "conn-state").text


def shown_seq(driver):
    text = driver.find_element(By.ID, "seq").text
    return int(text) if text.isdigit() else None


def ladder_row(driver, price_decimal):
    return driver.find_element(By.CSS_SELECTOR, f'#ladder tr[data-price="{price_decimal}"]')


def blotter_ids(driver):
    """Exec ids of the blotter rows, top to bottom, read in one go (rows move as fills arrive)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#blotter tr[data-exec-id]')].map((row) => row.dataset.execId)")


def test_ladder_shows_the_worked_example_live_and_resumes_after_a_restart(server, browser):
    post_ok(server, [SOD])
    post_ok(server, WORKED_FILLS)
    post_ok(server, [BUSTED])
    post_ok(server, [{"type": "bust", "execId": "X1"}])
    post_ok(server, [MARK])
    snapshot = get_json(f"{server.url}/api/snapshot")

    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    wait_for(browser, lambda d: shown_seq(d) == snapshot["seq"], message=f"seq never reached {snapshot['seq']}")
    Select(browser.find_element(By.ID, "instrument-select")).select_by_value("ZNZ6")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.5"]'),
             message="the mark row 110.5 is not highlighted")

    # Ladder: today's volume on the exact price rows, labelled like the server labels them.
    for price, (bought, sold) in EXPECTED_VOLUME.items():
        row = ladder_row(browser, price)
        assert row.find_element(By.CSS_SELECTOR, ".bought").text == bought, f"bought at {price}"
        assert row.find_element(By.CSS_SELECTOR, ".sold").text == sold, f"sold at {price}"
    server_labels = {fill["priceDecimal"]: fill["price"] for fill in snapshot["fills"] if fill["instrument"] == "ZNZ6"}
    for price, label in server_labels.items():
        assert ladder_row(browser, price).find_element(By.CSS_SELECTOR, ".price").text.lstrip("◆ ") == label

    # P&L equals the server's snapshot, exactly and to the cent on screen.
    line = next(p for p in snapshot["positions"] if p["account"] == "ACC1" and p["instrument"] == "ZNZ6")
    assert (line["realized"], line["unrealized"], line["total"], line["net"]) == ("453.125", "31.25", "484.375", -1)
    row = browser.find_element(By.CSS_SELECTOR, '#positions tr[data-account="ACC1"][data-instrument="ZNZ6"]')
    for field in ("realized", "unrealized", "total"):
        cell = row.find_element(By.CSS_SELECTOR, f".{field}")
        assert cell.get_attribute("data-value") == line[field]
        assert cents(displayed_money(cell.text)) == cents(line[field])
    assert row.find_element(By.CSS_SELECTOR, ".net").text == "−1"
    desk_total = browser.find_element(By.ID, "desk-total")
    assert desk_total.get_attribute("data-value") == snapshot["desk"]["total"]
    assert cents(displayed_money(desk_total.text)) == cents(snapshot["desk"]["total"])
    # Projected P&L: at the mark it is the instrument's total; two ticks up, short 1 loses 31.25.
    instrument_total = sum(Decimal(p["total"]) for p in snapshot["positions"] if p["instrument"] == "ZNZ6")
    assert Decimal(ladder_row(browser, "110.5").find_element(By.CSS_SELECTOR, ".pnl").get_attribute("data-value")) == instrument_total
    assert Decimal(ladder_row(browser, "110.53125").find_element(By.CSS_SELECTOR, ".pnl").get_attribute("data-value")) == instrument_total - Decimal("31.25")

    # Blotter: the bust is struck through, every fill exactly once.
    busted = browser.find_element(By.CSS_SELECTOR, '#blotter tr[data-exec-id="X1"]')
    assert "busted" in busted.get_attribute("class").split()
    assert "line-through" in busted.find_element(By.CSS_SELECTOR, "td.qty").value_of_css_property("text-decoration-line")
    before = blotter_ids(browser)
    assert sorted(before) == ["F1", "F2", "F3", "F4", "F5", "X1"]
    # "Load more" merges the server's history by execId: nothing doubles, every row gets its seq.
    browser.find_element(By.ID, "load-more").click()
    server_seqs = {fill["execId"]: str(fill["seq"]) for fill in get_json(f"{server.url}/api/fills?account=ACC1&limit=50")["fills"]}
    wait_for(browser, lambda d: all(
        d.find_element(By.CSS_SELECTOR, f'#blotter tr[data-exec-id="{exec_id}"] td.seq').text == seq
        for exec_id, seq in server_seqs.items()), message="load more did not fill in the seqs")
    assert blotter_ids(browser) == before
    screenshot(browser, "ladder-live")

    # The server goes away: the page says so.
    seq_before = shown_seq(browser)
    server.stop()
    wait_for(browser, lambda d: conn_state(d) == "reconnecting", timeout=10, message="page did not notice the server stopped")
    screenshot(browser, "ladder-reconnecting")

    # It comes back on the same database: the page resumes from its seq, no snapshot, no duplicates.
    server.start()
    wait_for(browser, lambda d: conn_state(d) == "live", timeout=40, message="page did not resume after restart")
    assert browser.find_element(By.ID, "conn-state").get_attribute("data-sync") == "resumed"
    assert shown_seq(browser) == seq_before
    assert blotter_ids(browser) == before

    post_ok(server, [{"type": "fill", "execId": "F6", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 1, "price": "110-16"}])
    wait_for(browser, lambda d: "F6" in blotter_ids(d), message="a fill after the restart never showed")
    ids = blotter_ids(browser)
    assert ids[0] == "F6" and len(ids) == len(set(ids)) == len(before) + 1
    assert shown_seq(browser) > seq_before
    wait_for(browser, lambda d: ladder_row(d, "110.5").find_element(By.CSS_SELECTOR, ".sold").text == "1")
    after = get_json(f"{server.url}/api/snapshot")
    line = next(p for p in after["positions"] if p["account"] == "ACC1" and p["instrument"] == "ZNZ6")
    row = browser.find_element(By.CSS_SELECTOR, '#positions tr[data-account="ACC1"][data-instrument="ZNZ6"]')
    wait_for(browser, lambda d: row.find_element(By.CSS_SELECTOR, ".total").get_attribute("data-value") == line["total"])
    assert row.find_element(By.CSS_SELECTOR, ".net").text == "−2"


def test_manual_mark_in_32nds_moves_the_ladder_and_rejections_show_the_server_text(server, browser):
    post_ok(server, [SOD, MARK])
    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.5"]'))

    Select(browser.find_element(By.ID, "mark-instrument")).select_by_value("ZNZ6")
    price = browser.find_element(By.ID, "mark-price")
    price.clear()
    price.send_keys("110-08.5")
    browser.find_element(By.CSS_SELECTOR, "#mark-form button[type=submit]").click()
    wait_for(browser, lambda d: "accepted" in d.find_element(By.ID, "mark-result").text)
    # Auto-recentre brings the new mark row into the ladder; its label is the server's.
    row = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.265625"]'),
                   message="the new mark row is not highlighted")[0]
    assert row.find_element(By.CSS_SELECTOR, ".price").text == "110'085"
    line = next(p for p in get_json(f"{server.url}/api/snapshot")["positions"] if p["account"] == "ACC1" and p["instrument"] == "ZNZ6")
    assert line["markDecimal"] == "110.265625"
    cell = browser.find_element(By.CSS_SELECTOR, '#positions tr[data-account="ACC1"][data-instrument="ZNZ6"] .unrealized')
    wait_for(browser, lambda d: cell.get_attribute("data-value") == line["unrealized"])

    # A mark far off the column: auto-recentre rebuilds the ladder around it.
    post_ok(server, [{"type": "mark", "instrument": "ZNZ6", "price": "108-00"}])
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="108"]'),
             message="auto-recentre did not follow a distant mark")
    # Scrolled away, Space brings the mark row back to the middle of the column.
    browser.execute_script("document.getElementById('ladder-scroll').scrollTop = 0")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)
    wait_for(browser, lambda d: d.execute_script("""
        const scroller = document.getElementById('ladder-scroll').getBoundingClientRect();
        const mark = document.querySelector('#ladder tr.mark').getBoundingClientRect();
        return Math.abs((mark.top + mark.bottom) / 2 - (scroller.top + scroller.bottom) / 2) < mark.height;
    """), message="Space did not recentre the ladder on the mark")
    post_ok(server, [{"type": "mark", "instrument": "ZNZ6", "price": "110-08.5"}])
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.265625"]'))

    price.clear()
    price.send_keys("110-08.3")  # off the ZN grid: rejected, and nothing changes
    browser.find_element(By.CSS_SELECTOR, "#mark-form button[type=submit]").click()
    result = wait_for(browser, lambda d: d.find_element(By.ID, "mark-result") if d.find_element(By.ID, "mark-result").get_attribute("data-kind") == "error" else None)
    assert result.text.startswith("Rejected: ") and len(result.text) > len("Rejected: ")
    assert browser.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.265625"]')
    for text in browser.find_element(By.TAG_NAME, "body").text.split():
        assert text not in ("NaN", "undefined", "null")
    screenshot(browser, "ladder-manual-mark")


def test_protected_server_asks_for_a_token_and_uses_it_for_the_socket_and_the_mark(server_factory, browser, tmp_path):
    from conftest import run_cli

    config = tmp_path / "protected.json"
    config.write_text(json.dumps({"shared": {"allowAnonymousViewers": False, "tokensFile": str(tmp_path / "tokens.json")}}))
    added = run_cli("token", "add", "desk", "--role", "admin", "--config", str(config))
    assert added.returncode == 0, added.stderr
    token = added.stdout.split()[0]
    server = server_factory(extra_args=["--config", str(config)])
    status, _ = server.post_fills([SOD, MARK])
    assert status == 401
    status, body = server.post_fills([SOD, MARK], token=token)
    assert 200 <= status < 300, body

    browser.get(server.url + "/")
    wait_for(browser, lambda d: "needs a token" in d.find_element(By.ID, "notice").text,
             message="the page did not say the server wants a token")
    assert conn_state(browser) == "connecting"

    browser.find_element(By.ID, "token-input").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    wait_for(browser, lambda d: conn_state(d) == "live", message="the token did not open the socket")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#positions tr[data-account="ACC1"][data-instrument="ZNZ6"]'))

    Select(browser.find_element(By.ID, "mark-instrument")).select_by_value("ZNZ6")
    browser.find_element(By.ID, "mark-price").send_keys("110-16+")
    browser.find_element(By.CSS_SELECTOR, "#mark-form button[type=submit]").click()
    wait_for(browser, lambda d: "accepted" in d.find_element(By.ID, "mark-result").text,
             message="the mark with a token was not accepted")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.515625"]'))
    # The token lives in this tab's session: a reload stays connected.
    browser.refresh()
    wait_for(browser, lambda d: conn_state(d) == "live", message="reload lost the token")


def test_a_different_database_after_restart_replaces_the_page_state(server, browser, tmp_path):
    post_ok(server, [SOD, MARK] + WORKED_FILLS[:2])
    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    wait_for(browser, lambda d: sorted(blotter_ids(d)) == ["F1", "F2"])
    old_epoch = browser.find_element(By.ID, "epoch").text

    # Same address, new database: the resume cannot be served, the server sends resync:true.
    server.stop()
    wait_for(browser, lambda d: conn_state(d) == "reconnecting", timeout=10)
    server.db_path = tmp_path / "other.db"
    server.start()
    post_ok(server, [{"type": "fill", "execId": "N1", "account": "ACC3", "instrument": "ZBZ6", "side": "sell", "qty": 4, "price": "115-18"}])
    wait_for(browser, lambda d: conn_state(d) == "live", timeout=40, message="page did not reconnect")
    wait_for(browser, lambda d: blotter_ids(d) == ["N1"], message="the old database's fills are still shown")
    assert browser.find_element(By.ID, "conn-state").get_attribute("data-sync") == "resync"
    assert browser.find_element(By.ID, "epoch").text not in (old_epoch, "—")
    assert not browser.find_elements(By.CSS_SELECTOR, '#positions tr[data-account="ACC1"]')
    row = browser.find_element(By.CSS_SELECTOR, '#positions tr[data-account="ACC3"][data-instrument="ZBZ6"]')
    assert row.find_element(By.CSS_SELECTOR, ".net").text == "−4"


def test_every_ladder_row_is_labelled_exactly_as_the_server_labels_that_price(server, browser):
    from websockets.sync.client import connect

    symbols = {"ZTZ6": "102-30.25", "ZFZ6": "107-18.25", "ZNZ6": "110-16", "TNZ6": "113-08.5",
               "ZBZ6": "115-18", "UBZ6": "120-01", "ESZ6": "6012.25"}
    post_ok(server, [{"type": "mark", "instrument": symbol, "price": price} for symbol, price in symbols.items()])
    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    rows_by_symbol = {}
    for symbol in symbols:
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#instrument-select option[value="{symbol}"]'))
        Select(browser.find_element(By.ID, "instrument-select")).select_by_value(symbol)
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#ladder[data-instrument="{symbol}"] tr.mark'))
        rows_by_symbol[symbol] = browser.execute_script(
            "return [...document.querySelectorAll('#ladder tbody tr[data-price]')]"
            ".map((row) => [row.dataset.price, row.querySelector('.price').textContent])")
        assert len(rows_by_symbol[symbol]) > 40

    # Mark every row's exact decimal and read the server's own label for it off a subscriber.
    with connect(f"{server.ws_url}/ws?channels=marks", open_timeout=10) as subscriber:
        assert json.loads(subscriber.recv(timeout=10))["type"] == "snapshot"
        for symbol, rows in rows_by_symbol.items():
            post_ok(server, [{"type": "mark", "instrument": symbol, "price": price} for price, _ in rows])
        server_labels = {}
        wanted = sum(len(rows) for rows in rows_by_symbol.values())
        while len(server_labels) < wanted:
            message = json.loads(subscriber.recv(timeout=10))
            if message["type"] == "mark":
                server_labels[(message["instrument"], message["priceDecimal"])] = message["price"]
    for symbol, rows in rows_by_symbol.items():
        mismatches = [(price, label, server_labels.get((symbol, price))) for price, label in rows
                      if server_labels.get((symbol, price)) != label]
        assert not mismatches, f"{symbol}: (decimal, page, server) {mismatches[:5]}"


def test_a_degraded_source_shows_the_page_as_stale(server_factory, browser, tmp_path):
    config = tmp_path / "broken-replay.json"
    config.write_text(json.dumps({"shared": {"sources": {"replay": {"file": str(tmp_path / "missing.ndjson")}}}}))
    server = server_factory(sources="replay", extra_args=["--config", str(config)])
    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "stale", timeout=20, message="a degraded source did not make the page stale")
    sources = browser.find_element(By.ID, "sources")
    assert "replay" in sources.text and "stale" in sources.text
    assert "missing.ndjson" in sources.get_attribute("title")


def test_ladder_volume_covers_the_whole_day_when_the_snapshot_holds_only_the_latest_fills(server_factory, browser, tmp_path):
    config = tmp_path / "short-snapshot.json"
    config.write_text(json.dumps({"shared": {"limits": {"snapshotFills": 2}}}))
    server = server_factory(extra_args=["--config", str(config)])
    post_ok(server, [SOD])
    post_ok(server, WORKED_FILLS)
    post_ok(server, [BUSTED, {"type": "bust", "execId": "X1"}, MARK])
    assert len(get_json(f"{server.url}/api/snapshot")["fills"]) == 2

    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    Select(browser.find_element(By.ID, "instrument-select")).select_by_value("ZNZ6")

    def volumes(driver):
        return {price: (ladder_row(driver, price).find_element(By.CSS_SELECTOR, ".bought").text,
                        ladder_row(driver, price).find_element(By.CSS_SELECTOR, ".sold").text) for price in EXPECTED_VOLUME}
    wait_for(browser, lambda d: volumes(d) == EXPECTED_VOLUME,
             message=f"ladder volume is not the whole day: {volumes(browser)}")
    assert len(blotter_ids(browser)) == 2  # the blotter still shows what the snapshot gave


def test_a_viewer_scoped_to_one_account_sees_only_that_account(server_factory, browser, tmp_path):
    from conftest import run_cli

    config = tmp_path / "scoped.json"
    config.write_text(json.dumps({"shared": {"allowAnonymousViewers": False, "tokensFile": str(tmp_path / "tokens.json")}}))
    tokens = {}
    for name, args in {"admin": ["--role", "admin"], "viewer": ["--role", "viewer", "--accounts", "ACC1"]}.items():
        added = run_cli("token", "add", name, *args, "--config", str(config))
        assert added.returncode == 0, added.stderr
        tokens[name] = added.stdout.split()[0]
    server = server_factory(extra_args=["--config", str(config)])
    status, body = server.post_fills([SOD, WORKED_FILLS[0], {**WORKED_FILLS[3], "execId": "OTHER", "account": "ACC2"}, MARK],
                                     token=tokens["admin"])
    assert 200 <= status < 300, body

    browser.get(server.url + "/")
    browser.find_element(By.ID, "token-input").send_keys(tokens["viewer"])
    browser.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    wait_for(browser, lambda d: conn_state(d) == "live", message="the viewer token did not open the socket")
    wait_for(browser, lambda d: ladder_row(d, "110.578125").find_element(By.CSS_SELECTOR, ".bought").text == "3")
    assert ladder_row(browser, "110.53125").find_element(By.CSS_SELECTOR, ".sold").text == ""  # ACC2's fill
    accounts = {row.get_attribute("data-account") for row in browser.find_elements(By.CSS_SELECTOR, "#positions tr[data-account]")}
    assert accounts == {"ACC1"}
    assert browser.find_element(By.ID, "desk-total").text == "—"  # no desk totals for a scoped viewer

    # "Load more" without an account filter falls back to the accounts the token may see.
    browser.find_element(By.ID, "load-more").click()
    wait_for(browser, lambda d: "cap 1000" in d.find_element(By.ID, "blotter-count").get_attribute("textContent"),
             message="load more did not complete")
    assert not browser.find_element(By.ID, "notice").is_displayed()
    assert blotter_ids(browser) == ["F1"]


# docs/ledger.md, "The ladder": ACC1 long 30 from 110'160, mark 110'165, three working orders.
LADDER_EXAMPLE = [
    {"type": "fill", "execId": "L1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 30, "price": "110'160"},
    {"type": "mark", "instrument": "ZNZ6", "price": "110'165"},
    {"type": "order", "action": "new", "orderId": "S20", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 20, "price": "110'175"},
    {"type": "order", "action": "new", "orderId": "S10", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 10, "price": "110'185"},
    {"type": "order", "action": "new", "orderId": "B20", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 20, "price": "110'150"},
]
# price decimal: (buys, sells, Pos, projected P&L exact, on screen, Risk on screen, Breakeven)
LADDER_ROWS = {
    "110.59375": ("", "", "", "1718.75", "+1,718.75", "", ""),
    "110.578125": ("", "10", "", "1718.75", "+1,718.75", "", ""),
    "110.5625": ("", "", "+10", "1562.5", "+1,562.50", "+156.25", "10.0"),
    "110.546875": ("", "20", "+10", "1406.25", "+1,406.25", "+156.25", "9.0"),
    "110.53125": ("", "", "+30", "937.5", "+937.50", "+468.75", "2.0"),
    "110.515625": ("", "", "+30", "468.75", "+468.75", "+468.75", "1.0"),
    "110.5": ("", "", "+30", "0", "0.00", "+468.75", "0.0"),
    "110.484375": ("", "", "+30", "-468.75", "−468.75", "+468.75", "−1.0"),
    "110.46875": ("20", "", "+50", "-937.5", "−937.50", "+781.25", "−1.2"),
    "110.453125": ("", "", "+50", "-1718.75", "−1,718.75", "+781.25", "−2.2"),
}


def ladder_cells(driver, price):
    return driver.execute_script("""
        const row = document.querySelector(`#ladder tr[data-price="${arguments[0]}"]`);
        if (!row) return null;
        const text = (name) => row.querySelector(`.${name}`).textContent;
        return [text('buys'), text('sells'), text('pos'), row.querySelector('.pnl').dataset.value ?? '',
                text('pnl'), text('risk'), text('breakeven'), row.querySelector('.pnl').title];
    """, price)


def test_ladder_columns_follow_the_worked_example(server, browser):
    post_ok(server, LADDER_EXAMPLE)
    # Another account's order is summed in "All accounts" and left out when ACC1 is chosen.
    post_ok(server, [{"type": "fill", "execId": "L2", "account": "ACC2", "instrument": "ZNZ6", "side": "buy", "qty": 1, "price": "110'165"},
                     {"type": "order", "action": "new", "orderId": "X1", "account": "ACC2", "instrument": "ZNZ6", "side": "sell", "qty": 1, "price": "110'170"}])
    browser.get(server.url + "/")
    wait_for(browser, lambda d: conn_state(d) == "live", message="page never went live")
    Select(browser.find_element(By.ID, "instrument-select")).select_by_value("ZNZ6")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#ladder tr.mark[data-price="110.515625"]'),
             message="the mark row 110'165 is not highlighted")
    # All accounts: ACC2's sell 1 at 110'170 is on the ladder.
    wait_for(browser, lambda d: (ladder_cells(d, "110.53125") or [None, None])[1] == "1", message="ACC2's order is not summed")

    Select(browser.find_element(By.ID, "account-select")).select_by_value("ACC1")
    wait_for(browser, lambda d: (ladder_cells(d, "110.53125") or [None, "x"])[1] == "" and
             browser.find_element(By.ID, "ladder").get_attribute("data-account") == "ACC1",
             message="the ladder did not follow the account")
    for price, expected in LADDER_ROWS.items():
        wait_for(browser, lambda d: ladder_cells(d, price) is not None and tuple(ladder_cells(d, price)[:7]) == expected,
                 timeout=10, message=f"row {price}: {ladder_cells(browser, price)} != {expected}")
    # The exact figure is on hover; the screen shows dollars and cents.
    assert ladder_cells(browser, "110.453125")[7] == "exact: −1,718.75"
    # DV01 of the instrument for the account, from the instrument definition: 30 × $72.
    assert "dv01 2,160" in browser.find_element(By.ID, "ladder-info").text.lower()
    # Colours: working buys blue-left, sells red-right; long Pos and Risk blue.
    row = ladder_row(browser, "110.46875")
    assert row.find_element(By.CSS_SELECTOR, ".buys").value_of_css_property("color") == \
        row.find_element(By.CSS_SELECTOR, ".pos").value_of_css_property("color")
    assert row.find_element(By.CSS_SELECTOR, ".pos").get_attribute("data-side") == "long"
    # The rows cover every working order and the mark, with a tick of padding.
    prices = [Decimal(p) for p in browser.execute_script(
        "return [...document.querySelectorAll('#ladder tbody tr[data-price]')].map((r) => r.dataset.price)")]
    assert max(prices) >= Decimal("110.59375") and min(prices) <= Decimal("110.453125")
    screenshot(browser, "ladder-orders")

    # A partial fill of the 20 at 110'175 moves the working quantity on the page.
    post_ok(server, [{"type": "fill", "execId": "L3", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 5,
                      "price": "110'175", "orderId": "S20"}])
    wait_for(browser, lambda d: ladder_cells(d, "110.546875")[1] == "15", message="the partial fill did not reduce the order")
    # A working order far below the column: the rows grow to cover it.
    post_ok(server, [{"type": "order", "action": "new", "orderId": "FAR", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
                      "qty": 3, "price": "109-00"}])
    wait_for(browser, lambda d: (ladder_cells(d, "109") or [None])[0] == "3", message="the rows did not grow to a distant order")
    assert ladder_cells(browser, "108.984375") is not None, "one tick of padding below the lowest order"


def exact_text(fraction):
    """A binary-fraction price as the page's data-price writes it: "110.265625", "110"."""
    text = format(Decimal(fraction.numerator) / Decimal(fraction.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_sample_day_ladder_shows_working_orders_and_the_desk_columns(server_factory, browser, tmp_path):
    """The shipped sample day, replayed up to 13:42 (orders still working), against the page:
    working quantities per price as an independent reducer reads the feed, and Pos, Projected
    P&L, Risk and Breakeven per row as the rules of docs/ledger.md compute them in Python."""
    from fractions import Fraction

    from reducer import ProducerOrderBook

    lines = [line for line in (ROOT / "tools" / "feeds" / "sample-day.ndjson").read_text().splitlines()
             if line and not line.startswith("#")]
    part = [line for line in lines if json.loads(line)["at"] < "2026-11-24T13:42:00"]
    feed = tmp_path / "part.ndjson"
    feed.write_text("\n".join(part) + "\n")
    book = ProducerOrderBook()
    for line in part:
        book.apply(json.loads(line))
    config = {"sim": {"sources": {"enabled": ["replay"], "replay": {"file": str(feed), "speed": 0, "loop": False, "keepTimes": True}}}}
    server = server_factory(sources=None, config=config)
    wait_for(browser, lambda d: get_json(f"{server.url}/api/snapshot")["seq"] >= len(part) - 2, timeout=60,
             message="the sample day was not replayed")
    snapshot = get_json(f"{server.url}/api/snapshot")
    assert all(m["lastError"] is None for m in snapshot["monitors"]), snapshot["monitors"]
    expected = {key: qty for key, qty in book.working_by_price().items()}
    served = {}
    for order in snapshot["orders"]:
        key = (order["account"], order["instrument"], order["side"], Fraction(order["priceDecimal"]))
        served[key] = served.get(key, 0) + order["leavesQty"]
    assert served == expected and len(expected) >= 3

    symbol = "ZNZ6"
    working = {}
    for (account, instrument, side, price), qty in expected.items():
        if instrument == symbol:
            level = working.setdefault(price, [0, 0])
            level[0 if side == "buy" else 1] += qty
    assert working, "the sample day has working ZN orders at 13:42"
    browser.get(server.url + "/")
    # The replay stops at the end of its file: the page is connected, its source stale.
    wait_for(browser, lambda d: conn_state(d) in ("live", "stale"), message="page never connected")
    Select(browser.find_element(By.ID, "instrument-select")).select_by_value(symbol)
    for price, (buys, sells) in working.items():
        decimal_text = exact_text(price)
        wait_for(browser, lambda d: (ladder_cells(d, decimal_text) or [None, None])[:2] == [str(buys or ""), str(sells or "")],
                 message=f"working at {decimal_text}: {ladder_cells(browser, decimal_text)} != {(buys, sells)}")

    # Pos, projected P&L, Risk and Breakeven by the rules, independently.
    instrument = next(i for i in snapshot["instruments"] if i["symbol"] == symbol)
    tick, per_point = Fraction(instrument["tick"]), Fraction(instrument["dollarsPerPoint"])
    per_tick = tick * per_point
    mark = Fraction(next(m for m in snapshot["marks"] if m["instrument"] == symbol)["priceDecimal"])
    lines_ = [p for p in snapshot["positions"] if p["instrument"] == symbol]
    net = sum(p["net"] for p in lines_)
    total = sum(Fraction(p["total"]) for p in lines_)
    mark_row = (mark // tick) * tick
    signed = {price: b - s for price, (b, s) in working.items()}
    rows = {mark_row: (net + signed.get(mark_row, 0), total + net * (mark_row - mark) * per_point)}
    for direction in (1, -1):
        pos, pnl = rows[mark_row]
        price = mark_row
        for _ in range(12):
            price += direction * tick
            pnl += direction * pos * per_tick
            pos += signed.get(price, 0)
            rows[price] = (pos, pnl)
    for price, (pos, pnl) in rows.items():
        decimal_text = exact_text(price)
        cells = ladder_cells(browser, decimal_text)
        assert cells is not None, f"no row {decimal_text}"
        assert Fraction(cells[3]) == pnl, (decimal_text, cells, pnl)
        assert cells[2] == ("" if pos == 0 else f"{'+' if pos > 0 else '−'}{abs(pos)}"), (decimal_text, cells, pos)
        if pos != 0:
            ratio = pnl / (pos * per_tick)
            tenths = (abs(ratio) * 10 + Fraction(1, 2)) // 1
            text = f"{'−' if ratio < 0 and tenths else ''}{tenths // 10}.{tenths % 10}"
            assert cells[6] == text, (decimal_text, cells, text)
    screenshot(browser, "ladder-sample-day")


def test_projection_with_a_mark_between_ticks_starts_on_the_tick_below(server, browser):
    """projectLadder itself (the page's module), for a mark between two ticks: the mark row is
    the tick below, valued at that price, and the walk outward follows the rules."""
    browser.get(server.url + "/")
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import("/js/ladder.js").then(({ projectLadder, breakevenText }) => {
          // ZN: tick 0.015625 = 1562500 units of 1e-8; $1000/pt = 100000000000 units; mark 110.5078125
          // (half a tick above 110.5); long 2; total P&L 0; a sell 1 two ticks above 110.5.
          const tick = 1562500n, mark = 11050781250n, row = 11050000000n;
          const rows = [row + 2n * tick, row + tick, row, row - tick];
          const out = projectLadder({ markUnits: mark, tickUnits: tick, dollarsPerPoint: 100000000000n, net: 2, total: 0n,
                                      working: new Map([[row + 2n * tick, { buy: 0, sell: 1 }]]), rowUnits: rows });
          done(rows.map((units) => { const r = out.get(units);
            return [String(units), String(r.pos), String(r.pnl), breakevenText(r.breakeven)]; }));
        }).catch((error) => done(String(error)));
    """)
    money = 10 ** 16   # units of 1e-16 dollars
    # At 110.5 (the tick below the mark): 2 × (−0.0078125) × 1000 = −15.625; then ±31.25 a tick.
    assert result == [
        ["11053125000", "1", str(int(Decimal("46.875") * money)), "3.0"],
        ["11051562500", "2", str(int(Decimal("15.625") * money)), "0.5"],
        ["11050000000", "2", str(int(Decimal("-15.625") * money)), "−0.5"],
        ["11048437500", "2", str(int(Decimal("-46.875") * money)), "−1.5"],
    ], result


def test_chromium_negotiates_permessage_deflate_on_ws_and_gets_the_same_bytes(server, browser):
    """Chromium always offers permessage-deflate; the server agrees, and the messages it inflates
    are byte for byte those an uncompressed client gets (heartbeats aside: their time differs)."""
    from test_push_support import ws_connect as plain_connect

    browser.get(server.url + "/")
    browser.execute_script("""
        window.__lw = {messages: [], extensions: null};
        const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws');
        ws.onopen = () => { window.__lw.extensions = ws.extensions; };
        ws.onmessage = (event) => { window.__lw.messages.push(event.data); };
    """)
    wait_for(browser, lambda d: d.execute_script("return window.__lw.messages.length") >= 1, message="no snapshot")
    fills = [{"type": "fill", "execId": f"CHR{i}", "account": "ACC1", "instrument": "ZNZ6",
              "side": "buy" if i % 2 else "sell", "qty": 1 + i % 3, "price": "110-16"} for i in range(30)]
    with plain_connect(server, "/ws") as plain:
        plain.recv(timeout=10)   # snapshot
        last = post_ok(server, fills)["results"][-1]["seq"]
        expected = []
        while True:
            raw = plain.recv(timeout=10)
            message = json.loads(raw)
            if message.get("type") != "heartbeat":
                expected.append(raw)
            if message.get("type") == "fill" and message.get("seq") == last:
                break

    def browser_deltas(driver):
        raws = [r for r in driver.execute_script("return window.__lw.messages")[1:]
                if json.loads(r).get("type") != "heartbeat"]
        return raws if len(raws) >= len(expected) else None

    got = wait_for(browser, browser_deltas, message="the browser did not get every delta")
    extensions = browser.execute_script("return window.__lw.extensions")
    assert extensions.startswith("permessage-deflate"), extensions
    assert got[:len(expected)] == expected
