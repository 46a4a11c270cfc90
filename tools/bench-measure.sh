#!/usr/bin/env bash
# Runs every server figure of docs/benchmarks.md, each against a fresh release server on a fresh
# database (a ledger that grows across scenarios would bias the later ones).
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-measure.sh [SCENARIO...]      # from the repository root; default: all
#
# Scenarios: sub1 sub100 sub1000 sub100x10k ingest idle1k idle10k snapshot snapshot-floor ledger journal
#            sub100-deflate idle10k-deflate wire wire-deflate (permessage-deflate: the same runs with
#            every subscriber offering it; wire*: one subscriber to every channel, bytes per event)
# Knobs: LADDERWIRE_BIN (directory holding both binaries, default .build/release), OUT (results
# directory, default var/bench), DURABILITY (normal|full, passed to the server config and stated
# in the reports), SECONDS_SHORT (length of the 1k/s runs, default 20), SNAPSHOT_BYTES (the
# snapshot-floor relay's first message, default 79788: the preloaded server's snapshot).
set -euo pipefail

BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench}
DURABILITY=${DURABILITY:-normal}
SHORT=${SECONDS_SHORT:-20}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
SERVER_PID=""
PORT=""
ALL_CHANNELS=fills,positions,pnl,marks,risk,status

start_server() {
    local name=$1
    local db="$OUT/$name.db"
    rm -f "$db" "$db-wal" "$db-shm"
    local config="$OUT/ladderwire-bench.json"
    # The load generator is one address (like a proxy): lift the per-address viewer budget.
    printf '{"shared": {"durability": "%s", "limits": {"viewerRequestsPerAddressBurst": 10000000, "viewerRequestsPerAddressPerSecond": 1000000}}}\n' "$DURABILITY" > "$config"
    "$BIN/ladderwire" serve --config "$config" --port 0 --sources none --db "$db" > "$OUT/$name.server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$OUT/$name.server.log" | grep -o '[0-9]*$' || true)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "server did not start; see $OUT/$name.server.log" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# Runs one bench command, keeping its text report and a JSON copy.
bench() {
    local name=$1; shift
    echo "== $name: ladderwire-bench $*"
    "$BIN/ladderwire-bench" "$@" --build release --durability "$DURABILITY" | tee "$OUT/$name.txt"
}

# The ledger and journal benches take no server and state their own settings.
offline() {
    local name=$1; shift
    echo "== $name: ladderwire-bench $*"
    { echo "command: $BIN/ladderwire-bench $*"; echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)";
      echo "date: $(date -u +%FT%TZ)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"; "$BIN/ladderwire-bench" "$@"; } | tee "$OUT/$name.txt"
}

# ~105 positions (15 accounts × 7 instruments) from 210 fills, for the snapshot scenario.
preload() {
    python3 - "$PORT" <<'EOF'
import json, sys, urllib.request
port = sys.argv[1]
prices = {"ZTZ6": "102-29.75", "ZFZ6": "107-15.75", "ZNZ6": "110-17+", "TNZ6": "113-08",
          "ZBZ6": "115-19", "UBZ6": "120-16", "ESZ6": "6012.75"}
symbols = sorted(prices)
fills = [{"type": "fill", "execId": f"PRELOAD-{i}", "account": f"SNAP{i % 15:02d}",
          "instrument": symbols[i % 7], "side": "buy" if i % 3 else "sell", "qty": 1 + i % 4,
          "price": prices[symbols[i % 7]]} for i in range(210)]
request = urllib.request.Request(f"http://127.0.0.1:{port}/api/fills", data=json.dumps(fills).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
with urllib.request.urlopen(request) as response:
    print("preload:", response.status, len(fills), "fills")
EOF
}

latency() {
    local name=$1; shift
    start_server "$name"
    bench "$name" latency --url "ws://127.0.0.1:$PORT" --server-pid "$SERVER_PID" "$@"
    stop_server
}

run() {
    case $1 in
        sub1) latency sub1 --subscribers 1 --rate 1000 --seconds "$SHORT" ;;
        sub100) latency sub100 --subscribers 100 --rate 1000 --seconds "$SHORT" ;;
        sub1000) latency sub1000 --subscribers 1000 --rate 1000 --seconds "$SHORT" --drain 30 ;;
        sub100-deflate) latency sub100-deflate --subscribers 100 --rate 1000 --seconds "$SHORT" --deflate ;;
        wire) latency wire --subscribers 1 --rate 1000 --seconds "$SHORT" --channels "$ALL_CHANNELS" ;;
        wire-deflate) latency wire-deflate --subscribers 1 --rate 1000 --seconds "$SHORT" --channels "$ALL_CHANNELS" --deflate ;;
        idle10k-deflate)
            start_server idle10k-deflate
            sleep 1
            bench idle10k-deflate connect --url "ws://127.0.0.1:$PORT" --idle 10000 --server-pid "$SERVER_PID" --deflate
            stop_server ;;
        sub100x10k) latency sub100x10k --subscribers 100 --rate 10000 --seconds 30 --drain 30 ;;
        ingest)
            start_server ingest
            for depth in 1 64 256; do
                bench "ingest-p$depth" ingest --url "ws://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --seconds 10 --pipeline "$depth"
            done
            stop_server ;;
        idle1k | idle10k)
            local count=1000; [ "$1" = idle10k ] && count=10000
            start_server "$1"
            sleep 1
            bench "$1" connect --url "ws://127.0.0.1:$PORT" --idle "$count" --server-pid "$SERVER_PID"
            stop_server ;;
        snapshot)
            start_server snapshot
            preload
            bench snapshot connect --url "ws://127.0.0.1:$PORT" --clients 100
            stop_server ;;
        snapshot-floor)
            # The same storm against the minimal C relay, its first message padded to the
            # preloaded server's snapshot size (79,788 bytes): what the machine and the client
            # allow any server.
            cc -O2 -o "$OUT/floor-relay" tools/bench/floor-relay.c -lcrypto -lsqlite3
            "$OUT/floor-relay" 0 --snapshot-bytes "${SNAPSHOT_BYTES:-79788}" > "$OUT/snapshot-floor.server.log" 2>&1 &
            SERVER_PID=$!
            for _ in $(seq 1 50); do
                PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$OUT/snapshot-floor.server.log" | grep -o '[0-9]*$' || true)
                [ -n "$PORT" ] && break
                sleep 0.1
            done
            bench snapshot-floor connect --url "ws://127.0.0.1:$PORT" --clients 100
            stop_server ;;
        ledger) offline ledger ledger ;;
        journal) offline journal journal --events 200000 --recovery-events 0 ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

trap stop_server EXIT
if [ $# -eq 0 ]; then
    set -- sub1 sub100 sub1000 sub100x10k ingest idle1k idle10k snapshot ledger journal
fi
for scenario in "$@"; do run "$scenario"; done
