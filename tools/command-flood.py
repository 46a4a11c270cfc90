#!/usr/bin/env python3
"""One viewer flooding `/ws` with client commands, for the ack-latency measurement in
docs/benchmarks.md ("A viewer flooding commands"): it opens `/ws`, sends `subscribe` commands as
fast as the socket takes them (each one asks the ingest thread for a snapshot), and with
--reconnect opens a new connection whenever the server closes one. Runs for --seconds.

    tools/command-flood.py --url ws://127.0.0.1:PORT [--seconds 30] [--token T] [--reconnect]

Loopback only; uses the Python `websockets` package of the test venv (var/venv)."""

import argparse
import asyncio
import json
import time

import websockets


async def flood(url: str, seconds: float, token: str | None, reconnect: bool) -> None:
    deadline = time.monotonic() + seconds
    command = json.dumps({"type": "subscribe", "accounts": None, "channels": ["fills", "positions", "pnl"]})
    sent = connections = refused = 0
    headers = {"Authorization": f"Bearer {token}"} if token else None
    while time.monotonic() < deadline:
        try:
            async with websockets.connect(url + "/ws", additional_headers=headers, max_size=None,
                                          compression=None, proxy=None) as ws:
                connections += 1

                async def drain():
                    try:
                        async for _ in ws:
                            pass
                    except websockets.ConnectionClosed:
                        pass
                reader = asyncio.create_task(drain())
                while time.monotonic() < deadline:
                    await ws.send(command)
                    sent += 1
                    if sent % 64 == 0:
                        await asyncio.sleep(0)
                reader.cancel()
        except websockets.exceptions.InvalidStatus:
            # Refused (429 past the per-address session rate): an attacker does not honour
            # Retry-After, so neither does this; it tries again as it would after a close.
            refused += 1
            if not reconnect:
                break
            await asyncio.sleep(0.01)
        except (websockets.ConnectionClosed, OSError):
            if not reconnect:
                break
            await asyncio.sleep(0.01)
    print(f"command-flood: {sent} commands over {connections} connections in {seconds:.0f} s, {refused} upgrades refused")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--token")
    parser.add_argument("--reconnect", action="store_true", help="open a new connection whenever the server closes one")
    args = parser.parse_args()
    if not args.url.startswith(("ws://127.", "ws://localhost", "ws://[::1]")):
        raise SystemExit("command-flood: loopback URLs only")
    asyncio.run(flood(args.url, args.seconds, args.token, args.reconnect))


if __name__ == "__main__":
    main()
