#!/usr/bin/env bash
# What TLS costs the server, measured with `ladderwire-bench latency`, which speaks only ws://.
# A socat proxy in front of the *bench* terminates TLS for it:
#
#   direct-plain   bench ──ws──────────────────────────────▶ plain server
#   socat-plain    bench ──ws──▶ socat TCP ──TCP───────────▶ plain server
#   socat-tls      bench ──ws──▶ socat TCP ──OPENSSL (TLS)─▶ TLS server (--tls-cert/--tls-key)
#
# TLS overhead ≈ socat-tls − socat-plain (same proxy hop, one leg encrypted); direct-plain is the
# reference without any proxy. Every scenario gets a fresh server and a fresh database.
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-tls.sh [PASSES]        # from the repository root; default 1 pass
#
# Knobs: LADDERWIRE_BIN (directory holding both binaries, default .build/release), OUT (results
# directory, default var/bench-tls), SECONDS_RUN (length of each run, default 10), RATE (fills/s,
# default 1000), SUBSCRIBERS (space-separated counts, default "1 100"), MODES (default
# "direct-plain socat-plain socat-tls"). Everything listens on 127.0.0.1 only. Every process the
# script starts (servers, socat and the children socat forks per connection) is stopped by PID.
set -euo pipefail

BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-tls}
RUN_SECONDS=${SECONDS_RUN:-10}
RATE=${RATE:-1000}
SUBSCRIBER_COUNTS=${SUBSCRIBERS:-1 100}
MODES=${MODES:-direct-plain socat-plain socat-tls}
PASSES=${1:-1}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

CERT_DIR=$(mktemp -d)
SERVER_PID=""
SERVER_PORT=""
PROXY_PID=""
PROXY_PORT=""

# A throwaway self-signed certificate (the one-liner of docs/operations.md "A development certificate").
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$CERT_DIR/key.pem" -out "$CERT_DIR/cert.pem" 2> "$CERT_DIR/openssl.log"

# $1: run name, $2: plain|tls.
start_server() {
    local name=$1 transport=$2
    local db="$OUT/$name.db"
    rm -f "$db" "$db-wal" "$db-shm"
    # The load generator is one address (like a proxy): lift the per-address viewer budget.
    printf '{"shared": {"durability": "normal", "limits": {"viewerRequestsPerAddressBurst": 10000000, "viewerRequestsPerAddressPerSecond": 1000000}}}\n' > "$OUT/ladderwire-bench.json"
    local tls=()
    [ "$transport" = tls ] && tls=(--tls-cert "$CERT_DIR/cert.pem" --tls-key "$CERT_DIR/key.pem")
    "$BIN/ladderwire" serve --config "$OUT/ladderwire-bench.json" --host 127.0.0.1 --port 0 --sources none \
        --db "$db" "${tls[@]}" > "$OUT/$name.server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        SERVER_PORT=$(grep -o 'listening on https\?://127.0.0.1:[0-9]*' "$OUT/$name.server.log" | grep -o '[0-9]*$' || true)
        [ -n "$SERVER_PORT" ] && return 0
        sleep 0.1
    done
    echo "server did not start; see $OUT/$name.server.log" >&2
    exit 1
}

# A free local port for socat (the kernel picks one, we release it and hand it to socat).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# $1: run name, $2: plain|tls. socat forks one child per accepted connection.
start_proxy() {
    local name=$1 transport=$2
    PROXY_PORT=$(free_port)
    local upstream="TCP:127.0.0.1:$SERVER_PORT"
    # nodelay on both legs: the bench and the server both disable Nagle; a proxy that did not
    # would add delayed-ACK stalls that have nothing to do with TLS.
    [ "$transport" = tls ] && upstream="OPENSSL:127.0.0.1:$SERVER_PORT,cafile=$CERT_DIR/cert.pem,commonname=localhost,nodelay"
    [ "$transport" = plain ] && upstream="$upstream,nodelay"
    socat "TCP-LISTEN:$PROXY_PORT,fork,reuseaddr,bind=127.0.0.1,nodelay" "$upstream" 2> "$OUT/$name.socat.log" &
    PROXY_PID=$!
    # Ready when it accepts: the probe costs the server one connection (and, with TLS, one
    # handshake) before the bench starts, outside the bench's CPU window.
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "socat did not start; see $OUT/$name.socat.log" >&2
    exit 1
}

# utime+stime+cutime+cstime of a process in clock ticks: socat's parent reaps its children, so
# after they exit their CPU is in the parent's cutime/cstime.
cpu_ticks() {
    awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

stop_proxy() {
    [ -z "$PROXY_PID" ] && return 0
    local child
    for child in $(ps -o pid= --ppid "$PROXY_PID" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=""
}

stop_server() {
    [ -z "$SERVER_PID" ] && return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

cleanup() {
    stop_proxy
    stop_server
    rm -rf "$CERT_DIR"
}
trap cleanup EXIT

# $1: mode, $2: subscribers, $3: pass.
measure() {
    local mode=$1 subscribers=$2 pass=$3
    local name="$mode-sub$subscribers-p$pass" transport=plain
    [ "$mode" = socat-tls ] && transport=tls
    start_server "$name" "$transport"
    local port=$SERVER_PORT
    if [ "$mode" != direct-plain ]; then
        start_proxy "$name" "$transport"
        port=$PROXY_PORT
    fi
    echo "== $name: ladderwire-bench latency --url ws://127.0.0.1:$port --subscribers $subscribers --rate $RATE --seconds $RUN_SECONDS"
    "$BIN/ladderwire-bench" latency --url "ws://127.0.0.1:$port" --server-pid "$SERVER_PID" \
        --subscribers "$subscribers" --rate "$RATE" --seconds "$RUN_SECONDS" \
        --build release --durability normal | tee "$OUT/$name.txt"
    if [ -n "$PROXY_PID" ]; then
        # The bench has closed its sockets; let socat's children exit and be reaped.
        for _ in $(seq 1 30); do
            [ -z "$(ps -o pid= --ppid "$PROXY_PID" 2>/dev/null)" ] && break
            sleep 0.1
        done
        local ticks; ticks=$(cpu_ticks "$PROXY_PID")
        echo "proxy cpu (socat, all children): $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f s", t / hz }')" \
            | tee -a "$OUT/$name.txt"
    fi
    stop_proxy
    stop_server
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%FT%TZ)"
for pass in $(seq 1 "$PASSES"); do
    for subscribers in $SUBSCRIBER_COUNTS; do
        for mode in $MODES; do measure "$mode" "$subscribers" "$pass"; done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%FT%TZ)"

# One table row per run, from the text reports just written.
python3 - "$OUT" $MODES <<'TABLE'
import glob, os, re, sys
out, modes = sys.argv[1], sys.argv[2:]

def field(text, name):
    match = re.search(r"^" + re.escape(name) + r":?\s+(\S+)", text, re.MULTILINE)
    return match.group(1) if match else "–"

def order(path):
    name = os.path.basename(path)[:-4]
    mode, subscribers, run = re.fullmatch(r"(.*)-sub(\d+)-p(\d+)", name).groups()
    return (int(subscribers), modes.index(mode) if mode in modes else len(modes), int(run))

print("| run | load (1 min) | p50 µs | p99 µs | p99.9 µs | max µs | delivered / expected | lost | server CPU % of a core | server CPU µs per event | socat CPU s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(out, "*-sub*-p*.txt")), key=order):
    text = open(path).read()
    load = re.search(r"load average: (\S+)", text)
    proxy = re.search(r"^proxy cpu \(socat, all children\): (\S+) s", text, re.MULTILINE)
    print(f"| {os.path.basename(path)[:-4]} | {load.group(1) if load else '–'} "
          f"| {field(text, 'delivery_p50_us')} | {field(text, 'delivery_p99_us')} | {field(text, 'delivery_p999_us')} "
          f"| {field(text, 'delivery_max_us')} | {field(text, 'deliveries_received')} / {field(text, 'deliveries_expected')} "
          f"| {field(text, 'lost')} | {field(text, 'server_cpu_percent_of_one_core')} "
          f"| {field(text, 'server_cpu_us_per_answered_event')} | {proxy.group(1) if proxy else '–'} |")
TABLE
