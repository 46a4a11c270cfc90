"""Desk loss limit and per-account position limits end to end: warning and breach `limit`
deltas (account and desk scope), the text mode's LIMIT lines, and the page's banner."""

from __future__ import annotations

import json

from test_push_support import recv_json, ws_connect
from test_tt_sources import _chromium, browser, wait_until  # noqa: F401 (the fixture)


def limits_server(server_factory, tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"defaultLossLimit": "25000", "deskLossLimit": "1000",
                                    "accounts": {"ACC1": {"positionLimit": 10}}}))
    return server_factory(config={"sim": {"accountsFile": str(accounts)}})


def fill(exec_id, qty, side="buy", account="ACC1"):
    return {"type": "fill", "execId": exec_id, "account": account, "instrument": "ZNZ6", "side": side, "qty": qty, "price": "110-00"}


def next_of(ws, kind, scope=None):
    while True:
        message = recv_json(ws)
        if message["type"] == kind and message.get("scope") == scope:
            return message


def test_position_and_desk_limits_warn_breach_and_show(server_factory, tmp_path, request):
    server = limits_server(server_factory, tmp_path)
    with ws_connect(server, "/ws?channels=risk,pnl") as ws:
        snapshot = recv_json(ws)
        assert snapshot["desk"]["lossLimit"] == "1000" and snapshot["desk"]["limitState"] == "ok"
        server.post_fills([fill("E1", 8)])
        warning = next_of(ws, "limit")
        assert (warning["account"], warning["grossContracts"], warning["positionLimit"], warning["positionState"]) == ("ACC1", 8, 10, "warning")
        server.post_fills([fill("E2", 2)])
        assert next_of(ws, "limit")["positionState"] == "breached"
        # Ten long, the market half a point lower: the desk loses 5,000 of its 1,000 limit.
        server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "109-16"}])
        desk = next_of(ws, "limit", "desk")
        assert desk == {"type": "limit", "seq": desk["seq"], "scope": "desk", "lossLimit": "1000", "limitUsed": "5000", "limitState": "breached"}
    with ws_connect(server, "/ws?format=text") as ws:
        ws.recv(timeout=10)
        ws.send("pnl")
        assert "DESK" in ws.recv(timeout=10)
        server.post_fills([fill("E3", 1, side="sell")])   # 9 of 10: back to warning
        lines = ""
        while "LIMIT" not in lines:
            lines = ws.recv(timeout=10)
        assert "LIMIT    ACC1       ok used +4,500.00 of 25,000.00 · position warning 9 of 10 contracts" in lines, lines

    if not _chromium():
        return
    from selenium.webdriver.common.by import By
    page = request.getfixturevalue("browser")
    page.get(server.url + "/")
    banner = wait_until(lambda: (lambda el: el if el.is_displayed() and "BREACHED" in el.text else None)(
        page.find_element(By.ID, "breach-banner")), what="the limit banner")
    assert banner.text == "LIMIT BREACHED — DESK: loss 4,500 of limit 1,000"
    server.post_fills([{"type": "mark", "instrument": "ZNZ6", "price": "110-00"}])
    banner = wait_until(lambda: (lambda el: el if el.is_displayed() and "warning" in el.text else None)(
        page.find_element(By.ID, "breach-banner")), what="the warning banner")
    assert banner.text == "Limit warning — ACC1: position 9 of 10 contracts"
