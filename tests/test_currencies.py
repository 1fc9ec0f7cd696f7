"""Every currency's own minor unit: JPY (no decimals) and BTC (8, operator-defined) through both
providers and the cashier, amounts with too many decimals refused (never rounded), and players
of earlier versions kept in hundredths keeping their meaning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import Ace, Operator, Provider, make_env, old_player
from wallet import create_app
from wallet.core import money
from wallet.core.money import exponent, format_amount, parse_amount, shown
from wallet.ledger import db
from wallet.ledger.recovery import restore
from wallet.ledger.snapshot import drain_once

ACCOUNTS = {
    "WALLET_CURRENCIES": "BTC:8,USDT:6",
    "GITSLOTPARK_AGENT_ID": "",
    "GITSLOTPARK_SECRET_KEY": "",
    "IGAMINGACE_API_TOKEN": "",
    "GITSLOTPARK_ACCOUNTS": "eur:EUR,jpy:JPY",
    "GITSLOTPARK_AGENT_ID_EUR": "agent-eur",
    "GITSLOTPARK_SECRET_KEY_EUR": "secret-eur",
    "GITSLOTPARK_AGENT_ID_JPY": "agent-jpy",
    "GITSLOTPARK_SECRET_KEY_JPY": "secret-jpy",
    "IGAMINGACE_ACCOUNTS": "jpy:JPY,btc:BTC",
    "IGAMINGACE_API_TOKEN_JPY": "token-jpy",
    "IGAMINGACE_API_TOKEN_BTC": "token-btc",
}


@pytest.fixture
def multi(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[FlaskClient]:
    app = create_app(make_env(prefix, database_url, **ACCOUNTS), client=redis_client)
    engine = app.extensions["wallet"].db
    db.migrate(engine)
    client = app.test_client()
    operator = Operator(client)
    assert operator.create("yuki", "JPY", balance="10000").status_code == 201
    assert operator.create("satoshi", "BTC", balance="0.12345678").status_code == 201
    for player in ("yuki", "satoshi"):
        operator.sign_in(player)
    yield client
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


def test_exponents_come_from_iso_4217_and_the_operator() -> None:
    """JPY 0, EUR 2, BHD 3 from the ISO 4217 data; BTC and USDT as WALLET_CURRENCIES says."""
    assert [exponent(c) for c in ("JPY", "EUR", "BHD", "XAU")] == [0, 2, 3, None]
    assert parse_amount("1.234", 3) == 1234 and format_amount(1234, 3) == "1.234"
    assert shown(12345, 2, "JPY") == "123.45" and shown(12300, 2, "JPY") == "123"


def test_jpy_through_the_cashier(multi: FlaskClient) -> None:
    """Yen have no decimals: the balance reads 10000; 10.5 yen is refused, never rounded."""
    operator = Operator(multi)
    assert operator.balance("yuki") == "10000"
    refused = operator.deposit("yuki", "10.5", key="half-yen")
    assert refused.status_code == 422 and "JPY" in refused.get_json()["message"]
    assert operator.withdraw("yuki", "500", key="w1").get_json()["balance"] == "9500"


def test_jpy_through_gitslotpark(multi: FlaskClient) -> None:
    """GitSlotPark keeps its two-decimal wire: 100.00 yen is a bet, 100.50 is result 2 and changes nothing."""
    jpy = Provider(multi, "agent-jpy", "secret-jpy")
    assert jpy.withdraw("yuki", "100.00", "t1")["result"] == 0
    assert jpy.exact["balance"] == Decimal("9900.00")
    assert jpy.withdraw("yuki", "100.50", "t2")["result"] == 2
    assert jpy.balance("yuki")["result"] == 0 and jpy.exact["balance"] == Decimal("9900.00")
    assert Provider(multi, "agent-eur", "secret-eur").withdraw("yuki", "1.00", "t3")["result"] == 4


def test_jpy_through_igamingace(multi: FlaskClient) -> None:
    """iGamingAce answers yen balances without decimals; a fractional yen amount is ERR_UNKNOWN."""
    jpy = Ace(multi, "/igamingace/jpy", "token-jpy")
    assert jpy.bet("yuki", "1500", 1, currency="JPY")["statusCode"] == "OK"
    assert jpy.exact["balance"] == 8500
    assert jpy.bet("yuki", "1.5", 2, currency="JPY")["statusCode"] == "ERR_UNKNOWN"
    assert jpy.win("yuki", "300", 3)["statusCode"] == "OK" and jpy.exact["balance"] == 8800
    assert Operator(multi).balance("yuki") == "8800"


def test_btc_through_igamingace_and_the_cashier(multi: FlaskClient) -> None:
    """Eight decimals end to end: a one-satoshi bet, and a ninth decimal refused."""
    btc = Ace(multi, "/igamingace/btc", "token-btc")
    assert btc.bet("satoshi", "0.00000001", 1, currency="BTC")["statusCode"] == "OK"
    assert btc.exact["balance"] == Decimal("0.12345677")
    assert btc.bet_win("satoshi", "0.001", "0.0025", 2)["statusCode"] == "OK"
    assert btc.exact["balance"] == Decimal("0.12495677")
    assert btc.bet("satoshi", "0.000000001", 3, currency="BTC")["statusCode"] == "ERR_UNKNOWN"
    assert Operator(multi).balance("satoshi") == "0.12495677"
    services = multi.application.extensions["wallet"]
    drain_once(services.store, services.db)
    history = multi.get("/api/v1/players/satoshi/transactions", headers=Operator(multi).headers).get_json()
    assert [i["amount"] for i in history["items"]] == ["0.00150000", "-0.00000001", "0.12345678"]
    assert history["items"][0]["balance_after"] == "0.12495677"


def test_btc_player_through_single_gitslotpark_account_is_refused(app: Flask, operator: Operator) -> None:
    """The single GitSlotPark account takes every currency its two-decimal wire can carry: not BTC."""
    money.configure({"BTC": 8})  # as WALLET_CURRENCIES=BTC:8 does; the default app has one account each
    operator.create("sat", "BTC", balance="1.00000001")
    gsp = Provider(app.test_client())
    assert gsp.withdraw("sat", "0.01", "t1")["result"] == 4
    assert gsp.balance("sat")["result"] == 4
    assert operator.balance("sat") == "1.00000001"
    ace = Ace(app.test_client())
    operator.sign_in("sat")
    assert ace.bet("sat", "0.00000001", 1, currency="BTC")["statusCode"] == "OK"
    assert ace.exact["balance"] == Decimal("1.00000000")


def test_single_accounts_refuse_fractions_a_currency_lacks(app: Flask, operator: Operator) -> None:
    """Through the single accounts (any currency), the script refuses 100.50 yen: result 2 / ERR_UNKNOWN."""
    operator.create("ken", "JPY", balance="1000")
    operator.sign_in("ken")
    gsp, ace = Provider(app.test_client()), Ace(app.test_client())
    assert gsp.withdraw("ken", "100.50", "t1")["result"] == 2
    assert ace.bet("ken", "0.5", 2, currency="JPY")["statusCode"] == "ERR_UNKNOWN"
    assert gsp.withdraw("ken", "100.00", "t1")["result"] == 0 and gsp.exact["balance"] == Decimal("900.00")
    assert ace.bet("ken", "100", 3, currency="JPY")["statusCode"] == "OK" and ace.exact["balance"] == 800


def test_old_jpy_player_keeps_its_hundredths(app: Flask, operator: Operator, engine: Engine) -> None:
    """123.45 yen stored in hundredths stays 123.45 (not 12345 yen): callbacks convert to its unit,
    SQL records unit 2 after the snapshot, and a restore from SQL keeps it."""
    old_player(app.extensions["wallet"].store, "old", "JPY", 12345)
    assert operator.balance("old") == "123.45"
    operator.sign_in("old")
    ace = Ace(app.test_client())
    assert ace.bet("old", "100", 1, currency="JPY")["statusCode"] == "OK"
    assert ace.exact["balance"] == Decimal("23.45")
    assert operator.deposit("old", "100", key="d1").get_json()["balance"] == "123.45"
    store = app.extensions["wallet"].store
    drain_once(store, engine)
    with engine.connect() as conn:
        row = conn.execute(db.balances.select().where(db.balances.c.player == "old")).mappings().one()
    assert (row["unit"], row["balance"]) == (2, 12345)
    store.client.delete(store.keys("old").account)
    restore(store, engine, timedelta(hours=1), force=True)
    assert store.client.hget(store.keys("old").account, "unit") == "2"
    assert operator.balance("old") == "123.45"
    items = app.test_client().get("/api/v1/players/old/transactions", headers=operator.headers).get_json()["items"]
    assert [i["amount"] for i in items] == ["100", "-100"]


def test_migration_gives_existing_players_unit_2(tmp_path: Path) -> None:
    """A database at revision 0003 with a JPY player: after `wallet migrate` its row says unit 2."""
    engine = db.connect(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.exec_driver_sql(
            "INSERT INTO balances (player, currency, status, balance, updated_at) "
            "VALUES ('old', 'JPY', 'active', 12345, '2026-01-01 00:00:00')"
        )
    db.migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(db.balances.select()).mappings().one()
    assert (row["player"], row["unit"], row["balance"]) == ("old", 2, 12345)
    engine.dispose()
