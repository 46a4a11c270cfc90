"""An independent client-side reducer for Ladderwire's subscriber stream (docs/protocol.md).

It knows nothing of the server's ledger: it only applies what the wire says. A snapshot replaces
the whole state; a `position` message replaces one account × instrument line, a `pnl` message
the totals of one account (or of the desk), a `fill` message one fill (keyed by execId), a `mark`
one instrument's mark, a `limit` the limit fields of one account, an `order` one order (kept while
`working`, dropped when it ends). If the server's deltas are complete and correct, the reduced
state equals `GET /api/snapshot` taken at the same seq.

`ProducerOrderBook` is the other side: the working quantity per price computed from the producer
messages alone (new, replace, cancel, reject, and fills naming an `orderId`), with its own price
reader, so a test can check that the server's view equals what was sent.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from fractions import Fraction

# Fields that describe the message, not the state it carries.
ENVELOPE = ("type", "seq", "scope")
# Messages that carry no state.
STATELESS = {"heartbeat", "pong", "status", "error", "resumed"}


def strip(message: dict) -> dict:
    return {k: v for k, v in message.items() if k not in ENVELOPE}


@dataclass
class DeskState:
    """What a subscriber can rebuild from its stream."""

    seq: int = 0
    epoch: str | None = None
    positions: dict[tuple[str, str], dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    desk: dict | None = None
    marks: dict[str, dict] = field(default_factory=dict)
    fills: dict[str, dict] = field(default_factory=dict)
    orders: dict[str, dict] = field(default_factory=dict)

    def apply(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "snapshot":
            self.load_snapshot(message)
            return
        if kind in STATELESS:
            return
        if "seq" in message:
            self.seq = max(self.seq, message["seq"])
        if kind == "fill":
            self.fills[message["execId"]] = strip(message)
        elif kind == "position":
            self.positions[(message["account"], message["instrument"])] = strip(message)
        elif kind == "pnl":
            if message.get("scope") == "desk":
                self.desk = strip(message)
            else:
                self.accounts[message["account"]] = strip(message)
        elif kind == "mark":
            self.marks[message["instrument"]] = strip(message)
        elif kind == "limit":
            if message.get("scope") == "desk":
                totals = self.desk if self.desk is not None else {}
                self.desk = totals
            else:
                totals = self.accounts.setdefault(message["account"], {"account": message["account"]})
            for key in ("lossLimit", "limitUsed", "limitState", "grossContracts", "positionLimit", "positionState"):
                if key in message:
                    totals[key] = message[key]
        elif kind == "order":
            if message["status"] == "working":
                self.orders[message["orderId"]] = strip(message)
            else:
                self.orders.pop(message["orderId"], None)
        else:
            raise AssertionError(f"reducer: unknown message type {kind!r}: {message}")

    def load_snapshot(self, snapshot: dict) -> None:
        self.seq = snapshot["seq"]
        self.epoch = snapshot["epoch"]
        self.positions = {(p["account"], p["instrument"]): strip(p) for p in snapshot["positions"]}
        self.accounts = {a["account"]: strip(a) for a in snapshot["accounts"]}
        self.desk = strip(snapshot["desk"]) if snapshot.get("desk") is not None else None
        self.marks = {m["instrument"]: strip(m) for m in snapshot["marks"]}
        self.fills = {f["execId"]: strip(f) for f in snapshot["fills"]}
        self.orders = {o["orderId"]: strip(o) for o in snapshot.get("orders", [])}

    def working_by_price(self) -> dict[tuple[str, str, str, Fraction], int]:
        """(account, instrument, side, exact price) → working quantity."""
        out: dict[tuple[str, str, str, Fraction], int] = {}
        for order in self.orders.values():
            key = (order["account"], order["instrument"], order["side"], Fraction(order["priceDecimal"]))
            out[key] = out.get(key, 0) + order["leavesQty"]
        return out

    def copy(self) -> "DeskState":
        return copy.deepcopy(self)


def reduce_stream(messages: list[dict]) -> DeskState:
    state = DeskState()
    for message in messages:
        state.apply(message)
    return state


def snapshot_state(snapshot: dict) -> DeskState:
    state = DeskState()
    state.load_snapshot(snapshot)
    return state


def restrict(state: DeskState, *, accounts: set[str] | None = None, instruments: set[str] | None = None,
             channels: set[str] | None = None) -> DeskState:
    """The part of `state` a subscriber with this filter is sent (and so can rebuild)."""
    def keep_account(account: str) -> bool:
        return accounts is None or account in accounts

    def keep_instrument(instrument: str) -> bool:
        return instruments is None or instrument in instruments

    def wants(channel: str) -> bool:
        return channels is None or channel in channels

    out = DeskState(seq=state.seq, epoch=state.epoch)
    if wants("positions"):
        out.positions = {k: v for k, v in state.positions.items() if keep_account(k[0]) and keep_instrument(k[1])}
    if wants("pnl"):
        out.accounts = {k: v for k, v in state.accounts.items() if keep_account(k)}
        out.desk = state.desk
    if wants("marks"):
        out.marks = {k: v for k, v in state.marks.items() if keep_instrument(k)}
    if wants("fills"):
        out.fills = {k: v for k, v in state.fills.items() if keep_account(v["account"]) and keep_instrument(v["instrument"])}
    if wants("orders"):
        out.orders = {k: v for k, v in state.orders.items() if keep_account(v["account"]) and keep_instrument(v["instrument"])}
    return out


_THIRTY_SECONDS = re.compile(r"^(-?)(\d+)[-'](\d\d)(\+|\.\d+|[0-8])?$")
_CODES = {"0": Fraction(0), "1": Fraction(1, 8), "2": Fraction(1, 4), "3": Fraction(3, 8), "5": Fraction(1, 2),
          "6": Fraction(5, 8), "7": Fraction(3, 4), "8": Fraction(7, 8)}


def price_value(text: str) -> Fraction:
    """An exact price from producer text: `110-08`, `110-08+`, `110-08.5`, `110'085` or a decimal."""
    match = _THIRTY_SECONDS.match(text)
    if not match:
        return Fraction(text)
    sign, points, thirty_seconds, rest = match.groups()
    parts = Fraction(int(thirty_seconds))
    if rest == "+":
        parts += Fraction(1, 2)
    elif rest and rest.startswith("."):
        parts += Fraction(rest)
    elif rest:
        parts += _CODES[rest]
    value = int(points) + parts / 32
    return -value if sign else value


class ProducerOrderBook:
    """Working orders as the producer messages define them, without the server."""

    def __init__(self) -> None:
        self.orders: dict[str, dict] = {}
        self.ended: set[str] = set()
        self.unclaimed: dict[str, int] = {}   # fills that named an order before it arrived

    def apply(self, message: dict) -> None:
        order_id = message.get("orderId")
        if message["type"] == "fill" and order_id in self.orders:
            order = self.orders[order_id]
            order["filled"] += message["qty"]
            order["leaves"] = max(0, order["leaves"] - message["qty"])
            if order["leaves"] == 0:
                del self.orders[order_id]
                self.ended.add(order_id)
        elif message["type"] == "fill" and order_id and order_id not in self.ended:
            self.unclaimed[order_id] = self.unclaimed.get(order_id, 0) + message["qty"]
        elif message["type"] == "order":
            action = message["action"]
            if action == "new":
                filled = self.unclaimed.pop(order_id, 0)
                if message["qty"] > filled:
                    self.orders[order_id] = {"account": message["account"], "instrument": message["instrument"],
                                             "side": message["side"], "price": price_value(message["price"]),
                                             "leaves": message["qty"] - filled, "filled": filled}
                else:
                    self.ended.add(order_id)
            elif action == "replace":
                order = self.orders[order_id]
                if "price" in message:
                    order["price"] = price_value(message["price"])
                if "qty" in message:
                    order["leaves"] = message["qty"] - order["filled"]
            else:
                self.orders.pop(order_id, None)
                self.ended.add(order_id)

    def working_by_price(self) -> dict[tuple[str, str, str, Fraction], int]:
        out: dict[tuple[str, str, str, Fraction], int] = {}
        for order in self.orders.values():
            key = (order["account"], order["instrument"], order["side"], order["price"])
            out[key] = out.get(key, 0) + order["leaves"]
        return out
