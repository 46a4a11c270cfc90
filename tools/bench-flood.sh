#!/usr/bin/env bash
# A viewer flooding `/ws` against a producer's acks (issue 16), with a control: the same flooder
# aimed at a second server, so what the flood costs *through Ladderwire* can be told from what
# another busy process costs on the same (2-core) machine. Each run: idle, flood, idle again.
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-flood.sh [PINNED=1] [CHECKPOINTS=off]
#
# PINNED=1: the server and the bench on CPU 0, the flooder (and the control server) on CPU 1.
# CHECKPOINTS=off: no ledger checkpoints during the runs (their cost grows with the journal and
# drifts the idle tail between runs; see issue 13). Needs the test venv (var/venv, tools/test).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-flood}
mkdir -p "$OUT"
CONFIG="$OUT/config.json"
if [ "${CHECKPOINTS:-on}" = off ]; then echo '{"shared": {"checkpointEvery": 100000000}}' > "$CONFIG"; else echo '{}' > "$CONFIG"; fi
SERVER_CPU=""; FLOOD_CPU=""
if [ "${PINNED:-0}" = 1 ]; then SERVER_CPU="taskset -c 0"; FLOOD_CPU="taskset -c 1"; fi

start() {   # start NAME PIN -> prints "PID PORT"
    local log="$OUT/$1.log" db="$OUT/$1.db"
    rm -f "$db" "$db-wal" "$db-shm"
    $2 "$BIN/ladderwire" serve --config "$CONFIG" --port 0 --sources none --db "$db" > "$log" 2>&1 &
    local pid=$! port=""
    for _ in $(seq 1 100); do
        port=$(grep -ao 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
    echo "$pid $port"
}

acks() {   # acks LABEL PID PORT
    printf '%-28s' "$1"
    $SERVER_CPU "$BIN/ladderwire-bench" ingest --url "ws://127.0.0.1:$3" --seconds 10 --pipeline 1 --server-pid "$2" 2>&1 \
        | grep -E "acked_fills_per_s|ack_p50_us|ack_p99_us|server_cpu_us_per_fill" | awk '{printf "%s %s   ", $1, $2} END {print ""}'
}

for target in self other; do
    read -r PID PORT < <(start measured "$SERVER_CPU")
    read -r OTHER_PID OTHER_PORT < <(start control "$FLOOD_CPU")
    FLOOD_PORT=$PORT; [ "$target" = other ] && FLOOD_PORT=$OTHER_PORT
    echo "== flooder aimed at: $target (load $(cut -d' ' -f1 /proc/loadavg))"
    acks "idle" "$PID" "$PORT"
    $FLOOD_CPU var/venv/bin/python tools/command-flood.py --url "ws://127.0.0.1:$FLOOD_PORT" --seconds 13 --reconnect > "$OUT/flooder.log" 2>&1 &
    FLOODER=$!
    sleep 1.5
    acks "flood ($target)" "$PID" "$PORT"
    wait "$FLOODER" || true
    cat "$OUT/flooder.log"
    acks "idle again" "$PID" "$PORT"
    kill "$PID" "$OTHER_PID"; wait "$PID" "$OTHER_PID" 2>/dev/null || true
done
