"""Producers on /feed and POST /api/fills: every error class answered precisely, in order, with
nothing stored but the audit line; duplicates; all-or-nothing batches."""

from __future__ import annotations

import json
import time

import pytest

from test_push_support import journal_counts, journal_rows, ws_connect

SEED = [
    {"type": "sod", "account": "ACC1", "instrument": "ZNZ6", "qty": 2, "price": "110-16"},
    {"type": "mark", "instrument": "ZNZ6", "price": "110-16"},
    {"type": "fill", "execId": "E1", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 3,
     "price": "110-18.5"},
    {"type": "fill", "execId": "E2", "account": "ACC2", "instrument": "ESZ6", "side": "sell", "qty": 1,
     "price": "6012.25"},
]


def good_fill(exec_id: str, **changes) -> dict:
    fill = {"type": "fill", "execId": exec_id, "account": "ACC1", "instrument": "ZNZ6", "side": "sell",
            "qty": 1, "price": "110-17"}
    fill.update(changes)
    return fill


def without(message: dict, key: str) -> dict:
    return {k: v for k, v in message.items() if k != key}


# (id, message, expected code, expected ref)
BAD_MESSAGES = [
    ("missing-type", {"execId": "X1", "account": "ACC1"}, "missing_field", None),
    ("missing-side", without(good_fill("X2"), "side"), "missing_field", "X2"),
    ("missing-price", without(good_fill("X3"), "price"), "missing_field", "X3"),
    ("missing-account", without(good_fill("X4"), "account"), "missing_field", "X4"),
    ("mark-missing-price", {"type": "mark", "instrument": "ZNZ6"}, "missing_field", "ZNZ6"),
    ("correct-without-change", {"type": "correct", "execId": "E1"}, "missing_field", "E1"),
    ("unknown-type", {"type": "quote", "execId": "X5"}, "unknown_type", None),
    ("order-without-id", {"type": "order", "action": "new", "execId": "X5"}, "missing_field", None),
    ("order-unknown-action", {"type": "order", "action": "amend", "orderId": "OX"}, "invalid_field", "OX"),
    ("unknown-instrument", good_fill("X6", instrument="ZNH9"), "unknown_instrument", "X6"),
    ("mark-unknown-instrument", {"type": "mark", "instrument": "NOPE", "price": "110-16"}, "unknown_instrument", "NOPE"),
    ("off-grid-32nds", good_fill("X7", price="110-16.25"), "price_off_grid", "X7"),
    ("off-grid-decimal", good_fill("X8", instrument="ESZ6", price="6012.1"), "price_off_grid", "X8"),
    ("mark-off-grid", {"type": "mark", "instrument": "ZBZ6", "price": "115-18.5"}, "price_off_grid", "ZBZ6"),
    ("malformed-price", good_fill("X9", price="110-1x"), "price_malformed", "X9"),
    ("malformed-price-32nds-over", good_fill("X10", price="110-33"), "price_malformed", "X10"),
    ("numeric-price", good_fill("X11", price=110.5), "invalid_price", "X11"),
    ("zero-qty", good_fill("X12", qty=0), "invalid_quantity", "X12"),
    ("negative-qty", good_fill("X13", qty=-3), "invalid_quantity", "X13"),
    ("fractional-qty", good_fill("X14", qty=1.5), "invalid_quantity", "X14"),
    ("string-qty", good_fill("X15", qty="2"), "invalid_quantity", "X15"),
    ("boolean-qty", good_fill("X16", qty=True), "invalid_quantity", "X16"),
    ("bad-side", good_fill("X17", side="BUY"), "invalid_side", "X17"),
    ("bust-unknown", {"type": "bust", "execId": "NOPE1"}, "unknown_fill", "NOPE1"),
    ("correct-unknown", {"type": "correct", "execId": "NOPE2", "qty": 1}, "unknown_fill", "NOPE2"),
    ("correct-zero-qty", {"type": "correct", "execId": "E1", "qty": 0}, "invalid_quantity", "E1"),
    ("out-of-band", good_fill("X18", price="130-16"), "price_out_of_band", "X18"),
    ("bad-time", good_fill("X19", time="yesterday at noon"), "invalid_time", "X19"),
    ("empty-account", good_fill("X20", account=""), "invalid_field", "X20"),
    ("numeric-exec-id", good_fill(7), "invalid_field", None),
    ("sod-fractional-qty", {"type": "sod", "account": "ACC1", "instrument": "ZBZ6", "qty": 1.5, "price": "115-18"},
     "invalid_quantity", "ZBZ6"),
]

UNPARSABLE_FRAMES = [
    ("not-json", "{\"type\": \"fill\",", "malformed_json"),
    ("json-array", "[1, 2]", "malformed_json"),
    ("json-string", "\"fill\"", "malformed_json"),
]


@pytest.fixture
def seeded(server_factory):
    server = server_factory()
    status, body = server.post_fills(SEED)
    assert status == 200 and body["accepted"], body
    return server


def stable_snapshot(server, query: str = "") -> dict:
    status, snapshot = server.get_json("/api/snapshot" + query)
    assert status == 200, snapshot
    return {k: v for k, v in snapshot.items() if k not in ("time", "monitors")}


def all_fills(server) -> list[dict]:
    status, body = server.get_json("/api/fills?limit=10000")
    assert status == 200, body
    return body["fills"]


def reject_audit_rows(server) -> list[str]:
    return [row[0] for row in journal_rows(server.db_path, "SELECT detail FROM audit WHERE action = 'reject' ORDER BY id")]


def assert_only_audit_grew(server, before_counts: dict, before_snapshot: dict, before_fills: list, rejects: int) -> None:
    after = journal_counts(server.db_path)
    for table in ("events", "fills", "marks", "sod"):
        assert after[table] == before_counts[table], f"table {table} changed: {before_counts} -> {after}"
    assert after["audit"] == before_counts["audit"] + rejects, f"audit: {before_counts['audit']} -> {after['audit']}, wanted +{rejects}"
    assert stable_snapshot(server) == before_snapshot
    assert all_fills(server) == before_fills


def test_every_error_class_on_feed_is_answered_in_order_and_stores_only_audit(seeded):
    server = seeded
    counts, snapshot, fills = journal_counts(server.db_path), stable_snapshot(server), all_fills(server)
    frames = [json.dumps(message) for _, message, _, _ in BAD_MESSAGES] + [text for _, text, _ in UNPARSABLE_FRAMES]
    expected = [(code, ref) for _, _, code, ref in BAD_MESSAGES] + [(code, None) for _, _, code in UNPARSABLE_FRAMES]
    with ws_connect(server, "/feed") as feed:
        for frame in frames:            # pipelined: all sent before any reply is read
            feed.send(frame)
        feed.send(b"\x01\x02")          # a binary frame is not a producer message either
        expected.append(("malformed_json", None))
        replies = [json.loads(feed.recv(timeout=10)) for _ in expected]
        for (code, ref), reply, label in zip(expected, replies, [c[0] for c in BAD_MESSAGES] + [c[0] for c in UNPARSABLE_FRAMES] + ["binary"]):
            assert reply["type"] == "error", f"{label}: {reply}"
            assert reply["code"] == code, f"{label}: wanted {code}, got {reply}"
            assert reply["ref"] == ref, f"{label}: wanted ref {ref!r}, got {reply}"
            assert reply.get("message"), f"{label}: an error needs a message: {reply}"
        # Still open and working after all of that; no stray extra replies came first.
        feed.send(json.dumps({"type": "mark", "instrument": "ZNZ6", "price": "110-16+"}))
        last = json.loads(feed.recv(timeout=10))
        assert last == {"type": "ack", "ref": "ZNZ6", "seq": snapshot["seq"] + 1}, last
    # Everything but that final mark left the journal untouched, except one audit line per reject.
    counts_now = journal_counts(server.db_path)
    assert counts_now["events"] == counts["events"] + 1
    assert counts_now["fills"] == counts["fills"] and counts_now["sod"] == counts["sod"]
    assert counts_now["audit"] == counts["audit"] + len(expected)
    details = reject_audit_rows(server)[-len(expected):]
    for (code, ref), detail in zip(expected, details):
        assert f"{code}:" in detail, (code, detail)
        assert detail.startswith(f"{ref or '-'} "), (ref, detail)
    assert all_fills(server) == fills


@pytest.mark.parametrize("label,message,code,ref", BAD_MESSAGES, ids=[c[0] for c in BAD_MESSAGES])
def test_every_error_class_on_post_is_422_and_stores_only_audit(seeded, label, message, code, ref):
    server = seeded
    counts, snapshot, fills = journal_counts(server.db_path), stable_snapshot(server), all_fills(server)
    status, body = server.post_fills([message])
    assert status == 422, (status, body)
    assert body["accepted"] is False
    assert len(body["results"]) == 1 and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["index"] == 0 and error["type"] == "error" and error["code"] == code and error["ref"] == ref, error
    assert_only_audit_grew(server, counts, snapshot, fills, rejects=1)
    assert f"{code}:" in reject_audit_rows(server)[-1]


@pytest.mark.parametrize("body", [b"{not json", b"{\"type\":\"fill\"}", b"[]", b""], ids=["garbage", "object", "empty", "nothing"])
def test_post_body_that_is_not_a_message_array_is_400_and_stores_nothing(seeded, body):
    server = seeded
    counts, snapshot = journal_counts(server.db_path), stable_snapshot(server)
    status, _, data = server.request("POST", "/api/fills", body=body, headers={"Content-Type": "application/json"})
    assert status == 400, (status, data)
    assert json.loads(data)["error"] in ("malformed_json", "empty")
    after = journal_counts(server.db_path)
    assert after["events"] == counts["events"] and stable_snapshot(server) == snapshot


def test_post_item_that_is_not_an_object_is_rejected_per_item(seeded):
    server = seeded
    counts, snapshot, fills = journal_counts(server.db_path), stable_snapshot(server), all_fills(server)
    status, body = server.post_fills([good_fill("N1"), 42])
    assert status == 422, body
    assert [r["code"] for r in body["results"]] == ["not_applied", "malformed_json"], body
    assert_only_audit_grew(server, counts, snapshot, fills, rejects=1)


def test_post_is_all_or_nothing(seeded):
    server = seeded
    counts, snapshot, fills = journal_counts(server.db_path), stable_snapshot(server), all_fills(server)
    status, body = server.post_fills([
        good_fill("A1"),
        {"type": "mark", "instrument": "ZNZ6", "price": "110-20"},
        good_fill("A2", price="110-17.3"),      # off the grid: spoils the whole request
        good_fill("A3"),
    ])
    assert status == 422, body
    assert body["accepted"] is False
    codes = [r["code"] for r in body["results"]]
    assert codes == ["not_applied", "not_applied", "price_off_grid", "not_applied"], body
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert any(e["code"] == "price_off_grid" and e["index"] == 2 and e["ref"] == "A2" for e in body["errors"]), body
    # Nothing persisted: same seq, same positions, same fills, no new events; E1 still live.
    assert stable_snapshot(server) == snapshot
    assert all_fills(server) == fills
    assert [f["status"] for f in fills if f["execId"] == "E1"] == ["live"]
    assert_only_audit_grew(server, counts, snapshot, fills, rejects=1)
    # The same items without the bad one go through, numbered from the unchanged seq.
    status, body = server.post_fills([good_fill("A1"), good_fill("A3")])
    assert status == 200, body
    assert [r["seq"] for r in body["results"]] == [snapshot["seq"] + 1, snapshot["seq"] + 2]


def test_rejected_post_writes_no_audit_for_items_not_applied(seeded):
    server = seeded
    counts, snapshot, fills = journal_counts(server.db_path), stable_snapshot(server), all_fills(server)
    status, body = server.post_fills([
        {"type": "bust", "execId": "E1"},
        {"type": "correct", "execId": "E2", "qty": 2},
        {"type": "sod", "account": "ACC3", "instrument": "ZBZ6", "qty": -1, "price": "115-18"},
        {"type": "mark", "instrument": "ZNZ6", "price": "110-16.3"},     # off the grid
    ])
    assert status == 422, body
    assert [r["code"] for r in body["results"]] == ["not_applied", "not_applied", "not_applied", "price_off_grid"], body
    assert stable_snapshot(server) == snapshot and all_fills(server) == fills
    actions = [row[0] for row in journal_rows(server.db_path, "SELECT action FROM audit ORDER BY id")][counts["audit"]:]
    assert actions == ["reject"], f"audit rows written by a request that stored nothing: {actions}"


@pytest.mark.parametrize("follow_up", [
    pytest.param({"type": "bust"}, id="bust"),
    pytest.param({"type": "correct", "qty": 3}, id="correct-qty"),
    pytest.param({"type": "correct", "price": "110-17"}, id="correct-price"),
])
def test_a_request_may_bust_or_correct_a_fill_it_adds_itself(seeded, follow_up):
    server = seeded
    start = stable_snapshot(server)["seq"]
    status, body = server.post_fills([good_fill("S1"), dict(follow_up, execId="S1")])
    assert status == 200, body
    assert [r["seq"] for r in body["results"]] == [start + 1, start + 2], body
    expected = {"bust": "busted", "correct": "corrected"}[follow_up["type"]]
    assert [f["status"] for f in all_fills(server) if f["execId"] == "S1"] == [expected]


def test_duplicate_exec_id_answers_the_original_seq_and_stores_nothing(seeded):
    server = seeded
    fills = {f["execId"]: f for f in all_fills(server)}
    original_seq = fills["E1"]["seq"]
    counts, snapshot = journal_counts(server.db_path), stable_snapshot(server)
    with ws_connect(server, "/feed") as feed:
        # Same execId, different content: still the same execution, not a second fill.
        feed.send(json.dumps(good_fill("E1", side="buy", qty=3, price="110-18+")))
        reply = json.loads(feed.recv(timeout=10))
        assert reply == {"type": "duplicate", "ref": "E1", "seq": original_seq}, reply
    after = journal_counts(server.db_path)
    assert after["events"] == counts["events"] and after["fills"] == counts["fills"]
    assert stable_snapshot(server) == snapshot
    # In a POST a duplicate counts as accepted next to a new fill.
    status, body = server.post_fills([good_fill("E2", account="ACC2", instrument="ESZ6", price="6012.25"),
                                      good_fill("D1")])
    assert status == 200, body
    assert body["accepted"] is True
    assert body["results"][0]["type"] == "duplicate" and body["results"][0]["seq"] == fills["E2"]["seq"], body
    assert body["results"][1] == {"index": 1, "type": "ack", "ref": "D1", "seq": snapshot["seq"] + 1}, body
    assert journal_counts(server.db_path)["events"] == counts["events"] + 1
    # A duplicate inside one POST (the second copy of a new execId) answers the first copy's seq.
    status, body = server.post_fills([good_fill("D2"), good_fill("D2", qty=5)])
    assert status == 200, body
    assert body["results"][0]["type"] == "ack" and body["results"][1]["type"] == "duplicate"
    assert body["results"][1]["seq"] == body["results"][0]["seq"]


def test_feed_replies_once_per_message_in_order_mixing_good_and_bad(seeded):
    server = seeded
    start = stable_snapshot(server)["seq"]
    script = []
    for n in range(30):
        if n % 3 == 0:
            script.append((good_fill(f"O{n}", price="110-16.3"), "error"))
        elif n % 3 == 1:
            script.append((good_fill(f"O{n}", qty=1 + n % 4), "ack"))
        else:
            script.append((good_fill(f"O{n - 1}"), "duplicate"))   # resend of the previous good one
    with ws_connect(server, "/feed") as feed:
        for message, _ in script:
            feed.send(json.dumps(message))
        replies = [json.loads(feed.recv(timeout=10)) for _ in script]
        with pytest.raises(TimeoutError):
            feed.recv(timeout=0.5)      # exactly one reply per message
    next_seq = start
    acked = {}
    for (message, kind), reply in zip(script, replies):
        assert reply["type"] == kind, (message, reply)
        assert reply["ref"] == message["execId"], (message, reply)
        if kind == "ack":
            next_seq += 1
            assert reply["seq"] == next_seq, (message, reply)
            acked[message["execId"]] = reply["seq"]
        elif kind == "duplicate":
            assert reply["seq"] == acked[message["execId"]], (message, reply)
    assert stable_snapshot(server)["seq"] == next_seq


def test_producer_scoped_to_an_account_cannot_write_another(server_factory, tmp_path):
    from test_push_support import add_token, write_config
    tokens = tmp_path / "tokens.json"
    producer = add_token(tokens, "acc1-producer", "producer", accounts=["ACC1"])
    server = server_factory(extra_args=["--config", str(write_config(tmp_path, tokens))])
    counts = journal_counts(server.db_path)
    with ws_connect(server, "/feed", token=producer) as feed:
        feed.send(json.dumps(good_fill("S1", account="ACC2")))
        reply = json.loads(feed.recv(timeout=10))
        assert reply["type"] == "error" and reply["code"] == "unauthorized_account" and reply["ref"] == "S1", reply
        feed.send(json.dumps(good_fill("S2", account="ACC1")))
        assert json.loads(feed.recv(timeout=10))["type"] == "ack"
    status, body = server.post_fills([good_fill("S3", account="ACC2")], token=producer)
    assert status == 422 and body["errors"][0]["code"] == "unauthorized_account", body
    after = journal_counts(server.db_path)
    assert after["events"] == counts["events"] + 1


def test_an_ack_means_the_event_is_already_committed(seeded):
    server = seeded
    with ws_connect(server, "/feed") as feed:
        for n in range(10):
            feed.send(json.dumps(good_fill(f"C{n}", qty=1 + n)))
            reply = json.loads(feed.recv(timeout=10))
            assert reply["type"] == "ack", reply
            # Read by another connection right after the ack: the row is there.
            rows = journal_rows(server.db_path, "SELECT kind, exec_id FROM events WHERE seq = ?", (reply["seq"],))
            assert rows == [("fill", f"C{n}")], (reply, rows)
            fill = journal_rows(server.db_path, "SELECT seq, qty, status FROM fills WHERE exec_id = ?", (f"C{n}",))
            assert fill == [(reply["seq"], 1 + n, "live")], fill


def test_duplicate_detection_survives_a_restart(seeded):
    server = seeded
    original = {f["execId"]: f["seq"] for f in all_fills(server)}
    server.stop()
    server.start()
    counts = journal_counts(server.db_path)
    with ws_connect(server, "/feed") as feed:
        feed.send(json.dumps(SEED[2]))
        assert json.loads(feed.recv(timeout=10)) == {"type": "duplicate", "ref": "E1", "seq": original["E1"]}
    status, body = server.post_fills([SEED[3]])
    assert status == 200 and body["results"][0]["type"] == "duplicate" and body["results"][0]["seq"] == original["E2"], body
    assert journal_counts(server.db_path)["events"] == counts["events"]


def test_extra_fields_are_ignored_and_an_explicit_time_is_kept(seeded):
    server = seeded
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 90)) + ".123Z"
    with ws_connect(server, "/ws") as ws:
        snapshot = json.loads(ws.recv(timeout=10))
        status, body = server.post_fills([good_fill("T1", time=when, venue="CBOT", note={"any": "thing"})])
        assert status == 200 and body["results"][0]["type"] == "ack", body
        fill = json.loads(ws.recv(timeout=10))
    assert fill["type"] == "fill" and fill["execId"] == "T1" and fill["seq"] == snapshot["seq"] + 1, fill
    assert fill["time"] == when, fill
    assert [f["time"] for f in all_fills(server) if f["execId"] == "T1"] == [when]
