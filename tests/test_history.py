"""Operator API reads from SQL: a player's transactions (filters, pagination) and the GGR report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import Ace, Operator, Provider
from wallet.ledger.snapshot import drain_once


@pytest.fixture
def played(app: Flask, engine: Engine, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """A hand-computed day: two players, both providers, bets, wins, a bet-win, a rollback, a cancel.

    gitslotpark slot-a... (GitSlotPark sends no game): bets 10 + 5 + 2, wins 30, rollback of the
    2.00 bet (+2): GGR 17 - 30 - 2 = -15.00, rounds r1 r2 r3, players p1 p2.
    igamingace slot-1: bets 3 + 4 + 1 (betwin), wins 6 + 0.50 (betwin), cancel of the 4.00 bet:
    GGR 8 - 6.50 - 4 = -2.50, rounds 1 2 3, player p1.
    """
    operator.create("p1", balance="100.00")
    operator.create("p2", balance="100.00")
    operator.sign_in("p1")
    gsp.withdraw("p1", "10.00", "g1", round_id="r1")
    gsp.deposit("p1", "30.00", "g2", round_id="r1")
    gsp.withdraw("p2", "5.00", "g3", round_id="r2")
    gsp.withdraw("p2", "2.00", "g4", round_id="r3")
    gsp.rollback("p2", "g4")
    ace.bet("p1", "3.00", 1, round_id=1)
    ace.win("p1", "6.00", 2, round_id=1)
    ace.bet("p1", "4.00", 3, round_id=2)
    ace.cancel("p1", 4, reference=3, round_id=2)
    ace.bet_win("p1", "1.00", "0.50", 5, round_id=3)
    drain_once(app.extensions["wallet"].store, engine)


def _get(operator: Operator, path: str) -> tuple[int, dict[str, object]]:
    response = operator.client.get(path, headers=operator.headers)
    return response.status_code, response.get_json()


def test_player_transactions_newest_first(played: None, operator: Operator) -> None:
    """Items come newest first with decimal amounts, references and what a reversal reverses."""
    status, body = _get(operator, "/api/v1/players/p2/transactions")
    assert status == 200 and body["next_cursor"] is None
    items = body["items"]
    assert [(i["kind"], i["amount"], i["balance_after"]) for i in items] == [  # type: ignore[union-attr]
        ("rollback", "2.00", "95.00"),
        ("bet", "-2.00", "93.00"),
        ("bet", "-5.00", "95.00"),
        ("deposit", "100.00", "100.00"),
    ]
    assert items[0]["reverses"] == "g4" and items[1]["transaction_id"] == "g4"  # type: ignore[index]


def test_pagination(played: None, operator: Operator) -> None:
    """limit and next_cursor walk the whole history once, without overlap."""
    seen, cursor = [], ""
    while True:
        status, body = _get(operator, f"/api/v1/players/p1/transactions?limit=3{cursor}")
        assert status == 200
        seen += [i["reference"] for i in body["items"]]  # type: ignore[union-attr]
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen)) == 8


def test_filters(played: None, operator: Operator) -> None:
    """provider, kind, round and the time range narrow the list."""
    _, body = _get(operator, "/api/v1/players/p1/transactions?provider=igamingace&kind=bet")
    assert [i["transaction_id"] for i in body["items"]] == ["3", "1"]  # type: ignore[union-attr]
    _, body = _get(operator, "/api/v1/players/p1/transactions?round=r1")
    assert [i["kind"] for i in body["items"]] == ["win", "bet"]  # type: ignore[union-attr]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    _, body = _get(operator, f"/api/v1/players/p1/transactions?from={later}")
    assert body["items"] == []


def test_history_errors(played: None, operator: Operator) -> None:
    """Unknown players are 404, bad query parameters 422."""
    assert _get(operator, "/api/v1/players/ghost/transactions")[0] == 404
    for query in ["limit=0", "limit=x", "kind=jackpot", "from=yesterday", "cursor=-1", f"cursor={2**64}"]:
        status, body = _get(operator, f"/api/v1/players/p1/transactions?{query}")
        assert (status, body["error"]) == (422, "invalid_query"), query


def test_ggr_report(played: None, operator: Operator) -> None:
    """Report figures match the hand-computed scenario; the cashier is not gaming revenue."""
    today = datetime.now(UTC).date().isoformat()
    status, body = _get(operator, f"/api/v1/reports/ggr?from={today}&to={today}")
    assert status == 200
    assert body["rows"] == [
        {
            "day": today,
            "provider": "gitslotpark",
            "game": "",
            "currency": "EUR",
            "bets": "17.00",
            "wins": "30.00",
            "rollbacks": "2.00",
            "ggr": "-15.00",
            "rounds": 3,
            "players": 2,
        },
        {
            "day": today,
            "provider": "igamingace",
            "game": "slot-1",
            "currency": "EUR",
            "bets": "8.00",
            "wins": "6.50",
            "rollbacks": "4.00",
            "ggr": "-2.50",
            "rounds": 3,
            "players": 1,
        },
    ]
    _, only = _get(operator, f"/api/v1/reports/ggr?from={today}&to={today}&provider=igamingace")
    assert [r["provider"] for r in only["rows"]] == ["igamingace"]  # type: ignore[union-attr]


def test_ggr_report_errors(operator: Operator) -> None:
    """Missing or reversed dates and ranges over a year are 422."""
    for query in ["", "from=2026-01-02&to=2026-01-01", "from=2024-01-01&to=2026-01-01", "from=x&to=y"]:
        status, body = _get(operator, f"/api/v1/reports/ggr?{query}")
        assert (status, body["error"]) == (422, "invalid_query"), query


def test_ggr_counts_stakes_in_the_players_unit(app: Flask, engine: Engine, operator: Operator, gsp: Provider) -> None:
    """A 100-yen bet sent on GitSlotPark's two-decimal wire ("100.00") and a 30-yen win are reported
    as 100 and 30 yen (the script journals them in the player's unit, not the wire's)."""
    operator.create("jp", currency="JPY", balance="1000")
    assert gsp.withdraw("jp", "100.00", "t1")["result"] == 0
    assert gsp.deposit("jp", "30.00", "t2")["result"] == 0
    drain_once(app.extensions["wallet"].store, engine)
    today = datetime.now(UTC).date().isoformat()
    rows = operator.client.get(f"/api/v1/reports/ggr?from={today}&to={today}", headers=operator.headers).get_json()
    assert [(r["currency"], r["bets"], r["wins"], r["ggr"]) for r in rows["rows"]] == [("JPY", "100", "30", "70")]
