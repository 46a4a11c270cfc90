"""/metrics fits Prometheus conventions (issue 18): every name has the `ladderwire_` prefix,
counters end in `_total`, units are in the names, and commit time, ack latency and fan-out time
are histograms that move when events flow. `promtool check metrics` (Debian `prometheus`, which
tools/test installs) has the last word; the docs' Grafana dashboard reads only names that exist."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RawWebSocket
from test_push_support import recv_json, ws_connect

HISTOGRAMS = ["ladderwire_commit_seconds", "ladderwire_ack_latency_seconds", "ladderwire_fanout_seconds",
              "ladderwire_event_to_push_seconds"]
FILLS = [{"type": "fill", "execId": f"M{n}", "account": "ACC1", "instrument": "ZNZ6", "side": "buy", "qty": 1,
          "price": "110-08"} for n in range(5)]


def metrics_text(server) -> str:
    status, _, body = server.request("GET", "/metrics")
    assert status == 200
    return body.decode()


def families(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M)}


def test_names_follow_the_prometheus_conventions(server):
    found = families(metrics_text(server))
    assert found
    for name, kind in found.items():
        assert name.startswith("ladderwire_"), name
        if kind == "counter":
            assert name.endswith("_total"), f"counter {name} must end in _total"
        else:
            assert not name.endswith("_total"), f"{kind} {name} must not end in _total"
        if kind == "histogram":
            assert name.endswith("_seconds") or name.endswith("_bytes"), f"histogram {name} needs its unit"
        if "bytes" in name:
            assert re.search(r"_bytes(_total)?$", name), f"{name}: the unit goes last"
    for name in HISTOGRAMS:
        assert found.get(name) == "histogram", name


def test_the_latency_histograms_count_what_flowed(server):
    with ws_connect(server, "/ws") as subscriber:
        assert recv_json(subscriber)["type"] == "snapshot"
        status, body = server.post_fills(FILLS)
        assert status == 200, body
        with RawWebSocket.connect(server.host, server.port, "/feed") as producer:
            producer.send_text(json.dumps({**FILLS[0], "execId": "M-feed"}))
            assert json.loads(producer.recv_message()[1])["type"] == "ack"
        samples = server.metrics()
    assert samples["ladderwire_ack_latency_seconds_count"] == len(FILLS) + 1, "one per message, /api/fills and /feed"
    assert samples["ladderwire_commit_seconds_count"] >= 2
    assert samples["ladderwire_fanout_seconds_count"] >= 2
    assert samples["ladderwire_committed_events_total"] == len(FILLS) + 1
    for name in HISTOGRAMS:
        assert samples[f'{name}_bucket{{le="+Inf"}}'] == samples[f"{name}_count"]


def test_promtool_check_metrics_finds_no_problem(server):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (tools/test installs the Debian prometheus package when run as root)")
    server.post_fills(FILLS)
    text = metrics_text(server)
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", check.stdout + check.stderr


def test_the_grafana_dashboard_reads_only_metrics_that_exist(server):
    dashboard = json.loads((REPO_ROOT / "docs" / "grafana-dashboard.json").read_text())
    exported = set(families(metrics_text(server)))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert len(exprs) >= 6
    used = set()
    for expr in exprs:
        for name in re.findall(r"\bladderwire_[a-z_]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert base in exported, f"the dashboard reads {name}, which /metrics does not export"
            used.add(base)
    for name in ["ladderwire_commit_seconds", "ladderwire_ack_latency_seconds", "ladderwire_fanout_seconds"]:
        assert name in used, f"the dashboard has no panel for {name}"
