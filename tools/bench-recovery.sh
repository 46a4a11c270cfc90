#!/usr/bin/env bash
# Issue 13's recovery figure: SIGKILL a server whose journal holds FILLS fills, start it again,
# and time, end to end, the kill → the "listening on" line, and → the first snapshot over /ws.
#
#   nice swift build -c release --product ladderwire && nice swift build -c release --product ladderwire-bench
#   tools/bench-recovery.sh [FILLS]           # from the repository root; default 1000000
#
# The populated journal is cached as var/bench-recovery/FILLS.db (populate takes minutes at 1M
# fills); each run works on a copy of it, so every run recovers the same content. Knobs:
# LADDERWIRE_BIN (directory of both release binaries, default .build/release), OUT (default
# var/bench-recovery), RUNS (kill/restart rounds, default 3), REPOPULATE=1 (rebuild the cache),
# TAIL (fills posted before each kill, default 9000: just under the default checkpointEvery of
# 10,000, so the restart also replays almost a checkpoint interval of events, the worst case).
set -euo pipefail

FILLS=${1:-1000000}
BIN=${LADDERWIRE_BIN:-.build/release}
OUT=${OUT:-var/bench-recovery}
RUNS=${RUNS:-3}
TAIL=${TAIL:-9000}
mkdir -p "$OUT"
CACHED="$OUT/$FILLS.db"
DB="$OUT/run.db"
CONFIG="$OUT/ladderwire-recovery.json"
printf '{"shared": {"durability": "normal"}}\n' > "$CONFIG"

if [ ! -f "$CACHED" ] || [ "${REPOPULATE:-0}" = 1 ]; then
    rm -f "$CACHED" "$CACHED-wal" "$CACHED-shm"
    echo "== populate: $BIN/ladderwire-bench populate --db $CACHED --fills $FILLS"
    "$BIN/ladderwire-bench" populate --db "$CACHED" --fills "$FILLS"
fi
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$CACHED" "$DB"
[ -f "$CACHED-wal" ] && cp "$CACHED-wal" "$DB-wal"

echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "journal: $FILLS fills populated, $(du -h "$DB" | cut -f1) database file"

# The timing is done in Python: it starts the server with its stdout on a pipe, so the moment the
# "listening on" line is written is seen without polling a log file.
python3 - "$BIN" "$DB" "$CONFIG" "$RUNS" "$OUT" "$TAIL" <<'EOF'
import json, os, re, signal, subprocess, sys, threading, time, urllib.request

binary, db, config, runs, out, tail = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
command = [f"{binary}/ladderwire", "serve", "--config", config, "--port", "0", "--sources", "none", "--db", db]

def start():
    """Starts the server; returns (process, port, seconds from the call to 'listening on', log lines)."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            # Keep reading: a full pipe would block the server's next log line.
            threading.Thread(target=lambda: [lines.append(rest.rstrip("\n")) for rest in process.stdout], daemon=True).start()
            return process, int(found.group(1)), time.monotonic() - started, lines
    sys.exit("server exited before listening:\n" + "\n".join(lines))

def post_fills(port, round_number):
    """Posts `tail` fills (at least 5) in requests of 500: what the restart has to replay."""
    fills = [{"type": "fill", "execId": f"RECOVERY-{round_number}-{i}", "account": "ACC1", "instrument": "ZNZ6",
              "side": "buy" if i % 2 else "sell", "qty": 1, "price": "110-00"} for i in range(max(5, tail))]
    for start in range(0, len(fills), 500):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/fills", data=json.dumps(fills[start:start + 500]).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request) as response:
            assert response.status == 200, response.status

def first_snapshot_seconds(port):
    result = subprocess.run([f"{binary}/ladderwire-bench", "connect", "--url", f"ws://127.0.0.1:{port}",
                             "--clients", "1", "--json"], capture_output=True, text=True, check=True)
    return result.stdout

process, port, _, _ = start()
for round_number in range(1, runs + 1):
    post_fills(port, round_number)
    killed = time.monotonic()
    process.send_signal(signal.SIGKILL)
    process.wait()
    process, port, _, lines = start()
    listening = time.monotonic() - killed
    connect_report = first_snapshot_seconds(port)
    snapshot = time.monotonic() - killed
    recovered = next((line for line in lines if "recovered" in line), "(no recovery line)")
    print(f"run {round_number}: SIGKILL → 'listening on' {listening:.3f} s, → first /ws snapshot {snapshot:.3f} s")
    print(f"  server: {recovered.strip()}")
    for line in lines:
        if line.startswith("recovery"):
            print(f"  server: {line.strip()}")
    try:
        report = json.loads(connect_report)
        first = {k: v for k, v in report.items() if "first" in k or "snapshot" in k}
        print(f"  connect: {json.dumps(first)}")
    except ValueError:
        print("  connect: " + connect_report.strip().replace("\n", " | "))
process.send_signal(signal.SIGTERM)
process.wait()
EOF
