"""The whole live path at once: several producers (/feed and POST /api/fills) ingest a generated
trading day while subscribers with random filters come and go; every stream keeps its
invariants, and the state each subscriber rebuilds with the independent reducer equals the
server's own snapshot, to the last digit of every money string."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from reducer import DeskState, reduce_stream, restrict, snapshot_state
from test_push_support import INSTRUMENT_TICKS, Recorder, check_stream, recv_json, write_config, ws_connect, ws_open

SEED = 20261124
ACCOUNTS = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE"]
INSTRUMENTS = list(INSTRUMENT_TICKS)
CHANNELS = ["fills", "positions", "pnl", "marks", "risk", "status", "orders"]
BAND_TICKS = 40   # generated prices stay this close to the centre: well inside every price band
TT_FRACTION_CODES = {Fraction(0): "0", Fraction(1, 4): "2", Fraction(1, 2): "5", Fraction(3, 4): "7"}

ACCOUNT_SETTINGS = {"defaultMethod": "lifo", "defaultLossLimit": "4000",
                    "accounts": {"ACC2": {"method": "fifo", "lossLimit": "1500"}, "ACC3": {"method": "average"},
                                 "DESK-HEDGE": {"lossLimit": "250.5"}}}


def instruments_with_accounts(directory: Path) -> Path:
    """The default instruments, with an accounts.json beside them (the server reads it from there)."""
    folder = directory / "conf"
    folder.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "config" / "instruments.json", folder / "instruments.json")
    (folder / "accounts.json").write_text(json.dumps(ACCOUNT_SETTINGS))
    return folder / "instruments.json"


def price_text(instrument: str, price: Fraction, rng: random.Random) -> str:
    """A price in one of the accepted input formats, chosen at random."""
    if instrument == "ESZ6" or rng.random() < 0.4:
        # Exact decimal text: every tick is a binary fraction, so it terminates.
        whole, frac = divmod(price, 1)
        return f"{whole}" if frac == 0 else f"{whole}.{_decimal_digits(frac)}"
    whole, frac = divmod(price, 1)
    thirty_seconds = frac * 32
    n, part = divmod(thirty_seconds, 1)
    if part in TT_FRACTION_CODES and rng.random() < 0.3:
        return f"{whole}'{int(n):02d}{TT_FRACTION_CODES[part]}"   # TT screen style: 110'085
    text = f"{whole}-{int(n):02d}"
    if part:
        text += "+" if part == Fraction(1, 2) and rng.random() < 0.5 else f".{_decimal_digits(part)}"
    return text


def _decimal_digits(frac: Fraction) -> str:
    digits = ""
    while frac:
        frac *= 10
        digit, frac = divmod(frac, 1)
        digits += str(int(digit))
    return digits


class ProducerScript:
    """One producer's messages, in steps (a /feed producer sends each step's single message; a
    POST producer sends each step as one request). Execution ids are private to the producer,
    so busts and corrections always refer to a fill it already sent."""

    def __init__(self, name: str, rng: random.Random, steps: int, batched: bool):
        self.name = name
        self.rng = rng
        self.batched = batched
        self.steps: list[list[dict]] = []
        self.expected: list[list[str]] = []   # "ack" or "duplicate" per message
        self.live: list[dict] = []            # sent fills not busted
        self.sent: list[dict] = []
        self.intended: dict[str, Fraction] = {}   # exact price of each fill never corrected
        self.counter = 0
        for _ in range(steps):
            size = rng.randint(1, 5) if batched else 1
            step, kinds = [], []
            for _ in range(size):
                message, kind = self.next_message()
                step.append(message)
                kinds.append(kind)
            self.steps.append(step)
            self.expected.append(kinds)

    def random_price(self, instrument: str) -> Fraction:
        centre, tick = (Fraction(x) for x in INSTRUMENT_TICKS[instrument])
        return centre + tick * self.rng.randint(-BAND_TICKS, BAND_TICKS)

    def new_fill(self, account=None, instrument=None, price=None, qty=None) -> dict:
        self.counter += 1
        instrument = instrument or self.rng.choice(INSTRUMENTS)
        price = price if price is not None else self.random_price(instrument)
        fill = {"type": "fill", "execId": f"{self.name}-{self.counter}", "account": account or self.rng.choice(ACCOUNTS),
                "instrument": instrument, "side": self.rng.choice(["buy", "sell"]),
                "qty": qty or self.rng.choice([1, 1, 2, 3, 5, 8, 13]), "price": price_text(instrument, price, self.rng)}
        self.live.append(fill)
        self.sent.append(fill)
        self.intended[fill["execId"]] = price
        return fill

    def next_message(self) -> tuple[dict, str]:
        roll = self.rng.random()
        if roll < 0.08:
            instrument = self.rng.choice(INSTRUMENTS)
            return {"type": "mark", "instrument": instrument,
                    "price": price_text(instrument, self.random_price(instrument), self.rng)}, "ack"
        if roll < 0.12:
            instrument = self.rng.choice(INSTRUMENTS)
            return {"type": "sod", "account": self.rng.choice(ACCOUNTS), "instrument": instrument,
                    "qty": self.rng.randint(-6, 6), "price": price_text(instrument, self.random_price(instrument), self.rng)}, "ack"
        if roll < 0.18 and self.live:
            victim = self.live.pop(self.rng.randrange(len(self.live)))
            return {"type": "bust", "execId": victim["execId"]}, "ack"
        if roll < 0.25 and self.live:
            victim = self.rng.choice(self.live)
            self.intended.pop(victim["execId"], None)
            correction = {"type": "correct", "execId": victim["execId"]}
            if self.rng.random() < 0.6:
                correction["qty"] = self.rng.randint(1, 9)
            if "qty" not in correction or self.rng.random() < 0.5:
                correction["price"] = price_text(victim["instrument"], self.random_price(victim["instrument"]), self.rng)
            return correction, "ack"
        if roll < 0.29 and self.sent:
            return dict(self.rng.choice(self.sent)), "duplicate"   # a producer retrying after a lost ack
        if roll < 0.36 and self.live:
            # A partial of an earlier order: same account, instrument, side and price, new execution.
            earlier = self.rng.choice(self.live)
            fill = self.new_fill(earlier["account"], earlier["instrument"], qty=self.rng.randint(1, 4))
            fill["side"], fill["price"] = earlier["side"], earlier["price"]
            if earlier["execId"] in self.intended:
                self.intended[fill["execId"]] = self.intended[earlier["execId"]]
            else:
                self.intended.pop(fill["execId"])
            return fill, "ack"
        if roll < 0.42:
            # A big one against the book: flips whatever position there is.
            return self.new_fill(qty=self.rng.randint(12, 25)), "ack"
        return self.new_fill(), "ack"


class Producers:
    """Runs the scripts concurrently; records every reply."""

    def __init__(self, server, scripts: list[ProducerScript]):
        self.server = server
        self.scripts = scripts
        self.replies: dict[str, list[list[dict]]] = {s.name: [] for s in scripts}
        self.progress = 0
        self.total = sum(len(s.steps) for s in scripts)
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def _advance(self) -> None:
        with self._lock:
            self.progress += 1

    def _run(self, script: ProducerScript) -> None:
        try:
            pause = random.Random(script.name)
            if script.batched:
                for step in script.steps:
                    status, body = self.server.post_fills(step)
                    assert status == 200, (script.name, step, body)
                    self.replies[script.name].append(body["results"])
                    self._advance()
                    time.sleep(pause.uniform(0, 0.02))
            else:
                with ws_connect(self.server, "/feed") as feed:
                    for step in script.steps:
                        feed.send(json.dumps(step[0]))
                        self.replies[script.name].append([recv_json(feed)])
                        self._advance()
                        time.sleep(pause.uniform(0, 0.01))
        except BaseException as error:
            self.errors.append(error)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(s,), daemon=True) for s in self.scripts]
        for thread in threads:
            thread.start()
        return threads


def channel_of(message: dict) -> str | None:
    return {"fill": "fills", "position": "positions", "pnl": "pnl", "mark": "marks", "limit": "risk"}.get(message["type"])


def subscriber_path(accounts, instruments, channels) -> str:
    query = []
    if accounts:
        query.append("accounts=" + ",".join(sorted(accounts)))
    if instruments:
        query.append("instruments=" + ",".join(sorted(instruments)))
    if channels:
        query.append("channels=" + ",".join(sorted(channels)))
    return "/ws" + ("?" + "&".join(query) if query else "")


def comparable(state: DeskState) -> dict:
    return {"positions": state.positions, "accounts": state.accounts, "desk": state.desk,
            "marks": state.marks, "fills": state.fills}


def assert_same_state(actual: DeskState, expected: DeskState, name: str) -> None:
    got, want = comparable(actual), comparable(expected)
    for part in want:
        if got[part] != want[part]:
            if isinstance(want[part], dict) and isinstance(got[part], dict):
                keys = sorted(set(got[part]) | set(want[part]), key=str)
                diffs = [(k, got[part].get(k), want[part].get(k)) for k in keys if got[part].get(k) != want[part].get(k)]
                raise AssertionError(f"{name}: {part} differ in {len(diffs)} entries; first: "
                                     f"key {diffs[0][0]}\n  reduced: {diffs[0][1]}\n  server:  {diffs[0][2]}")
            raise AssertionError(f"{name}: {part} differ\n  reduced: {got[part]}\n  server:  {want[part]}")


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_producers_and_subscribers_agree_with_the_server_snapshot(server_factory, tmp_path, seed):
    # Snapshots carry the whole day's fills, so a late joiner can rebuild every fill too; every
    # cost method and tight loss limits are in play, so `limit` messages flow on `risk`.
    config = write_config(tmp_path, instrumentsFile=str(instruments_with_accounts(tmp_path)),
                          limits={"snapshotFills": 5000})
    server = server_factory(extra_args=["--config", str(config)])
    rng = random.Random(seed)
    scripts = [ProducerScript("feedA", random.Random(rng.random()), 70, batched=False),
               ProducerScript("feedB", random.Random(rng.random()), 70, batched=False),
               ProducerScript("postA", random.Random(rng.random()), 25, batched=True),
               ProducerScript("postB", random.Random(rng.random()), 25, batched=True)]

    recorders: dict[str, Recorder] = {}
    filters: dict[str, tuple] = {}

    def subscribe(name: str, accounts=None, instruments=None, channels=None) -> Recorder:
        ws = ws_open(server, subscriber_path(accounts, instruments, channels))
        recorder = Recorder(ws, name)
        recorders[name] = recorder
        filters[name] = (accounts, instruments, channels)
        return recorder

    for n in range(3):
        subscribe(f"early{n}")
    for n in range(4):
        subscribe(f"filtered{n}", *random_filter(rng))
    # One more changes its filter with `subscribe` messages while the day goes on.
    switcher = Recorder(ws_open(server, "/ws"), "switcher")
    switches: list[tuple] = [(None, None, None)]

    producers = Producers(server, scripts)
    threads = producers.start()

    # Subscribers that join mid-stream, and some that leave mid-stream.
    late_at = sorted(rng.sample(range(5, producers.total - 10), 6))
    churned: list[tuple[str, list[dict]]] = []
    for index, threshold in enumerate(late_at):
        while producers.progress < threshold and any(t.is_alive() for t in threads):
            time.sleep(0.002)
        switches.append(random_filter(rng))
        accounts, instruments, channels = switches[-1]
        switcher.ws.send(json.dumps({"type": "subscribe", "accounts": sorted(accounts) if accounts else None,
                                     "instruments": sorted(instruments) if instruments else None,
                                     "channels": sorted(channels) if channels else None}))
        # Its snapshot first: until then deltas are held back, after it they follow this filter.
        deadline = time.monotonic() + 15
        while sum(m["type"] == "snapshot" for m in switcher.data()) < len(switches):
            assert time.monotonic() < deadline and not switcher.finished, "no snapshot after subscribe"
            time.sleep(0.002)
        if index % 2 == 0:
            subscribe(f"late{index}")
        else:
            recorder = subscribe(f"churn{index}")
            # Leaves after its snapshot and whatever else arrives in a moment.
            recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
            time.sleep(rng.uniform(0, 0.05))
            recorder.stop()
            churned.append((recorder.name, recorder.data()))
            del recorders[recorder.name]

    for thread in threads:
        thread.join(60)
    assert not producers.errors, producers.errors

    # Every producer message was answered as generated; acks number 1..N without a hole.
    ack_seqs = []
    for script in scripts:
        got = producers.replies[script.name]
        assert len(got) == len(script.steps), script.name
        for step, kinds, replies in zip(script.steps, script.expected, got):
            assert [r["type"] for r in replies] == kinds, (script.name, step, replies)
            ack_seqs += [r["seq"] for r in replies if r["type"] == "ack"]
    assert sorted(ack_seqs) == list(range(1, len(ack_seqs) + 1))

    status, final = server.get_json("/api/snapshot")
    assert status == 200
    final_seq = final["seq"]
    assert final_seq == len(ack_seqs)
    expected = snapshot_state(final)
    assert 150 < len(expected.fills) < 5000, len(expected.fills)

    # Every price format the producers used was read as the exact price meant.
    decimals = {k: Fraction(v["priceDecimal"]) for k, v in expected.fills.items()}
    for script in scripts:
        for exec_id, price in script.intended.items():
            assert decimals[exec_id] == price, (exec_id, price, expected.fills[exec_id])

    # The server's fill history agrees with its snapshot.
    status, history = server.get_json("/api/fills?limit=10000")
    assert status == 200
    assert {f["execId"]: (f["status"], f["qty"], f["price"]) for f in history["fills"]} == \
           {k: (v["status"], v["qty"], v["price"]) for k, v in expected.fills.items()}

    for name, recorder in recorders.items():
        recorder.sync_to(final_seq)
        recorder.stop()
        check_filtered_stream(server, recorder.data(), filters[name], expected, final_seq, name)

    # The switcher: one snapshot per filter, each followed only by what that filter lets through.
    switcher.sync_to(final_seq)
    switcher.stop()
    messages = switcher.data()
    starts = [i for i, m in enumerate(messages) if m["type"] == "snapshot"]
    assert len(starts) == len(switches), (len(starts), switches)
    for number, (begin, end) in enumerate(zip(starts, starts[1:] + [len(messages)])):
        segment, wanted = messages[begin:end], switches[number]
        accounts, instruments, channels = wanted
        assert segment[0]["filter"] == {"accounts": sorted(accounts) if accounts else None,
                                        "instruments": sorted(instruments) if instruments else None,
                                        "channels": [c for c in CHANNELS if channels is None or c in channels]}, \
            (segment[0]["filter"], wanted)
        if number < len(switches) - 1:
            check_stream(segment, gapless=wanted == (None, None, None), name=f"switcher segment {number}")
            check_messages_match(segment, wanted, f"switcher segment {number}")
        else:
            check_filtered_stream(server, segment, wanted, expected, final_seq, "switcher, last filter")

    for name, messages in churned:
        check_stream(messages, gapless=True, name=name)

    # The day really had what it is meant to exercise, and joiners really joined mid-stream.
    statuses = {f["status"] for f in expected.fills.values()}
    assert {"live", "busted", "corrected"} <= statuses, statuses
    assert any(flipped(recorders[f"early{n}"].data()) for n in range(3)), "no position flipped sign"
    limits = [m for m in recorders["early0"].data() if m["type"] == "limit"]
    assert limits and {m["limitState"] for m in limits} <= {"ok", "warning", "breached"}, limits
    starts = [m[0]["seq"] for name, m in churned] + [recorders[n].data()[0]["seq"] for n in recorders if n.startswith("late")]
    assert all(start > 0 for start in starts) and any(start < final_seq for start in starts), (starts, final_seq)


def random_filter(rng: random.Random) -> tuple:
    accounts = set(rng.sample(ACCOUNTS, rng.randint(1, 2))) if rng.random() < 0.8 else None
    instruments = set(rng.sample(INSTRUMENTS, rng.randint(1, 3))) if rng.random() < 0.6 else None
    channels = set(rng.sample(CHANNELS, rng.randint(1, 4))) if rng.random() < 0.5 else None
    return accounts, instruments, channels


def check_messages_match(messages: list[dict], wanted: tuple, name: str) -> None:
    accounts, instruments, channels = wanted
    for message in messages[1:]:
        if accounts is not None and message.get("account") is not None:
            assert message["account"] in accounts, (name, wanted, message)
        if instruments is not None and message.get("instrument") is not None:
            assert message["instrument"] in instruments, (name, wanted, message)
        if channels is not None:
            assert channel_of(message) in channels, (name, wanted, message)


def check_filtered_stream(server, messages: list[dict], wanted: tuple, expected: DeskState, final_seq: int,
                          name: str) -> None:
    """Stream invariants, then: the state rebuilt from this stream equals the server's snapshot
    (seen through the same filter) at the final seq."""
    accounts, instruments, channels = wanted
    unfiltered = wanted == (None, None, None)
    check_stream(messages, gapless=unfiltered, name=name)
    reduced = reduce_stream(messages)
    if unfiltered:
        assert reduced.seq == final_seq, f"{name}: reduced up to {reduced.seq}, server at {final_seq}"
        assert reduced.epoch == expected.epoch, name
        assert_same_state(reduced, expected, name)
        return
    check_messages_match(messages, wanted, name)
    query = []
    if accounts:
        query.append("account=" + ",".join(sorted(accounts)))
    if instruments:
        query.append("instrument=" + ",".join(sorted(instruments)))
    status, scoped = server.get_json("/api/snapshot" + ("?" + "&".join(query) if query else ""))
    assert status == 200 and scoped["seq"] == final_seq, scoped
    # The subscriber's own snapshot honoured its filter too.
    assert all((accounts is None or p["account"] in accounts) and (instruments is None or p["instrument"] in instruments)
               for p in messages[0]["positions"]), (name, messages[0]["positions"])
    assert_same_state(restrict(reduced, channels=channels), restrict(snapshot_state(scoped), channels=channels), name)


def flipped(messages: list[dict]) -> bool:
    last_net: dict[tuple, int] = {}
    for message in messages:
        if message["type"] == "position":
            key = (message["account"], message["instrument"])
            if last_net.get(key, 0) * message["net"] < 0:
                return True
            last_net[key] = message["net"]
    return False


def test_idle_subscribers_get_heartbeats_with_the_latest_seq(server_factory, tmp_path):
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, limits={"heartbeatSeconds": 1}))])
    status, body = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}])
    assert status == 200
    everything = Recorder(ws_open(server, "/ws"), "everything")
    # Filtered so that the next event sends it nothing: its heartbeat still tells it the seq moved.
    narrow = Recorder(ws_open(server, "/ws?instruments=ESZ6&channels=marks"), "narrow")
    for recorder in (everything, narrow):
        beat = recorder.wait_for(lambda m: m["type"] == "heartbeat", what="heartbeat")
        assert beat["seq"] == 1 and beat["time"].endswith("Z"), beat
    status, body = server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-16+"}])
    seq = body["results"][0]["seq"]
    for recorder in (everything, narrow):
        recorder.wait_for(lambda m: m["type"] == "heartbeat" and m["seq"] == seq, what=f"heartbeat at seq {seq}")
        recorder.stop()
    assert [m["type"] for m in narrow.data()] == ["snapshot"], "nothing of ZNZ6 reached the narrow subscriber"
    assert any(m["type"] == "mark" and m["seq"] == seq for m in everything.data())


def test_snapshot_fills_are_the_latest_ones_oldest_first(server_factory):
    server = server_factory()
    fills = [{"type": "fill", "execId": f"W{n}", "account": ACCOUNTS[n % 4], "instrument": "ZNZ6",
              "side": "buy" if n % 2 else "sell", "qty": 1, "price": "110-16"} for n in range(260)]
    status, body = server.post_fills(fills)
    assert status == 200, body
    with ws_connect(server, "/ws") as ws:
        snapshot = recv_json(ws)
    listed = [f["execId"] for f in snapshot["fills"]]
    assert listed == [f"W{n}" for n in range(60, 260)], "the default window is the latest 200, oldest first"
    status, over_http = server.get_json("/api/snapshot")
    assert [f["execId"] for f in over_http["fills"]] == listed


def test_the_worked_example_is_pushed_to_the_cent(server_factory, tmp_path):
    """domain.md's worked example (ZN, LIFO and FIFO side by side), checked on the pushed
    position lines after every step; then the bust of F3, replayed."""
    folder = tmp_path / "worked"
    folder.mkdir()
    shutil.copy(REPO_ROOT / "config" / "instruments.json", folder / "instruments.json")
    (folder / "accounts.json").write_text(json.dumps({"accounts": {"LIFO1": {"method": "lifo"},
                                                                    "FIFO1": {"method": "fifo"}}}))
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, instrumentsFile=str(folder / "instruments.json")))])
    recorder = Recorder(ws_open(server, "/ws?instruments=ZNZ6&channels=positions,pnl"), "worked")
    recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")

    def step(messages: list[dict]) -> dict[str, dict]:
        """Posts one step for both accounts; returns each account's latest pushed position line."""
        items = []
        for message in messages:
            if message["type"] == "mark":
                items.append(message)
                continue
            for account in ("LIFO1", "FIFO1"):
                item = dict(message)
                if "execId" in item:
                    item["execId"] = f"{account}-{item['execId']}"
                if item["type"] in ("fill", "sod"):
                    item["account"] = account
                items.append(item)
        status, body = server.post_fills(items)
        assert status == 200, body
        recorder.sync_to(body["results"][-1]["seq"])
        lines = {}
        for message in recorder.data():
            if message["type"] == "position":
                lines[message["account"]] = message
        return lines

    def fill(exec_id, side, qty, price):
        return {"type": "fill", "execId": exec_id, "instrument": "ZNZ6", "side": side, "qty": qty, "price": price}

    def mark(price):
        return {"type": "mark", "instrument": "ZNZ6", "price": price}

    def money(line):
        return line["net"], line["realized"], line["unrealized"], line["total"]

    step([mark("110'160"), {"type": "sod", "instrument": "ZNZ6", "qty": 2, "price": "110'160"}])
    lines = step([fill("F1", "buy", 3, "110'185")])
    assert money(lines["LIFO1"]) == money(lines["FIFO1"]) == (5, "0", "-234.375", "-234.375"), lines
    step([fill("F2", "buy", 2, "110'200")])
    lines = step([fill("F3", "sell", 4, "110'215")])
    assert lines["LIFO1"]["realized"] == "281.25" and lines["FIFO1"]["realized"] == "531.25", lines
    lines = step([mark("110'200")])
    assert money(lines["LIFO1"]) == (3, "281.25", "296.875", "578.125"), lines["LIFO1"]
    assert money(lines["FIFO1"]) == (3, "531.25", "46.875", "578.125"), lines["FIFO1"]
    step([mark("110'160")])
    lines = step([fill("F4", "sell", 6, "110'170")])
    assert money(lines["LIFO1"])[:2] == (-3, "296.875"), lines["LIFO1"]
    assert money(lines["FIFO1"])[:2] == (-3, "296.875"), lines["FIFO1"]    # 531.25 - 234.375
    lines = step([fill("F5", "buy", 2, "110'145")])
    for account in ("LIFO1", "FIFO1"):
        assert money(lines[account]) == (-1, "453.125", "31.25", "484.375"), lines[account]
        assert (lines[account]["avgPrice"], lines[account]["avgPriceDecimal"]) == ("110'170", "110.53125"), lines[account]
        assert lines[account]["markSource"] == "mark" and lines[account]["markDecimal"] == "110.5"
    lines = step([{"type": "bust", "execId": "F3"}])
    assert money(lines["LIFO1"]) == (3, "-296.875", "93.75", "-203.125"), lines["LIFO1"]
    assert lines["LIFO1"]["sodQty"] == 2 and lines["LIFO1"]["bought"] == 7 and lines["LIFO1"]["sold"] == 6
    # Desk totals are the sum of the accounts, pushed with the same seq.
    recorder.stop()
    desk = [m for m in recorder.data() if m["type"] == "pnl" and m.get("scope") == "desk"][-1]
    status, truth = server.get_json("/api/snapshot")
    assert desk["total"] == truth["desk"]["total"]
    totals = {a["account"]: Fraction(a["total"]) for a in truth["accounts"]}
    assert Fraction(desk["total"]) == sum(totals.values())


def test_a_crowd_joining_and_resuming_during_ingest_all_see_the_same_day(server_factory, tmp_path):
    """Many subscribers arrive while producers write: half fresh (snapshot), half resuming from
    some earlier seq. Every one of them must end with the server's state, without gaps."""
    config = write_config(tmp_path, limits={"snapshotFills": 5000})
    server = server_factory(extra_args=["--config", str(config)])
    rng = random.Random(SEED + 7)
    script = ProducerScript("crowd", random.Random(rng.random()), 120, batched=True)
    producers = Producers(server, [script])
    with ws_connect(server, "/ws") as ws:
        epoch = recv_json(ws)["epoch"]
    threads = producers.start()
    crowd: list[tuple[Recorder, int | None]] = []
    seen_seqs: list[int] = [0]
    for n in range(60):
        while producers.progress < n * 2 and threads[0].is_alive():
            time.sleep(0.001)
        if n % 2 and seen_seqs[-1] > 0:
            since = rng.randint(0, seen_seqs[-1])
            crowd.append((Recorder(ws_open(server, f"/ws?since={since}&epoch={epoch}"), f"resume{n}"), since))
        else:
            crowd.append((Recorder(ws_open(server, "/ws"), f"fresh{n}"), None))
        status, now = server.get_json("/api/snapshot")
        seen_seqs.append(now["seq"])
    threads[0].join(60)
    assert not producers.errors, producers.errors
    status, final = server.get_json("/api/snapshot")
    expected = snapshot_state(final)
    # Resumers rebuild from the state at `since`: the journal's own replay from 0 gives it.
    for recorder, since in crowd:
        recorder.sync_to(final["seq"])
        recorder.stop()
        stream = recorder.data()
        check_stream(stream, gapless=True, name=recorder.name, after_resume=since is not None)
        if since is None:
            reduced = reduce_stream(stream)
            assert_same_state(reduced, expected, recorder.name)
        else:
            assert stream[0]["since"] == since and stream[0]["epoch"] == epoch, stream[0]
            seqs = {m["seq"] for m in stream[1:]}
            assert seqs == set(range(since + 1, final["seq"] + 1)), recorder.name
    resumers = [r for r, since in crowd if since is not None]
    assert len(resumers) >= 20
    # One resume from 0 is the whole day: it must rebuild the server state on its own.
    full = Recorder(ws_open(server, f"/ws?since=0&epoch={epoch}"), "from-zero")
    full.sync_to(final["seq"])
    full.stop()
    reduced = reduce_stream(full.data())
    assert (reduced.positions, reduced.accounts, reduced.desk, reduced.marks) == \
           (expected.positions, expected.accounts, expected.desk, expected.marks)


def test_events_that_change_nothing_still_reach_subscribers_with_their_seq(server_factory):
    server = server_factory()
    recorder = Recorder(ws_open(server, "/ws"), "unfiltered")
    recorder.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    status, first = server.post_fills([
        {"type": "fill", "execId": "N1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 2, "price": "110-16"}])
    assert status == 200, first
    status, body = server.post_fills([
        {"type": "sod", "account": "ACC1", "instrument": "ZBZ6", "qty": 0, "price": "115-18"},
        {"type": "correct", "execId": "N1", "qty": 2, "price": "110-16"},      # the same values again
        {"type": "sod", "account": "ACC2", "instrument": "ESZ6", "qty": 1, "price": "6012.25"},
        {"type": "sod", "account": "ACC2", "instrument": "ESZ6", "qty": 1, "price": "6012.25"},   # again
        {"type": "mark", "instrument": "UBZ6", "price": "120-24"},              # nobody holds UB
        {"type": "mark", "instrument": "UBZ6", "price": "120-24"},
    ])
    assert status == 200, body
    seqs = [first["results"][0]["seq"]] + [r["seq"] for r in body["results"]]
    recorder.sync_to(seqs[-1])
    recorder.stop()
    stream = recorder.data()
    check_stream(stream, gapless=True, name="unfiltered")
    assert {m["seq"] for m in stream[1:]} == set(seqs), "every committed event is visible by its seq"
