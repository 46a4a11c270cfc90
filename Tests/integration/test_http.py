"""HTTP/1.1 over raw sockets: static files, caching, traversal, limits, health, metrics, the CLI."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess

import pytest

from conftest import OP_TEXT, RawHttp, RawWebSocket, copy_static, http_get_raw, parse_prometheus, run_cli

PROBE_FILES = {
    "probe.js": (b"console.log('probe');\n", {"text/javascript", "application/javascript"}),
    "probe.css": (b"body { color: #123; }\n", {"text/css"}),
    "probe.json": (b'{"probe": true}\n', {"application/json"}),
    "probe.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>\n', {"image/svg+xml"}),
    "probe.png": (bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                                "0000000d4944415478da63f8cfc0f01f0005000201e5273de60000000049454e44ae426082"),
                  {"image/png"}),
    "probe.txt": (b"plain text\n", {"text/plain"}),
    "probe.ico": (b"\0\0\1\0", {"image/x-icon", "image/vnd.microsoft.icon"}),
    "probe.woff2": (b"wOF2", {"font/woff2"}),
    "probe.unknownext": (b"\x00\x01", {"application/octet-stream"}),
    "sub dir/nested.txt": (b"nested\n", {"text/plain"}),
}
SECRET = b"TOP SECRET outside static"


@pytest.fixture
def site(server_factory, tmp_path):
    """A server on a private copy of static/ with known probe files and symlinks that escape it."""
    static = copy_static(tmp_path / "static")
    index = static / "index.html"
    if not index.exists():
        index.write_bytes(b"<!doctype html><title>Ladderwire</title><p>ladder</p>\n")
    for name, (content, _) in PROBE_FILES.items():
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes(content)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    (static / "secret-link.txt").symlink_to(secret)
    (static / "etc-link").symlink_to("/etc")
    (static / "passwd-link").symlink_to("/etc/passwd")
    (static / "parent-link").symlink_to("..")
    server = server_factory(echo=True, static=static)
    server.static_dir = static
    return server


def get(server, path, extra="", method="GET"):
    return http_get_raw(server.host, server.port, path, extra, method)


def media_type(response) -> str:
    return (response.header("content-type") or "").split(";")[0].strip().lower()


# -- static files -----------------------------------------------------------------------------

def test_root_serves_index_html_with_caching_headers(site):
    response = get(site, "/")
    assert response.status == 200
    assert response.body == (site.static_dir / "index.html").read_bytes()
    assert media_type(response) == "text/html"
    assert int(response.header("content-length")) == len(response.body)
    assert response.header("etag"), "no ETag"
    assert response.header("cache-control"), "no Cache-Control"


@pytest.mark.parametrize("name", PROBE_FILES.keys())
def test_static_file_types(site, name):
    content, types = PROBE_FILES[name]
    response = get(site, "/" + name.replace(" ", "%20"))
    assert response.status == 200
    assert response.body == content
    assert media_type(response) in types, response.header("content-type")
    assert int(response.header("content-length")) == len(content)


def test_if_none_match_gets_304_without_body(site):
    first = get(site, "/probe.css")
    etag = first.header("etag")
    assert etag
    with RawHttp(site.host, site.port) as conn:
        conn.send(f"GET /probe.css HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: {etag}\r\n\r\n".encode())
        response = conn.read_response()
        assert response.status == 304
        assert response.header("etag") == etag
        # No body may follow a 304: the next response on the connection must parse cleanly.
        again = conn.request(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert (again.status, again.body) == (200, b"plain text\n")


def test_if_none_match_with_a_list_and_a_stale_tag(site):
    etag = get(site, "/probe.css").header("etag")
    assert get(site, "/probe.css", f'If-None-Match: "stale", {etag}\r\n').status == 304
    assert get(site, "/probe.css", 'If-None-Match: "stale"\r\n').status == 200


def test_etag_changes_when_the_file_changes(site):
    before = get(site, "/probe.txt").header("etag")
    (site.static_dir / "probe.txt").write_bytes(b"plain text, edited and longer\n")
    after = get(site, "/probe.txt")
    assert after.body == b"plain text, edited and longer\n"
    assert after.header("etag") != before


def test_head_has_get_headers_and_no_body(site):
    full = get(site, "/probe.js")
    with RawHttp(site.host, site.port) as conn:
        conn.send(b"HEAD /probe.js HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head = conn.read_response(head_request=True)
        assert head.status == 200
        assert head.header("content-length") == full.header("content-length")
        assert head.header("content-type") == full.header("content-type")
        assert head.header("etag") == full.header("etag")
        # A body after HEAD would be read as the start of this response and break it.
        after = conn.request(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert (after.status, after.body) == (200, b"plain text\n")


TRAVERSALS = [
    "/../etc/passwd",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/..%2fetc",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/%2f..",
    "/%2f../%2f../etc/passwd",
    "//etc/passwd",
    "/static/%00",
    "/index.html%00.js",
    "/%00",
    "/..\\..\\etc\\passwd",
    "/..%5c..%5cetc%5cpasswd",
    "/./../etc/passwd",
    "/sub%20dir/../../etc/passwd",
    "/%c0%ae%c0%ae/etc/passwd",
    "/%252e%252e/etc/passwd",
    "/secret-link.txt",
    "/passwd-link",
    "/etc-link/passwd",
    "/parent-link/secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_404(site, path):
    response = get(site, path)
    assert response.status == 404, f"{path} answered {response.status}"
    assert b"root:" not in response.body and SECRET not in response.body


def test_dot_segments_that_stay_inside_static_are_not_served_outside(site):
    response = get(site, "/sub%20dir/../probe.txt")
    # Either normalised to /probe.txt or refused; never anything but the probe.
    assert response.status in (200, 400, 404)
    if response.status == 200:
        assert response.body == b"plain text\n"


def test_directory_without_index_is_404(site):
    assert get(site, "/sub%20dir/").status == 404
    assert get(site, "/sub%20dir").status in (301, 404)


def test_unknown_path_is_404(site):
    assert get(site, "/no-such-file.html").status == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "POST"])
def test_other_methods_are_405_with_allow(site, method):
    response = get(site, "/probe.txt", "Content-Length: 0\r\n", method=method)
    assert response.status == 405, response
    allow = {m.strip() for m in (response.header("allow") or "").split(",")}
    assert {"GET", "HEAD"} <= allow, response.header("allow")
    assert method not in allow


# -- connection handling and limits ------------------------------------------------------------

def test_keep_alive_serves_two_requests_on_one_connection(site):
    with RawHttp(site.host, site.port) as conn:
        first = conn.request(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        second = conn.request(b"GET /probe.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert (first.status, first.body) == (200, b"plain text\n")
    assert (second.status, second.body) == (200, b'{"probe": true}\n')


def test_pipelined_requests_are_answered_in_order(site):
    with RawHttp(site.host, site.port) as conn:
        conn.send(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\n\r\nGET /probe.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first, second = conn.read_response(), conn.read_response()
    assert first.body == b"plain text\n"
    assert second.body == b"body { color: #123; }\n"


def test_connection_close_is_honoured(site):
    with RawHttp(site.host, site.port) as conn:
        response = conn.request(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert response.status == 200
        assert conn.closed_by_peer(), "server kept the connection after Connection: close"


def test_http_1_0_request_is_served_and_closed(site):
    with RawHttp(site.host, site.port) as conn:
        response = conn.request(b"GET /probe.txt HTTP/1.0\r\n\r\n")
        assert (response.status, response.body) == (200, b"plain text\n")
        assert conn.closed_by_peer(), "HTTP/1.0 without keep-alive must be closed after the response"


def test_request_line_over_8k_is_414(site):
    response = get(site, "/" + "a" * 9000)
    assert response.status == 414


def test_more_than_100_headers_is_431(site):
    extra = "".join(f"X-Header-{i}: {i}\r\n" for i in range(101))
    assert get(site, "/probe.txt", extra).status == 431


def test_100_headers_are_fine(site):
    # Host + Connection + 98 = 100 header lines.
    extra = "".join(f"X-Header-{i}: {i}\r\n" for i in range(98))
    assert get(site, "/probe.txt", extra).status == 200


def test_header_block_over_64k_is_431(site):
    assert get(site, "/probe.txt", "X-Big: " + "b" * 70000 + "\r\n").status == 431


def test_request_head_dripped_byte_by_byte_is_parsed(site):
    raw = b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    with RawHttp(site.host, site.port) as conn:
        for i in range(len(raw)):
            conn.send(raw[i:i + 1])
        response = conn.read_response()
    assert (response.status, response.body) == (200, b"plain text\n")


def test_body_on_get_is_413(site):
    with RawHttp(site.host, site.port) as conn:
        response = conn.request(b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789")
    assert response.status == 413


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET /probe.txt\r\n\r\n",
    b"GET /probe.txt HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"GET /probe.txt HTTP/1.1\r\n\r\n",                    # HTTP/1.1 without Host
    b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\n Folded: no\r\n\r\n",
    b"GET /probe.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
], ids=["garbage", "no_version", "no_colon", "no_host", "obs_fold", "double_length"])
def test_malformed_requests_are_400(site, raw):
    with RawHttp(site.host, site.port) as conn:
        response = conn.request(raw)
    assert response.status == 400


def test_server_survives_a_client_that_disconnects_mid_request(site):
    sock = socket.create_connection((site.host, site.port))
    sock.sendall(b"GET /probe.txt HTTP/1.1\r\nHo")
    sock.close()
    assert get(site, "/probe.txt").status == 200


# -- health and metrics ------------------------------------------------------------------------

def test_healthz_reports_version_uptime_connections(site):
    response = get(site, "/healthz")
    assert response.status == 200
    assert media_type(response) == "application/json"
    body = json.loads(response.body)
    assert isinstance(body["version"], str) and body["version"]
    uptime = [key for key in body if key.startswith("uptime")]   # "uptime" or "uptimeSeconds"
    assert uptime and isinstance(body[uptime[0]], (int, float)), f"no uptime in {sorted(body)}"
    assert isinstance(body["connections"], int)
    assert any("monitor" in key for key in body), f"no monitor states in {sorted(body)}"


def test_healthz_counts_open_websockets(site):
    with RawWebSocket.connect(site.host, site.port, "/echo") as ws:
        ws.send_text("hold")
        assert ws.recv_message() == (OP_TEXT, b"hold")
        status, body = site.get_json("/healthz")
        assert status == 200
        assert body["connections"] >= 1


def test_metrics_is_prometheus_text(site):
    response = get(site, "/metrics")
    assert response.status == 200
    assert media_type(response) == "text/plain"
    text = response.body.decode()
    samples = parse_prometheus(text)
    assert samples, "no samples"
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            assert re.match(r"^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$", line), line


def test_get_json_and_post_fills_helpers_reach_the_api(site):
    # The harness helpers other suites use: a 2xx/4xx JSON answer, never a transport error.
    status, body = site.get_json("/api/snapshot")
    assert status == 200 and body["type"] == "snapshot"
    status, body = site.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}])
    assert 200 <= status < 500, body


# -- command line ------------------------------------------------------------------------------

def test_version_flag(tmp_path):
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d+\.\d+", result.stdout), result.stdout


def test_help_flag(tmp_path):
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "--port" in result.stdout


@pytest.mark.parametrize("args", [
    ["serve", "--no-such-flag"],
    ["serve", "--port", "not-a-port"],
    ["serve", "--port", "70000"],
    ["serve", "--env", "production"],
    ["serve", "--sources"],
    ["serve", "--sources", "no-such-monitor"],
    ["frobnicate"],
], ids=["unknown_flag", "port_text", "port_range", "env", "missing_value", "unknown_source", "unknown_command"])
def test_bad_cli_input_exits_non_zero_with_one_line(tmp_path, args):
    if args[0] == "serve":
        # --db first, so a bad input that is accepted by mistake cannot touch the repo's var/.
        args = ["serve", "--db", str(tmp_path / "t.db"), *args[1:]]
    try:
        result = run_cli(*args, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`ladderwire {' '.join(args)}` kept running instead of rejecting its input")
    assert result.returncode != 0
    message = result.stderr.strip()
    assert message, "no message on stderr"
    assert "\n" not in message, f"stderr is more than one line:\n{result.stderr}"


def test_busy_port_exits_non_zero_with_a_clear_message(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        result = run_cli("serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(tmp_path / "t.db"),
                         "--sources", "none", timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("ladderwire started on a port that is already taken")
    finally:
        blocker.close()
    assert result.returncode != 0
    message = result.stderr.strip().lower()
    assert str(port) in message or "in use" in message, result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_right_after_listening_stops_the_server(server_factory, sig):
    # Scripts stop the server as soon as they have used it: a signal that arrives just after the
    # "listening on" line must not be lost. Several tries, since a lost signal is a race.
    for attempt in range(3):
        server = server_factory(echo=True)
        status = server.stop(sig, timeout=5)
        assert status == 0, (f"try {attempt}: exit status {status} after {sig.name} "
                             f"(None or -9 = still running after 5 s and killed)")


def test_restart_keeps_the_database(server_factory):
    # The harness's restart (used by the journal's crash tests): same database, same epoch.
    server = server_factory(echo=True)
    status, before = server.get_json("/healthz")
    assert status == 200
    server.kill()
    server.start()
    status, after = server.get_json("/healthz")
    assert status == 200
    assert after["epoch"] == before["epoch"], "a restart on the same --db must keep its epoch"


def test_a_page_from_another_site_cannot_use_the_browsers_loopback_access(server):
    """Cross-site WebSocket hijacking and cross-site POSTs are refused (403); same origin works."""
    import urllib.request, urllib.error, json as _json
    evil = "https://evil.example"
    with RawHttp(server.host, server.port) as conn:
        response = conn.request(
            f"GET /ws HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {evil}\r\n\r\n".encode())
    assert response.status == 403
    request = urllib.request.Request(f"{server.url}/api/fills", method="POST", headers={"Origin": evil, "Content-Type": "text/plain"},
                                     data=_json.dumps([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}]).encode())
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("a cross-site POST was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    same = urllib.request.Request(f"{server.url}/api/fills", method="POST",
                                  headers={"Origin": f"http://{server.host}:{server.port}", "Content-Type": "application/json"},
                                  data=_json.dumps([{"type": "mark", "instrument": "ZNZ6", "price": "110-16"}]).encode())
    assert urllib.request.urlopen(same, timeout=5).status == 200
