#!/usr/bin/env python3
"""Issue 13's `POST /api/fills` figure: acknowledged fills per second when a producer posts
batches (default 500 fills each) one after another on one keep-alive connection. Every fill is
new (a random run tag in each execId), and only `ack` results are counted. The bodies are built
before the clock starts, so the figure is the server's (plus one HTTP round trip per batch).

    tools/bench-http-batches.py --port PORT [--batches 200] [--size 500] [--rounds 3] [--token T]

Loopback only; standard library only."""

import argparse
import http.client
import json
import os
import time

PRICES = {"ZTZ6": "102-29.75", "ZFZ6": "107-15.75", "ZNZ6": "110-17+", "TNZ6": "113-08",
          "ZBZ6": "115-19", "UBZ6": "120-16", "ESZ6": "6012.75"}


def bodies(batches: int, size: int) -> list[bytes]:
    symbols = sorted(PRICES)
    tag = os.urandom(4).hex()
    return [json.dumps([{"type": "fill", "execId": f"H{tag}-{b}-{i}", "account": f"ACC{i % 3 + 1}",
                         "instrument": symbols[i % 7], "side": "buy" if i % 3 else "sell",
                         "qty": 1 + i % 4, "price": PRICES[symbols[i % 7]]} for i in range(size)]).encode()
            for b in range(batches)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--token")
    args = parser.parse_args()
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    for round_number in range(1, args.rounds + 1):
        prepared = bodies(args.batches, args.size)
        connection = http.client.HTTPConnection("127.0.0.1", args.port)
        acked = 0
        start = time.perf_counter()
        for body in prepared:
            connection.request("POST", "/api/fills", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
            acked += sum(1 for result in json.loads(data)["results"] if result.get("type") == "ack")
        elapsed = time.perf_counter() - start
        connection.close()
        print(f"round {round_number}: {acked} acked in {elapsed:.2f} s: {acked / elapsed:,.0f} fills/s "
              f"({args.batches} batches of {args.size})")


if __name__ == "__main__":
    main()
