"""The whole live path at once: several producers (/feed and POST /api/fills) ingest a generated
trading day while subscribers with random filters come and go; every stream keeps its
invariants, and the state each subscriber rebuilds with the independent reducer equals the
server's own snapshot, to the last digit of every money string."""

from __future__ import annotations

import json
import random
import threading
import time
from fractions import Fraction

import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT

from reducer import DeskState, reduce_stream, restrict, snapshot_state
from test_push_support import INSTRUMENT_TICKS, Recorder, check_stream, recv_json, write_config, ws_connect, ws_open

SEED = 20261124
ACCOUNTS = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE"]
INSTRUMENTS = list(INSTRUMENT_TICKS)
CHANNELS = ["fills", "positions", "pnl", "marks", "risk", "status"]
BAND_TICKS = 40   # generated prices stay this close to the centre: well inside every price band


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
        accounts = set(rng.sample(ACCOUNTS, rng.randint(1, 2))) if rng.random() < 0.8 else None
        instruments = set(rng.sample(INSTRUMENTS, rng.randint(1, 3))) if rng.random() < 0.6 else None
        channels = set(rng.sample(CHANNELS, rng.randint(1, 4))) if rng.random() < 0.5 else None
        subscribe(f"filtered{n}", accounts, instruments, channels)

    producers = Producers(server, scripts)
    threads = producers.start()

    # Subscribers that join mid-stream, and some that leave mid-stream.
    late_at = sorted(rng.sample(range(5, producers.total - 10), 6))
    churned: list[tuple[str, list[dict]]] = []
    for index, threshold in enumerate(late_at):
        while producers.progress < threshold and any(t.is_alive() for t in threads):
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

    # The server's fill history agrees with its snapshot.
    status, history = server.get_json("/api/fills?limit=10000")
    assert status == 200
    assert {f["execId"]: (f["status"], f["qty"], f["price"]) for f in history["fills"]} == \
           {k: (v["status"], v["qty"], v["price"]) for k, v in expected.fills.items()}

    for name, recorder in recorders.items():
        recorder.sync_to(final_seq)
        recorder.stop()
        messages = recorder.data()
        accounts, instruments, channels = filters[name]
        unfiltered = accounts is None and instruments is None and channels is None
        check_stream(messages, gapless=unfiltered, name=name)
        reduced = reduce_stream(messages)
        if unfiltered:
            assert reduced.seq == final_seq, f"{name}: reduced up to {reduced.seq}, server at {final_seq}"
            assert reduced.epoch == final["epoch"]
            assert_same_state(reduced, expected, name)
        else:
            for message in messages[1:]:
                if accounts is not None and message.get("account") is not None:
                    assert message["account"] in accounts, (name, filters[name], message)
                if instruments is not None and message.get("instrument") is not None:
                    assert message["instrument"] in instruments, (name, filters[name], message)
                if channels is not None:
                    assert channel_of(message) in channels, (name, filters[name], message)
            query = []
            if accounts:
                query.append("account=" + ",".join(sorted(accounts)))
            if instruments:
                query.append("instrument=" + ",".join(sorted(instruments)))
            status, scoped = server.get_json("/api/snapshot" + ("?" + "&".join(query) if query else ""))
            assert status == 200 and scoped["seq"] == final_seq, scoped
            # The subscriber's own snapshot honoured its filter too.
            first = messages[0]
            assert all((accounts is None or p["account"] in accounts) and (instruments is None or p["instrument"] in instruments)
                       for p in first["positions"]), (name, first["positions"])
            assert_same_state(restrict(reduced, channels=channels), restrict(snapshot_state(scoped), channels=channels), name)

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
