"""Player protection: limits and exclusions set through the operator API, enforced inside the bet
script for every provider, tighter at once and looser only after the cooling-off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask

from tests.conftest import Ace, Operator, Provider, make_env, together
from tests.hub88 import Hub88, env
from wallet import create_app
from wallet.ledger import db
from wallet.ledger.snapshot import drain_once


def _fresh(app: Flask) -> Flask:
    """The app with SQL emptied: the first limit counts the player's play from SQL's ledger, and
    the PostgreSQL database of a CI pass is shared by its tests (others play as "p1" too)."""
    with app.extensions["wallet"].db.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    return app


@pytest.fixture
def app(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    app = _fresh(create_app(make_env(prefix, database_url, **env()), client=redis_client))  # with Hub88
    yield app
    app.extensions["wallet"].db.dispose()


def _limits(operator: Operator, player: str, **body: Any) -> Any:
    return operator.client.patch(f"/api/v1/players/{player}/limits", json=body, headers=operator.headers)


def _view(operator: Operator, player: str) -> Any:
    return operator.client.get(f"/api/v1/players/{player}/limits", headers=operator.headers).get_json()


def _exclude(operator: Operator, player: str, kind: str, until: datetime | None) -> Any:
    body = {"kind": kind, "until": None if until is None else until.isoformat()}
    return operator.client.post(f"/api/v1/players/{player}/exclusions", json=body, headers=operator.headers)


def _later(app: Flask, seconds: float) -> None:
    """Move the wallet's clock forward (the scripts' now and the limits' periods)."""
    store = app.extensions["wallet"].store
    now = store.clock()
    store.clock = lambda: now + seconds


def test_stake_limit_refuses_every_provider(app: Flask, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """A bet above the stake limit is refused with each provider's code and moves nothing."""
    operator.create("p1", balance="100.00")
    token = operator.sign_in("p1").get_json()["token"]
    assert _limits(operator, "p1", stake="5.00").status_code == 200
    refused = gsp.withdraw("p1", "5.01", "g1")
    assert (refused["result"], refused["message"]) == (1, "Bet refused: stake limit reached")
    assert gsp.bet_win("p1", "6.00", "20.00", "g2")["result"] == 1
    assert ace.bet("p1", "7.00", 1)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert Hub88(app.test_client()).bet("p1", token, 600000, "h1")["status"] == "RS_ERROR_LIMIT_REACHED"
    assert gsp.withdraw("p1", "5.00", "g3")["result"] == 0
    assert operator.balance("p1") == "95.00"


def test_loss_limit_counts_net_loss(operator: Operator, gsp: Provider) -> None:
    """Stakes count, wins and refunded bets give back; a bet past the day's loss limit is refused."""
    operator.create("p1", balance="100.00")
    _limits(operator, "p1", loss={"day": "10.00"})
    assert gsp.withdraw("p1", "6.00", "b1")["result"] == 0
    assert gsp.withdraw("p1", "5.00", "b2")["result"] == 1  # 11.00 lost
    assert gsp.deposit("p1", "2.00", "w1")["result"] == 0  # net 4.00
    assert gsp.withdraw("p1", "5.00", "b3")["result"] == 0  # net 9.00
    assert gsp.rollback("p1", "b3")["result"] == 0  # net 4.00 again
    assert gsp.bet_win("p1", "6.00", "0.00", "bw1")["result"] == 0  # net 10.00: exactly the limit
    assert gsp.withdraw("p1", "0.01", "b4")["result"] == 1
    loss = _view(operator, "p1")["loss"]["day"]
    assert loss == {"limit": "10.00", "used": "10.00", "left": "0.00"}
    assert operator.balance("p1") == "90.00"


def test_parallel_bets_cannot_pass_a_loss_limit(app: Flask, operator: Operator, gsp: Provider) -> None:
    """32 simultaneous 1.00 bets against a 10.00 loss limit: exactly 10 pass."""
    operator.create("p1", balance="100.00")
    _limits(operator, "p1", loss={"day": "10.00", "week": "50.00"})
    replies = together(app, 32, Provider, lambda p, i: p.withdraw("p1", "1.00", f"race-{i}"))
    assert sorted(r["result"] for r in replies) == [0] * 10 + [1] * 22
    assert operator.balance("p1") == "90.00"


def test_periods_roll_over(app: Flask, operator: Operator, gsp: Provider) -> None:
    """The day's count starts again the next day; the week's and the month's go on."""
    store = app.extensions["wallet"].store
    wednesday = datetime(2026, 12, 9, 12, tzinfo=UTC).timestamp()
    store.clock = lambda: wednesday
    operator.create("p1", balance="100.00")
    _limits(operator, "p1", loss={"day": "10.00", "week": "15.00", "month": "40.00"})
    gsp.withdraw("p1", "10.00", "b1")
    store.clock = lambda: wednesday + 86400
    view = _view(operator, "p1")["loss"]
    assert [view[p]["used"] for p in ("day", "week", "month")] == ["0.00", "10.00", "10.00"]
    assert gsp.withdraw("p1", "6.00", "b2")["result"] == 1  # the week's 15.00
    assert gsp.withdraw("p1", "5.00", "b3")["result"] == 0
    store.clock = lambda: wednesday + 5 * 86400  # Monday: a new week, the same month
    assert gsp.withdraw("p1", "10.00", "b4")["result"] == 0
    assert _view(operator, "p1")["loss"]["month"]["used"] == "25.00"


def test_raise_waits_for_the_cooling_off(app: Flask, operator: Operator, gsp: Provider) -> None:
    """Lowering applies at once; raising or removing is pending for WALLET_LIMIT_COOLING (24h)
    and shown with its effective time; a later lowering cancels a pending raise."""
    operator.create("p1", balance="100.00")
    _limits(operator, "p1", stake="5.00")
    view = _limits(operator, "p1", stake="20.00").get_json()["stake"]
    assert view["limit"] == "5.00" and view["pending"]["limit"] == "20.00"
    effective = datetime.fromisoformat(view["pending"]["effective_at"])
    assert timedelta(hours=23, minutes=59) < effective - datetime.now(UTC) <= timedelta(hours=24)
    assert gsp.withdraw("p1", "10.00", "b1")["result"] == 1
    _later(app, 86400 + 1)
    assert gsp.withdraw("p1", "10.00", "b2")["result"] == 0
    assert _view(operator, "p1")["stake"] == {"limit": "20.00"}
    _limits(operator, "p1", stake=None)  # removal: pending too
    assert _view(operator, "p1")["stake"]["pending"]["limit"] is None
    assert _limits(operator, "p1", stake="3.00").get_json()["stake"] == {"limit": "3.00"}  # cancels it
    assert gsp.withdraw("p1", "4.00", "b3")["result"] == 1


def test_deposit_limits(operator: Operator) -> None:
    """Cashier deposits past a deposit limit are refused with 422, naming the limit and what is left."""
    operator.create("p1")
    _limits(operator, "p1", deposit={"day": "100.00", "week": "150.00"})
    assert operator.deposit("p1", "80.00", key="d1").status_code == 201
    refused = operator.deposit("p1", "30.00", key="d2")
    assert refused.status_code == 422
    assert refused.get_json() == {
        "error": "limit_reached",
        "message": "past the player's deposit limit per day: 20.00 EUR left",
    }
    assert _view(operator, "p1")["deposit"]["day"] == {"limit": "100.00", "used": "80.00", "left": "20.00"}
    assert operator.balance("p1") == "80.00"


def test_exclusion_refuses_bets_and_deposits_only(app: Flask, operator: Operator, gsp: Provider, ace: Ace) -> None:
    """During a self-exclusion bets and deposits are refused; wins, rollbacks and withdrawals work."""
    operator.create("p1", balance="100.00")
    token = operator.sign_in("p1").get_json()["token"]
    gsp.withdraw("p1", "10.00", "b1")
    created = _exclude(operator, "p1", "self-exclusion", None)
    assert created.status_code == 201 and created.get_json() == {"kind": "self-exclusion", "until": None}
    assert gsp.withdraw("p1", "1.00", "b2") == {"result": 1, "message": "Bet refused: player in self-exclusion"}
    assert ace.bet("p1", "1.00", 7)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    assert Hub88(app.test_client()).bet("p1", token, 100000, "h1")["status"] == "RS_ERROR_USER_DISABLED"
    assert gsp.deposit("p1", "5.00", "w1")["result"] == 0
    assert gsp.rollback("p1", "b1")["result"] == 0
    assert operator.deposit("p1", "5.00", key="d1").get_json()["error"] == "player_excluded"
    assert operator.withdraw("p1", "15.00", key="x1").status_code == 201
    assert operator.balance("p1") == "90.00"


def test_exclusions_are_never_shortened(operator: Operator) -> None:
    """A cool-off lasts 24 hours to 6 weeks, a self-exclusion 6 months or more; neither ends early."""
    operator.create("p1")
    now = datetime.now(UTC)
    assert _exclude(operator, "p1", "cool-off", now + timedelta(hours=2)).status_code == 422
    assert _exclude(operator, "p1", "cool-off", None).status_code == 422
    assert _exclude(operator, "p1", "self-exclusion", now + timedelta(days=30)).status_code == 422
    assert _exclude(operator, "p1", "cool-off", now + timedelta(days=7)).status_code == 201
    shorter = _exclude(operator, "p1", "cool-off", now + timedelta(days=2))
    assert (shorter.status_code, shorter.get_json()["error"]) == (409, "exclusion_active")
    assert _exclude(operator, "p1", "self-exclusion", now + timedelta(days=200)).status_code == 201
    assert _view(operator, "p1")["exclusion"]["kind"] == "self-exclusion"
    assert _limits(operator, "ghost", stake="1.00").status_code == 404


def test_bad_limit_bodies(operator: Operator) -> None:
    """Unknown keys, negative or over-precise amounts, numbers instead of strings: 422, nothing set."""
    operator.create("p1")
    for body in ({"stake": "-1.00"}, {"stake": "1.001"}, {"stake": 5}, {"loss": {"year": "1.00"}}, {"bet": "1"}):
        assert _limits(operator, "p1", **body).status_code == 422, body
    assert _view(operator, "p1")["stake"] is None


def test_changes_are_audited(app: Flask, operator: Operator, engine: Any) -> None:
    """Every change has an audit row with its actor, written with the change itself."""
    operator.create("p1")
    _limits(operator, "p1", stake="5.00", loss={"day": "20.00"})
    _exclude(operator, "p1", "cool-off", datetime.now(UTC) + timedelta(days=1, hours=1))
    drain_once(app.extensions["wallet"].store, engine)
    rows = operator.client.get("/api/v1/audit?player=p1", headers=operator.headers).get_json()["items"]
    actions = {r["action"]: r for r in rows}
    assert actions["limits_change"]["detail"].startswith("loss:day 20.00, stake 5.00")
    assert actions["limits_change"]["actor"] == "operator-key"
    assert "cool-off until" in actions["exclusion_start"]["detail"]


def test_limits_survive_a_redis_loss(
    app: Flask, engine: Any, redis_client: redis.Redis, prefix: str, operator: Operator, gsp: Provider
) -> None:
    """Limits, a pending raise and an exclusion come back from SQL after Redis is lost, and the
    day's loss and deposit counters are summed again from the ledger."""
    from wallet.ledger import recovery

    operator.create("p1")
    _limits(operator, "p1", loss={"day": "30.00"}, deposit={"week": "100.00"}, stake="10.00")
    _limits(operator, "p1", stake="50.00")  # pending for 24h
    operator.deposit("p1", "60.00", key="d1")
    gsp.withdraw("p1", "9.00", "b1")
    gsp.withdraw("p1", "9.00", "b2")
    gsp.deposit("p1", "3.00", "w1")
    gsp.withdraw("p1", "9.00", "b3")
    gsp.rollback("p1", "b3")  # net loss 15.00
    _exclude(operator, "p1", "cool-off", datetime.now(UTC) + timedelta(days=2))
    before = _view(operator, "p1")
    store = app.extensions["wallet"].store
    drain_once(store, engine)
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)
    recovery.restore(store, engine, timedelta(days=1))
    assert _view(operator, "p1") == before
    assert before["loss"]["day"]["used"] == "15.00" and before["deposit"]["week"]["used"] == "60.00"
    assert before["stake"]["pending"]["limit"] == "50.00"
    assert gsp.withdraw("p1", "1.00", "b4")["message"] == "Bet refused: player in cool-off"


def test_first_limit_counts_the_day_so_far(app: Flask, engine: Any, operator: Operator, gsp: Provider) -> None:
    """A loss limit set after the player lost today counts those losses (summed from SQL)."""
    operator.create("p1", balance="100.00")
    gsp.withdraw("p1", "8.00", "b1")
    drain_once(app.extensions["wallet"].store, engine)
    view = _limits(operator, "p1", loss={"day": "10.00"}).get_json()["loss"]["day"]
    assert view == {"limit": "10.00", "used": "8.00", "left": "2.00"}
    assert gsp.withdraw("p1", "2.01", "b2")["result"] == 1
    assert gsp.withdraw("p1", "2.00", "b3")["result"] == 0


def test_cli_sets_and_shows_limits(app: Flask, engine: Any, operator: Operator, gsp: Provider) -> None:
    """`wallet player limits --set` and `wallet player exclude` take the API's path: same rules,
    audited as cli:<login>; without --set it prints the limits."""
    import json

    from click.testing import CliRunner

    from wallet.cli import main

    def wallet(*args: str) -> Any:
        return CliRunner().invoke(main, ["player", *args], obj=app)

    operator.create("p1", balance="50.00")
    done = wallet("limits", "p1", "--set", "stake=2.00", "--set", "loss:week=30.00")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["stake"] == {"limit": "2.00"}
    assert gsp.withdraw("p1", "2.50", "b1")["result"] == 1
    shown = json.loads(wallet("limits", "p1").output)
    assert shown["loss"]["week"] == {"limit": "30.00", "used": "0.00", "left": "30.00"}
    bad = wallet("limits", "p1", "--set", "stake=1.001")
    assert bad.exit_code == 1 and "invalid_fields" in bad.output
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert wallet("exclude", "p1", "cool-off", "--until", until).exit_code == 0
    assert gsp.withdraw("p1", "1.00", "b2")["message"] == "Bet refused: player in cool-off"
    drain_once(app.extensions["wallet"].store, engine)
    rows = operator.client.get("/api/v1/audit?player=p1", headers=operator.headers).get_json()["items"]
    assert {r["action"]: r["actor_kind"] for r in rows}["limits_change"] == "cli"


def test_back_office_shows_and_sets_limits(app: Flask, operator: Operator, gsp: Provider) -> None:
    """The player page shows each limit with what is used and left, sets one, and starts an exclusion."""
    from tests.conftest import csrf_of, sign_in

    operator.create("p1", balance="50.00")
    _limits(operator, "p1", loss={"day": "20.00"})
    gsp.withdraw("p1", "5.00", "b1")
    office = app.test_client()
    sign_in(office)
    page = office.get("/backoffice/players/p1").get_data(as_text=True)
    assert '<td>loss per day</td><td class="num">20.00</td>' in page and '<td class="num">15.00</td>' in page
    token = csrf_of(office, "/backoffice/players/p1")
    office.post("/backoffice/players/p1/limits", data={"limit": "stake", "amount": "1.00", "csrf_token": token})
    assert _view(operator, "p1")["stake"] == {"limit": "1.00"}
    refused = office.post(
        "/backoffice/players/p1/exclusions",
        data={"kind": "cool-off", "until": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Not done: until: a cool-off ends between 24 hours and 6 weeks from now." in refused.get_data(as_text=True)
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    office.post("/backoffice/players/p1/exclusions", data={"kind": "cool-off", "until": until, "csrf_token": token})
    assert "In <strong>cool-off</strong>" in office.get("/backoffice/players/p1").get_data(as_text=True)


@pytest.fixture
def uk_app(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    variables = {**env(), "WALLET_AGE_STAKE_CAPS": "GBP:18-24:2.00,GBP:25-120:5.00"}
    app = _fresh(create_app(make_env(prefix, database_url, **variables), client=redis_client))
    yield app
    app.extensions["wallet"].db.dispose()


def test_player_facts_and_the_age_band_stake_cap(uk_app: Flask) -> None:
    """A player carries country and birth date; WALLET_AGE_STAKE_CAPS caps the stake by age band
    (the UK's GBP 2 for 18 to 24, GBP 5 after), moving with the birthday; Hub88's info answers them."""
    operator, gsp = Operator(uk_app.test_client()), Provider(uk_app.test_client())
    store = uk_app.extensions["wallet"].store
    today = datetime(2026, 12, 9, 12, tzinfo=UTC)
    store.clock = lambda: today.timestamp()
    body = {"id": "young", "currency": "GBP", "country": "GB", "birth_date": "2001-12-10"}  # 24 until tomorrow
    created = operator.client.post("/api/v1/players", json=body, headers=operator.headers)
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["country"], created.get_json()["birth_date"]) == ("GB", "2001-12-10")
    operator.deposit("young", "50.00", key="d1")
    refused = gsp.withdraw("young", "2.50", "b1")
    assert (refused["result"], refused["message"]) == (1, "Bet refused: stake:age limit reached")
    assert gsp.withdraw("young", "2.00", "b2")["result"] == 0
    store.clock = lambda: (today + timedelta(days=1)).timestamp()  # 25: the GBP 5 band
    assert gsp.withdraw("young", "2.50", "b3")["result"] == 0
    assert gsp.withdraw("young", "5.01", "b4")["result"] == 1
    info = Hub88(uk_app.test_client()).info("young")
    assert (info["country"], info["birth_date"], info["currency"]) == ("GB", "2001-12-10", "GBP")
    patched = operator.client.patch("/api/v1/players/young", json={"country": None}, headers=operator.headers)
    assert patched.status_code == 200 and "country" not in patched.get_json()
    for bad in ({"country": "gb"}, {"country": "GB\n"}, {"birth_date": "2001-02-30"}, {"birth_date": "10/12/2002"}):
        assert operator.client.patch("/api/v1/players/young", json=bad, headers=operator.headers).status_code == 422
