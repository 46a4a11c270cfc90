#!/usr/bin/env bash
# Ladderwire beside its floor, in one run: the same `ladderwire-bench latency` scenario against
# the minimal C relay (tools/bench/floor-relay.c: relays producer frames to subscribers and acks,
# nothing else) and against a fresh release server, alternating, then one table with the ratios
# the hot-path bars are stated in (on this shared, noisy machine only a ratio within one run holds).
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-floor.sh [SCENARIO...]      # sub1 sub1x10k sub100 sub1000; default: sub1 sub100
#
# Knobs: LADDERWIRE_BIN (default .build/release), OUT (default var/bench-floor), SECONDS_SHORT
# (default 15), ROUNDS (floor/server pairs per scenario, default 2), DURABILITY (normal|full),
# JOURNALED=1 (also run the relay with `--journal`: one SQLite commit per message before it is
# relayed, the floor of any server that persists each fill first), KINDS (which to run, in order,
# of floor journaled server; e.g. KINDS="floor journaled" for the relays alone), JOURNAL_EXCLUSIVE=1
# (the journaled relay with SQLite's exclusive locking: no WAL index, no locks per commit).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-floor}
SHORT=${SECONDS_SHORT:-15}
ROUNDS=${ROUNDS:-2}
DURABILITY=${DURABILITY:-normal}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
JOURNALED=${JOURNALED:-0}
cc -O2 -o "$OUT/floor-relay" tools/bench/floor-relay.c -lcrypto -lsqlite3
# KINDS="floor journaled" measures the two relays alone (what persisting costs, no server).
DEFAULT_KINDS="floor server"; [ "$JOURNALED" = 1 ] && DEFAULT_KINDS="floor journaled server"
KINDS=${KINDS:-$DEFAULT_KINDS}
PID=""; PORT=""

start() {   # start floor|server NAME
    local what=$1 log="$OUT/$2.$1.log"
    : > "$log"
    if [ "$what" = floor ]; then
        "$OUT/floor-relay" 0 > "$log" 2>&1 &
    elif [ "$what" = journaled ]; then
        local db="$OUT/$2.floor.db"; rm -f "$db" "$db-wal" "$db-shm"
        # shellcheck disable=SC2086
        "$OUT/floor-relay" 0 --journal "$db" ${JOURNAL_EXCLUSIVE:+--exclusive} > "$log" 2>&1 &
    else
        local db="$OUT/$2.db"; rm -f "$db" "$db-wal" "$db-shm"
        # The load generator is one address (like a proxy): lift the per-address viewer budget.
        printf '{"shared": {"durability": "%s", "limits": {"viewerRequestsPerAddressBurst": 10000000, "viewerRequestsPerAddressPerSecond": 1000000}}}\n' "$DURABILITY" > "$OUT/config.json"
        "$BIN/ladderwire" serve --config "$OUT/config.json" --port 0 --sources none --db "$db" > "$log" 2>&1 &
    fi
    PID=$!
    for _ in $(seq 1 100); do
        PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "$what did not start; see $log" >&2; exit 1
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
trap stop EXIT

scenario_args() {
    case $1 in
        sub1) echo "--subscribers 1 --rate 1000 --seconds $SHORT" ;;
        sub1x10k) echo "--subscribers 1 --rate 10000 --seconds $SHORT --drain 30" ;;
        sub100) echo "--subscribers 100 --rate 1000 --seconds $SHORT" ;;
        sub1000) echo "--subscribers 1000 --rate 1000 --seconds $SHORT --drain 30" ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

[ $# -eq 0 ] && set -- sub1 sub100
for scenario in "$@"; do
    args=$(scenario_args "$scenario")
    for round in $(seq 1 "$ROUNDS"); do
        for what in $KINDS; do
            name="$scenario-$round"
            start "$what" "$name"
            echo "== $name $what: ladderwire-bench latency $args (load $(cut -d' ' -f1 /proc/loadavg))"
            # shellcheck disable=SC2086
            "$BIN/ladderwire-bench" latency --url "ws://127.0.0.1:$PORT" --server-pid "$PID" $args --json \
                --build release --durability "$DURABILITY" > "$OUT/$name.$what.json"
            stop
        done
    done
done

python3 - "$OUT" "$ROUNDS" "$KINDS" "$@" <<'PY'
import json, sys, pathlib
out, rounds, kinds, scenarios = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
print(f"\n{'scenario':<12} {'run':<9} {'p50 µs':>9} {'p99 µs':>10} {'p99.9 µs':>10} {'lost':>6} {'CPU µs/event':>13}")
for scenario in scenarios:
    for name in (f"{scenario}-{round}" for round in range(1, rounds + 1)):
        rows = {}
        for what in ("floor", "journaled", "server"):
            if what not in kinds: continue
            r = json.loads((out / f"{name}.{what}.json").read_text())
            rows[what] = r
            print(f"{name:<12} {what:<9} {r['delivery_p50_us']:>9} {r['delivery_p99_us']:>10} {r['delivery_p999_us']:>10} "
                  f"{r['lost']:>6} {r.get('server_cpu_us_per_answered_event', '-'):>13}")
        f, s = rows["floor"], rows.get("server")
        if "journaled" in rows:
            j = rows["journaled"]
            print(f"{'':<12} {'journaled':<9} p50 +{j['delivery_p50_us'] - f['delivery_p50_us']:.0f} µs, "
                  f"p99 ×{j['delivery_p99_us'] / max(f['delivery_p99_us'], 1):.2f} over the plain relay")
        if s is None: continue
        print(f"{'':<12} {'ratio':<9} p50 +{s['delivery_p50_us'] - f['delivery_p50_us']:.0f} µs, "
              f"p99 ×{s['delivery_p99_us'] / max(f['delivery_p99_us'], 1):.2f}, "
              f"CPU ×{s.get('server_cpu_us_per_answered_event', 0) / max(f.get('server_cpu_us_per_answered_event', 1), 1):.1f}")
PY
