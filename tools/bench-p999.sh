#!/usr/bin/env bash
# Issue 13's "checkpoints must not stall commits" figure: p99.9 at 1 subscriber @ 1k fills/s on a
# server whose journal already holds FILLS fills, beside the same run on an empty journal, in one
# invocation (on this shared machine only the ratio holds). Release server, durability normal,
# a ledger checkpoint every 5,000 events (so a 30 s run takes ~6 of them).
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-p999.sh [FILLS]        # from the repository root; default 1000000
#
# The populated journal (the bench feed's 3 accounts) is cached as var/bench-p999/FILLS.db;
# each run works on a copy. Knobs: LADDERWIRE_BIN (default .build/release), OUT (default
# var/bench-p999), SECONDS_RUN (default 30), ROUNDS (empty/full pairs, default 2),
# REPOPULATE=1, CHECKPOINT_EVERY (default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
FILLS=${1:-1000000}
BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-p999}
RUN=${SECONDS_RUN:-30}
ROUNDS=${ROUNDS:-2}
EVERY=${CHECKPOINT_EVERY:-5000}
mkdir -p "$OUT"
CACHED="$OUT/$FILLS.db"
if [ ! -f "$CACHED" ] || [ "${REPOPULATE:-0}" = 1 ]; then
    rm -f "$CACHED" "$CACHED-wal" "$CACHED-shm"
    echo "== populate: $BIN/ladderwire-bench populate --db $CACHED --fills $FILLS --accounts 3"
    "$BIN/ladderwire-bench" populate --db "$CACHED" --fills "$FILLS" --accounts 3 | tail -1
fi
printf '{"shared": {"durability": "normal", "checkpointEvery": %d, "limits": {"viewerRequestsPerAddressBurst": 10000000, "viewerRequestsPerAddressPerSecond": 1000000}}}\n' \
    "$EVERY" > "$OUT/config.json"
PID=""; PORT=""
stop() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }; PID=""; }
trap stop EXIT

start() {   # start empty|full NAME
    local db="$OUT/$2.db" log="$OUT/$2.log"
    rm -f "$db" "$db-wal" "$db-shm"
    if [ "$1" = full ]; then
        cp "$CACHED" "$db"
        [ -f "$CACHED-wal" ] && cp "$CACHED-wal" "$db-wal"
        # Written back before the run: else the first fsync of the database (a WAL checkpoint's)
        # waits for the kernel to write out the whole fresh copy, a stall no server would see.
        sync "$db"
    fi
    "$BIN/ladderwire" serve --config "$OUT/config.json" --port 0 --sources none --db "$db" > "$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do
        PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "server did not start; see $log" >&2; exit 1
}

echo "machine: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for what in empty full; do
        name="$what-$round"
        start "$what" "$name"
        echo "== $name: ladderwire-bench latency --subscribers 1 --rate 1000 --seconds $RUN (load $(cut -d' ' -f1 /proc/loadavg))"
        "$BIN/ladderwire-bench" latency --url "ws://127.0.0.1:$PORT" --server-pid "$PID" --subscribers 1 --rate 1000 \
            --seconds "$RUN" --json --build release --durability normal > "$OUT/$name.json"
        curl -s "http://127.0.0.1:$PORT/metrics" > "$OUT/$name.metrics" || true
        stop
    done
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys, pathlib
out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
print(f"\n{'run':<10} {'p50 µs':>9} {'p99 µs':>10} {'p99.9 µs':>10} {'max µs':>10} {'lost':>6} {'CPU µs/event':>13}")
for round in range(1, rounds + 1):
    rows = {}
    for what in ("empty", "full"):
        r = json.loads((out / f"{what}-{round}.json").read_text())
        rows[what] = r
        print(f"{what}-{round:<4} {r['delivery_p50_us']:>9} {r['delivery_p99_us']:>10} {r['delivery_p999_us']:>10} "
              f"{r.get('delivery_max_us', '-'):>10} {r['lost']:>6} {r.get('server_cpu_us_per_answered_event', '-'):>13}")
    print(f"{'':<10} ratio p99.9 full/empty ×{rows['full']['delivery_p999_us'] / max(rows['empty']['delivery_p999_us'], 1):.2f}")
PY
