"""Working orders end to end: a producer sends orders (new, replace, cancel, reject) and fills that
name them; a subscriber's snapshot and deltas give the working quantity per price exactly as an
independent reducer computes it from the producer messages, across a dropped connection and a
resume; the text mode lists them and filters on the `orders` channel."""

from __future__ import annotations

import random
import socket
from fractions import Fraction

from reducer import ProducerOrderBook, reduce_stream, snapshot_state
from test_push_support import Recorder, check_stream, recv_json, ws_connect, ws_open

ACCOUNTS = ["ACC1", "ACC2", "ACC3"]
# Several spellings of the same levels, so the check is on exact prices, not text.
LEVELS = {"ZNZ6": ["110-07", "110-07.5", "110-08", "110'085", "110-08+", "110-09", "110.28125"],
          "ESZ6": ["6012.25", "6012.5", "6012.50", "6013", "6012.75"]}


class OrderDay:
    """A seeded stream of order messages and fills that name them; it knows which orders work."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.working: dict[str, dict] = {}
        self.versions: dict[str, int] = {}
        self.count = 0

    def next(self) -> dict:
        self.count += 1
        n, rng = self.count, self.rng
        roll = rng.random()
        if not self.working or roll < 0.45:
            instrument = rng.choice(list(LEVELS))
            order = {"type": "order", "action": "new", "orderId": f"O{n}", "account": rng.choice(ACCOUNTS),
                     "instrument": instrument, "side": rng.choice(["buy", "sell"]), "qty": rng.randint(1, 9),
                     "price": rng.choice(LEVELS[instrument])}
            self.working[order["orderId"]] = {**order, "filled": 0, "leaves": order["qty"]}
            self.versions[order["orderId"]] = 1
            return order
        order_id = rng.choice(sorted(self.working))
        order = self.working[order_id]
        if roll < 0.65:
            qty = rng.randint(1, order["leaves"])
            order["filled"] += qty
            order["leaves"] -= qty
            if order["leaves"] == 0:
                del self.working[order_id]
            return {"type": "fill", "execId": f"X{n}", "account": order["account"], "instrument": order["instrument"],
                    "side": order["side"], "qty": qty, "price": order["price"], "orderId": order_id}
        self.versions[order_id] += 1
        if roll < 0.86:
            message = {"type": "order", "action": "replace", "orderId": order_id}
            if rng.random() < 0.5:
                message["version"] = self.versions[order_id]   # else "the next version"
            if rng.random() < 0.7:
                message["price"] = rng.choice(LEVELS[order["instrument"]])
            if rng.random() < 0.5 or "price" not in message:
                total = order["filled"] + rng.randint(1, 9)
                message["qty"] = total
                order["leaves"] = total - order["filled"]
            return message
        del self.working[order_id]
        action = "cancel" if roll < 0.97 else "reject"
        return {"type": "order", "action": action, "orderId": order_id, "version": self.versions[order_id]}


def send(server, book: ProducerOrderBook, messages: list[dict]) -> int:
    """Posts one message per request; the reducer takes only what the server did not call a duplicate."""
    last = 0
    for message in messages:
        status, body = server.post_fills([message])
        assert status == 200, (message, body)
        result = body["results"][0]
        if result["type"] == "ack":
            book.apply(message)
        last = result["seq"]
    return last


def drop(ws) -> None:
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    ws.socket.close()


def test_working_quantity_per_price_matches_an_independent_reducer_across_a_resume(server_factory):
    server = server_factory()
    day = OrderDay(seed=14)
    book = ProducerOrderBook()
    first_batch = [day.next() for _ in range(60)]
    send(server, book, first_batch[:20])

    subscriber = Recorder(ws_open(server, "/ws"), "subscriber")
    snapshot = subscriber.wait_for(lambda m: m["type"] == "snapshot", what="snapshot")
    assert snapshot["orders"], "the snapshot carries the working orders"
    since = send(server, book, first_batch[20:])
    # Resends are duplicates: they change nothing on either side.
    duplicates = [m for m in first_batch if m["type"] == "order" and ("version" in m or m["action"] == "new")][:5]
    for message in duplicates:
        status, body = server.post_fills([message])
        assert status == 200 and body["results"][0]["type"] == "duplicate", body
    subscriber.sync_to(since)
    had = subscriber.data()
    drop(subscriber.ws)

    send(server, book, [day.next() for _ in range(50)])   # the stream moves on without it
    resumed = Recorder(ws_open(server, f"/ws?since={since}&epoch={snapshot['epoch']}"), "resumed")
    resumed.wait_for(lambda m: m["type"] == "resumed", what="resumed")
    final = send(server, book, [day.next() for _ in range(30)])
    resumed.sync_to(final)
    resumed.stop()
    stream = resumed.data()
    check_stream(had, gapless=True, name="before the drop")
    check_stream(stream, gapless=True, name="resumed", after_resume=True)
    assert any(m["type"] == "order" for m in stream), "order deltas were replayed and pushed live"

    reduced = reduce_stream(had + stream)
    expected = book.working_by_price()
    assert expected, "the day ends with working orders"
    assert reduced.working_by_price() == expected
    # And the server's own snapshot says the same, field for field.
    status, truth = server.get_json("/api/snapshot")
    assert status == 200
    assert reduced.orders == snapshot_state(truth).orders
    assert reduced.positions == snapshot_state(truth).positions


def test_a_fill_naming_an_order_reduces_it_in_the_same_event(server_factory):
    server = server_factory()
    status, body = server.post_fills([
        {"type": "order", "action": "new", "orderId": "A1", "account": "ACC1", "instrument": "ZNZ6", "side": "sell",
         "qty": 4, "price": "110-09"},
        {"type": "fill", "execId": "AF1", "account": "ACC1", "instrument": "ZNZ6", "side": "sell", "qty": 3,
         "price": "110-09", "orderId": "A1"},
    ])
    assert status == 200, body
    fill_seq = body["results"][1]["seq"]
    with ws_connect(server, f"/ws?since={fill_seq - 1}&epoch={server.get_json('/api/snapshot')[1]['epoch']}") as ws:
        assert recv_json(ws)["type"] == "resumed"
        event = [recv_json(ws) for _ in range(3)]
    assert [m["type"] for m in event[:2]] == ["fill", "order"] and {m["seq"] for m in event} == {fill_seq}
    assert event[0]["orderId"] == "A1"
    assert (event[1]["leavesQty"], event[1]["filledQty"], event[1]["status"]) == (1, 3, "working")
    # A scoped or mismatched fill cannot touch it.
    status, body = server.post_fills([{"type": "fill", "execId": "AF2", "account": "ACC2", "instrument": "ZNZ6",
                                       "side": "sell", "qty": 1, "price": "110-09", "orderId": "A1"}])
    assert status == 422 and body["errors"][0]["code"] == "order_mismatch", body
    # A fill that came before its order (another source was faster) counts when the order arrives.
    book = ProducerOrderBook()
    early = [{"type": "fill", "execId": "AF3", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 2,
              "price": "110-07", "orderId": "A2"},
             {"type": "order", "action": "new", "orderId": "A2", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
              "qty": 5, "price": "110-07"}]
    for message in early:
        status, body = server.post_fills([message])
        assert status == 200, body
        book.apply(message)
    served = next(o for o in server.get_json("/api/snapshot")[1]["orders"] if o["orderId"] == "A2")
    assert (served["qty"], served["filledQty"], served["leavesQty"]) == (5, 2, 3)
    assert book.working_by_price()[("ACC1", "ZNZ6", "buy", Fraction(110) + Fraction(7, 32))] == 3


def test_text_mode_lists_orders_and_filters_on_the_orders_channel(server_factory):
    server = server_factory()
    status, _ = server.post_fills([
        {"type": "order", "action": "new", "orderId": "T1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
         "qty": 5, "price": "110-08"},
        {"type": "fill", "execId": "TF0", "account": "ACC2", "instrument": "ZNZ6", "side": "buy", "qty": 1, "price": "110-08"},
    ])
    assert status == 200
    with ws_connect(server, "/ws?format=text") as ws:
        snapshot = ws.recv(timeout=10)
        assert "ORDER    ACC1       ZNZ6   BUY      5 @ 110-08       leaves     5 working   T1" in snapshot, snapshot
        ws.send("orders")
        assert ws.recv(timeout=10).strip().endswith("working   T1")
        ws.send("sub channels orders")
        assert ws.recv(timeout=10).startswith("ok: filter")
        server.post_fills([{"type": "fill", "execId": "TF1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
                            "qty": 2, "price": "110-08", "orderId": "T1"}])
        line = ws.recv(timeout=10)
        # Only the order line of that event: the fill and P&L lines are on other channels.
        assert " ORDER " in line and "leaves     3 working   T1" in line, line
        server.post_fills([{"type": "order", "action": "cancel", "orderId": "T1"}])
        assert "leaves     0 cancelled T1" in ws.recv(timeout=10)
        ws.send("orders")
        assert ws.recv(timeout=10).strip() == "(none)"
