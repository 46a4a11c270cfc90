"""`rediss://`: the core and the edges reach Redis over TLS (the reactor's OpenSSL transport in
client mode), with the server's certificate verified against `?ca=`."""

from __future__ import annotations

from stream_support import comparable, edge_factory, health, redis_factory, wait_edge_at, wait_until  # noqa: F401
from test_tls import make_certificate


def fill(n: int) -> dict:
    return {"type": "fill", "execId": f"T{n}", "account": "ACC1", "instrument": "ZNZ6",
            "side": "buy" if n % 2 else "sell", "qty": 1 + n % 3, "price": "110-08"}


def test_core_and_edge_speak_tls_to_redis(server_factory, redis_factory, edge_factory, tmp_path):
    cert, key = make_certificate(tmp_path / "certs", "redis")
    redis = redis_factory(tls=(cert, key))
    core = server_factory(extra_args=["--stream", redis.url])
    status, body = core.post_fills([fill(n) for n in range(1, 11)])
    assert status == 200
    wait_until(lambda: health(core)["stream"]["publishedSeq"] == 10, what="publishing over TLS")
    assert [seq for seq, _ in redis.entries()] == list(range(1, 11))
    edge = edge_factory(redis.url, core.url)
    status, body = core.post_fills([fill(n) for n in range(11, 16)])
    wait_edge_at(edge, 15)
    status, snapshot = edge.get_json("/api/snapshot")
    assert comparable(snapshot) == comparable(core.get_json("/api/snapshot")[1])


def test_an_untrusted_redis_certificate_is_refused(server_factory, redis_factory, tmp_path):
    cert, key = make_certificate(tmp_path / "certs", "redis")
    other, _ = make_certificate(tmp_path / "certs", "other")
    redis = redis_factory(tls=(cert, key))
    core = server_factory(extra_args=["--stream", f"rediss://127.0.0.1:{redis.port}?ca={other}"])
    status, body = core.post_fills([fill(1)])
    assert status == 200, "the core commits and acknowledges all the same"
    down = wait_until(lambda: (h := health(core))["stream"]["state"] == "down" and h, what="the refusal")
    assert "TLS" in down["stream"]["error"] and down["stream"]["publishedSeq"] == 0
    assert redis.entries() == []
