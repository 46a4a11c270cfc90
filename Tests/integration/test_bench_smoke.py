"""A bench smoke (issue 18): `ladderwire-bench latency` for about two seconds against the real
server, at a fixed rate and at the recorded pace of the sample day. Correctness only: every fill
delivered once, in order, every message acknowledged. No timing is asserted (the figures belong
in docs/benchmarks.md, measured on a quiet machine)."""
import json
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import BIN_DIR, REPO_ROOT

BENCH = BIN_DIR / "ladderwire-bench"
SVG = "{http://www.w3.org/2000/svg}"


def run_bench(server, *args: str, cwd) -> dict:
    if not BENCH.exists():
        pytest.fail(f"{BENCH} not found: build it (swift build builds every product)", pytrace=False)
    done = subprocess.run([str(BENCH), "latency", "--url", server.ws_url, "--json", *args], capture_output=True,
                          text=True, timeout=120, cwd=str(cwd))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_correct(report: dict) -> None:
    assert report["events_sent"] > 0
    assert report["lost"] == 0, report
    assert report["duplicates"] == 0, report
    assert report["out_of_order"] == 0, report
    assert report["deliveries_received"] == report["deliveries_expected"] > 0
    assert report["replies_ack_dup_error"] == f"{report['events_sent']} 0 0"
    assert report["subscribers_closed_by_server"] == 0


def test_bench_smoke_at_a_fixed_rate(server_factory, tmp_path):
    report = run_bench(server_factory(), "--rate", "400/s", "--seconds", "2", "--subscribers", "2", cwd=tmp_path)
    assert_correct(report)
    assert report["events_sent"] == 800


def test_bench_smoke_at_the_recorded_pace_with_its_plot(server_factory, tmp_path):
    svg = tmp_path / "latency.svg"
    report = run_bench(server_factory(), "--feed", str(REPO_ROOT / "tools" / "feeds" / "sample-day.ndjson"),
                       "--pace", "recorded", "--speed", "100", "--seconds", "2", "--svg", str(svg), cwd=tmp_path)
    assert_correct(report)
    assert report["pace"].startswith("recorded × 100")
    seconds = report["by_second"]
    assert [s["second"] for s in seconds] == sorted(s["second"] for s in seconds)
    assert sum(s["deliveries"] for s in seconds) == report["deliveries_received"]
    root = ElementTree.parse(svg).getroot()
    assert root.tag == SVG + "svg"
    assert len(root.findall(f"{SVG}polyline")) == 2, "p50 and p99 lines"


def test_recorded_pace_follows_the_recording(tmp_path, server_factory):
    """Three fills recorded 0 s, 0.5 s and 2 s apart at speed 2 are due at 0, 0.25 and 1 s:
    the per-second view puts two in second 0 and one in second 1 (when they were due, whatever
    the server's speed)."""
    feed = tmp_path / "three.ndjson"
    lines = [{"at": at, "type": "fill", "execId": f"T{n}", "account": "ACC1", "instrument": "ZNZ6", "side": "buy",
              "qty": 1, "price": "110-08"}
             for n, at in enumerate(["2026-11-24T13:30:00.000Z", "2026-11-24T13:30:00.500Z", "2026-11-24T13:30:02.000Z"])]
    feed.write_text("\n".join(json.dumps(line, separators=(",", ":")) for line in lines) + "\n")
    report = run_bench(server_factory(), "--feed", str(feed), "--pace", "recorded", "--speed", "2", cwd=tmp_path)
    assert_correct(report)
    assert report["events_sent"] == 3
    assert [(s["second"], s["deliveries"]) for s in report["by_second"]] == [(0, 2), (1, 1)]
    assert report["seconds"] == 1.0


def test_bench_refuses_mixed_pacing(tmp_path, server_factory):
    server = server_factory()
    for args, text in [(["--pace", "recorded", "--rate", "10"], "exclude each other"),
                       (["--speed", "2"], "--speed goes with --pace recorded"),
                       (["--pace", "fast"], "--pace takes rate or recorded")]:
        done = subprocess.run([str(BENCH), "latency", "--url", server.ws_url, *args], capture_output=True, text=True,
                              timeout=30, cwd=str(tmp_path))
        assert done.returncode == 2 and text in done.stderr, done.stderr
