#!/usr/bin/env python3
"""Generate Ladderwire's sample recorded feed (NDJSON) for the `replay` source.

Every line is one producer message plus its recorded time:
    {"at":"2026-11-24T13:30:00.250Z","type":"fill","execId":"E000001-1",...}
Lines are sorted by `at`; lines starting with '#' are comments.

What the day holds (all deterministic for a given --seed):
  * SOD lines first: every account's prior-day positions at the prior settlement price.
  * A mark every second per instrument (ZTZ6, ZFZ6, ZNZ6, ZBZ6, ESZ6), a random walk on each
    product's tick grid: ZT 1/8 of a 32nd, ZF 1/4, ZN 1/2, ZB whole 32nds, ES 0.25 points.
  * Fills about every --fill-interval seconds (exponential gaps) a few ticks around the mark,
    for ACC1, ACC2, ACC3 and DESK-HEDGE; orders often fill in partials (same "order", several
    execIds, same price); now and then a fill larger than the position flips it.
  * Working orders (their own seeded stream, so the fills above do not change with them): limit
    orders 1-6 ticks from the mark, buys below and sells above, about --order-rate a second, at
    most 10 at once. When the mark reaches one it fills (in parts, fills naming its "orderId");
    now and then one moves back towards the market (a replace, sometimes with a new size) or is
    cancelled; whatever still works at the end of the session is cancelled. Every order message
    carries its version, so a replayed line is a duplicate, not a second change.
  * One bust and one correction of earlier fills.
  * Prices in every accepted format: "110-08+", "110-08.5", "110'085", "102-30.125",
    "110.265625" (ESZ6 always decimal, "6012.25").
Prices are computed as integer counts of 1/256 point (or of 0.25 for ES): never floats.

Example:
    python3 tools/make_feed.py --seed 7 --minutes 25 --out tools/feeds/sample-day.ndjson
"""
import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone

# symbol: (units per point, tick in units, starting mark in units, weight of fills)
# Treasuries count 1/256 points; ES counts quarter points.
INSTRUMENTS = {
    "ZTZ6": (256, 1, 102 * 256 + 30 * 8 + 2, 3),   # 102-30.25
    "ZFZ6": (256, 2, 107 * 256 + 16 * 8 + 2, 3),   # 107-16.25
    "ZNZ6": (256, 4, 110 * 256 + 16 * 8, 5),       # 110-16
    "ZBZ6": (256, 8, 115 * 256 + 18 * 8, 3),       # 115-18
    "ESZ6": (4, 1, 6012 * 4 + 1, 1),               # 6012.25
}
ACCOUNTS = ["ACC1", "ACC2", "ACC3", "DESK-HEDGE"]
FRACTION_CODES = {0: "0", 2: "2", 4: "5", 6: "7"}   # eighths of a 32nd -> CME third digit


def decimal_text(units, per_point):
    """Exact decimal text of units/per_point (per_point is a power of two)."""
    whole, rest = divmod(units, per_point)
    if rest == 0:
        return str(whole)
    digits, denominator = "", per_point
    while rest:
        rest *= 10
        digits += str(rest // denominator)
        rest %= denominator
    return f"{whole}.{digits}"


def treasury_text(units, style):
    """One of the accepted 32nds formats for a price counted in 1/256 points."""
    whole, rest = divmod(units, 256)
    thirty_seconds, eighths = divmod(rest, 8)
    if style == "decimal":
        return decimal_text(units, 256)
    if style == "apostrophe" and eighths in FRACTION_CODES:
        return f"{whole}'{thirty_seconds:02d}{FRACTION_CODES[eighths]}"
    if style == "plus" and eighths == 4:
        return f"{whole}-{thirty_seconds:02d}+"
    if eighths == 0:
        return f"{whole}-{thirty_seconds:02d}"
    fraction = decimal_text(eighths, 8)[1:]   # ".5", ".25", ".125" ...
    return f"{whole}-{thirty_seconds:02d}{fraction}"


def price_text(symbol, units, rng):
    per_point = INSTRUMENTS[symbol][0]
    if per_point != 256:
        return decimal_text(units, per_point)
    return treasury_text(units, rng.choice(["dash", "plus", "apostrophe", "decimal"]))


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=20261124, help="random seed (default 20261124)")
    parser.add_argument("--date", default="2026-11-24", help="trading date, UTC (default 2026-11-24)")
    parser.add_argument("--start", default="13:30:00", help="session start, UTC (default 13:30:00 = 07:30 CT)")
    parser.add_argument("--minutes", type=int, default=25, help="session length in minutes (default 25)")
    parser.add_argument("--fill-interval", type=float, default=0.5,
                        help="mean seconds between fills (default 0.5)")
    parser.add_argument("--order-rate", type=float, default=0.4,
                        help="new working orders per second (default 0.4)")
    parser.add_argument("--out", default="tools/feeds/sample-day.ndjson", help="output file ('-' for stdout)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    start = datetime.fromisoformat(f"{args.date}T{args.start}").replace(tzinfo=timezone.utc)
    seconds = args.minutes * 60
    marks = {symbol: spec[2] for symbol, spec in INSTRUMENTS.items()}
    positions = {(a, s): 0 for a in ACCOUNTS for s in INSTRUMENTS}
    events = []   # (at, order key, message)

    def emit(at, message):
        events.append((at, len(events), message))

    # Start of day: prior settle = the opening mark.
    for account in ACCOUNTS:
        for symbol in INSTRUMENTS:
            if symbol == "ESZ6" and account != "DESK-HEDGE":
                continue
            qty = rng.choice([0, 0, -5, -2, 1, 2, 3, 10]) if account != "DESK-HEDGE" else rng.choice([-20, -10, 15])
            if qty == 0:
                continue
            positions[(account, symbol)] = qty
            emit(start, {"type": "sod", "account": account, "instrument": symbol, "qty": qty,
                         "price": price_text(symbol, marks[symbol], rng)})

    # Marks every second (a small offset per instrument) as a random walk on the grid.
    mark_path = {symbol: [] for symbol in INSTRUMENTS}
    for second in range(seconds):
        for index, (symbol, (per_point, tick, _, _)) in enumerate(INSTRUMENTS.items()):
            step = rng.choice([-1, 0, 0, 1]) * (2 if symbol == "ZTZ6" else 1)
            marks[symbol] += step * tick
            mark_path[symbol].append(marks[symbol])
            at = start + timedelta(seconds=second, milliseconds=100 + 150 * index)
            emit(at, {"type": "mark", "instrument": symbol, "price": price_text(symbol, marks[symbol], rng)})

    # Fills.
    symbols = list(INSTRUMENTS)
    weights = [INSTRUMENTS[s][3] for s in symbols]
    clock, order_number, fills = 0.0, 0, []
    while True:
        clock += rng.expovariate(1.0 / args.fill_interval)
        if clock >= seconds:
            break
        symbol = rng.choices(symbols, weights)[0]
        account = "DESK-HEDGE" if symbol == "ESZ6" else rng.choice(ACCOUNTS)
        per_point, tick, _, _ = INSTRUMENTS[symbol]
        mark = mark_path[symbol][int(clock)]
        price = mark + rng.randint(-2, 2) * tick
        position = positions[(account, symbol)]
        if position != 0 and rng.random() < 0.03:
            side = "sell" if position > 0 else "buy"   # a flip: more than the whole position
            qty = abs(position) + rng.randint(1, 5)
        else:
            side = rng.choice(["buy", "sell"])
            qty = rng.choice([1, 1, 1, 2, 2, 3, 5, 10])
        order_number += 1
        order = f"O{order_number:06d}"
        parts = [qty] if qty < 3 or rng.random() < 0.6 else split_quantity(qty, rng)
        at = start + timedelta(milliseconds=int(clock * 1000))
        for part_index, part in enumerate(parts):
            exec_id = f"E{order_number:06d}-{part_index + 1}"
            message = {"type": "fill", "execId": exec_id, "account": account, "instrument": symbol,
                       "side": side, "qty": part, "price": price_text(symbol, price, rng), "order": order}
            emit(at + timedelta(milliseconds=37 * part_index), message)
            fills.append((at, message, per_point))
        positions[(account, symbol)] += qty if side == "buy" else -qty

    order_count, order_fills = working_orders(args, start, seconds, mark_path, emit)

    # One bust and one correction, a minute after the fills they refer to.
    busted_at, busted, _ = fills[len(fills) // 3]
    emit(busted_at + timedelta(seconds=60), {"type": "bust", "execId": busted["execId"]})
    corrected_at, corrected, _ = fills[(2 * len(fills)) // 3]
    emit(corrected_at + timedelta(seconds=60),
         {"type": "correct", "execId": corrected["execId"], "qty": corrected["qty"] + 1})

    events.sort(key=lambda event: (event[0], event[1]))
    out = sys.stdout if args.out == "-" else open(args.out, "w")
    out.write(f"# Ladderwire sample day: tools/make_feed.py --seed {args.seed} --date {args.date} "
              f"--start {args.start} --minutes {args.minutes} --fill-interval {args.fill_interval} "
              f"--order-rate {args.order_rate}\n")
    out.write(f"# {len(fills) + order_fills} fills ({order_fills} of {order_count} working orders), "
              f"{seconds * len(INSTRUMENTS)} marks, 1 bust, 1 correction; "
              "lines: {\"at\": recorded time, <producer message>}\n")
    for at, _, message in events:
        out.write(json.dumps({"at": iso(at), **message}, separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()


def working_orders(args, start, seconds, mark_path, emit):
    """Resting limit orders around the marks; returns (orders placed, fills of orders)."""
    rng = random.Random(args.seed + 1)
    symbols = list(INSTRUMENTS)
    weights = [INSTRUMENTS[s][3] for s in symbols]
    working, placed, filled = [], 0, 0
    for second in range(seconds):
        at = start + timedelta(seconds=second, milliseconds=850)
        kept = []
        for order in working:
            symbol = order["instrument"]
            tick = INSTRUMENTS[symbol][1]
            mark = mark_path[symbol][second]
            reached = mark <= order["units"] if order["side"] == "buy" else mark >= order["units"]
            if reached:
                qty = rng.randint(1, order["qty"] - order["filled"])
                order["filled"] += qty
                order["fills"] += 1
                filled += 1
                emit(at, {"type": "fill", "execId": f"{order['orderId']}-{order['fills']}", "account": order["account"],
                          "instrument": symbol, "side": order["side"], "qty": qty,
                          "price": price_text(symbol, order["units"], rng), "orderId": order["orderId"]})
                if order["filled"] < order["qty"]:
                    kept.append(order)
                continue
            roll = rng.random()
            if roll < 0.02:
                order["version"] += 1
                emit(at, {"type": "order", "action": "cancel", "orderId": order["orderId"], "version": order["version"]})
                continue
            if roll < 0.06:
                away = rng.randint(1, 3) * tick
                order["units"] = mark - away if order["side"] == "buy" else mark + away
                order["version"] += 1
                message = {"type": "order", "action": "replace", "orderId": order["orderId"], "version": order["version"],
                           "price": price_text(symbol, order["units"], rng)}
                if rng.random() < 0.4:
                    order["qty"] = order["filled"] + rng.choice([1, 2, 3, 5, 10])
                    message["qty"] = order["qty"]
                emit(at, message)
            kept.append(order)
        working = kept
        if len(working) < 10 and rng.random() < args.order_rate:
            symbol = rng.choices(symbols, weights)[0]
            tick = INSTRUMENTS[symbol][1]
            side = rng.choice(["buy", "sell"])
            away = rng.randint(1, 6) * tick
            mark = mark_path[symbol][second]
            placed += 1
            order = {"orderId": f"W{placed:05d}", "instrument": symbol, "side": side,
                     "account": "DESK-HEDGE" if symbol == "ESZ6" else rng.choice(ACCOUNTS),
                     "units": mark - away if side == "buy" else mark + away, "qty": rng.choice([1, 2, 3, 5, 10]),
                     "filled": 0, "fills": 0, "version": 1}
            working.append(order)
            emit(at, {"type": "order", "action": "new", "orderId": order["orderId"], "account": order["account"],
                      "instrument": symbol, "side": side, "qty": order["qty"],
                      "price": price_text(symbol, order["units"], rng), "version": 1})
    end = start + timedelta(seconds=seconds)
    for order in working:
        emit(end, {"type": "order", "action": "cancel", "orderId": order["orderId"], "version": order["version"] + 1})
    return placed, filled


def split_quantity(qty, rng):
    """A parent order's quantity in 2-4 partial fills."""
    pieces = rng.randint(2, min(4, qty))
    cuts = sorted(rng.sample(range(1, qty), pieces - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [qty])]


if __name__ == "__main__":
    main()
