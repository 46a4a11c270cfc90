#!/usr/bin/env bash
# The stream figures of docs/benchmarks.md: what the Redis hop adds, and one edge against a core
# alone. Every scenario gets a fresh release core (fresh database), a fresh private redis-server
# (loopback, temporary directory, AOF on with fsync everysec) and, where named, a fresh edge.
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-edge.sh [SCENARIO...]          # from the repository root; default: all
#
# Scenarios:
#   core100      100 subscribers on a core without --stream            (the baseline)
#   stream100    100 subscribers on a core with --stream (the publisher's cost on the core)
#   edge100      100 subscribers on an edge, the producer on the core  (the hop: core → Redis → edge)
#   core500 / edge500   the same with 500 subscribers (deliveries/s and CPU per delivery)
# Knobs: LADDERWIRE_BIN (default .build/release), OUT (default var/bench-edge), SECONDS_RUN (10), RATE (1000/s).
set -euo pipefail

BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-edge}
RUN=${SECONDS_RUN:-10}
RATE=${RATE:-1000/s}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)   # absolute: redis-server changes into its --dir before opening the log
ulimit -n "$(ulimit -Hn)"
PIDS=()

wait_port() {   # log file → port
    for _ in $(seq 1 150); do
        local port
        port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$' || true)
        if [ -n "$port" ]; then echo "$port"; return 0; fi
        sleep 0.1
    done
    echo "no 'listening on' in $1" >&2
    exit 1
}

start_redis() {
    REDIS_DIR=$(mktemp -d "$OUT/redis.XXXXXX")
    REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --appendonly yes --appendfsync everysec \
                 --save '' --daemonize no --logfile "$REDIS_DIR/redis.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "redis did not start" >&2; exit 1
}

# The load generator is one address (like a proxy): lift the per-address viewer budget.
printf '{"shared": {"durability": "normal", "limits": {"viewerRequestsPerAddressBurst": 10000000, "viewerRequestsPerAddressPerSecond": 1000000}}}\n' > "$OUT/bench.json"

start_core() {   # name [--stream URL]
    local name=$1; shift
    local db="$OUT/$name.db"
    rm -f "$db" "$db-wal" "$db-shm"
    "$BIN/ladderwire" serve --config "$OUT/bench.json" --port 0 --sources none --db "$db" "$@" > "$OUT/$name.core.log" 2>&1 &
    CORE_PID=$!
    PIDS+=($CORE_PID)
    CORE_PORT=$(wait_port "$OUT/$name.core.log")
}

start_edge() {   # name
    "$BIN/ladderwire" edge --config "$OUT/bench.json" --port 0 --stream "redis://127.0.0.1:$REDIS_PORT" --core "http://127.0.0.1:$CORE_PORT" \
        > "$OUT/$1.edge.log" 2>&1 &
    EDGE_PID=$!
    PIDS+=($EDGE_PID)
    EDGE_PORT=$(wait_port "$OUT/$1.edge.log")
    for _ in $(seq 1 100); do
        curl -s "http://127.0.0.1:$EDGE_PORT/healthz" | grep -q '"state":"following"' && return 0
        sleep 0.1
    done
    echo "edge did not start following" >&2; exit 1
}

stop_all() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap stop_all EXIT

bench() {   # name args...
    local name=$1; shift
    echo "== $name (load average: $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$OUT/$name.txt"
    "$BIN/ladderwire-bench" latency --rate "$RATE" --seconds "$RUN" --drain 30 --build release "$@" | tee -a "$OUT/$name.txt"
}

run() {
    case $1 in
        core100|core500)
            start_core "$1"
            bench "$1" --url "ws://127.0.0.1:$CORE_PORT" --subscribers "${1#core}" --server-pid "$CORE_PID" ;;
        stream100)
            start_redis; start_core "$1" --stream "redis://127.0.0.1:$REDIS_PORT"
            bench "$1" --url "ws://127.0.0.1:$CORE_PORT" --subscribers 100 --server-pid "$CORE_PID" ;;
        edge100|edge500)
            start_redis; start_core "$1" --stream "redis://127.0.0.1:$REDIS_PORT"; start_edge "$1"
            bench "$1" --url "ws://127.0.0.1:$CORE_PORT" --subscribe-url "ws://127.0.0.1:$EDGE_PORT" \
                  --subscribers "${1#edge}" --server-pid "$CORE_PID" --edge-pid "$EDGE_PID" ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
    stop_all
}

scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(core100 stream100 edge100 core500 edge500)
for scenario in "${scenarios[@]}"; do run "$scenario"; done
