"""Several accounts per provider: EUR and USD accounts of each in one service, routed by agentID
(GitSlotPark) and by URL (iGamingAce), each refusing players of the other currency."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Ace, Operator, Provider, make_env
from wallet import config, create_app
from wallet.errors import ConfigError

#: Two accounts of each provider, as an operator with EUR and USD players sets them.
ACCOUNTS = {
    "GITSLOTPARK_AGENT_ID": "",
    "GITSLOTPARK_SECRET_KEY": "",
    "IGAMINGACE_API_TOKEN": "",
    "GITSLOTPARK_ACCOUNTS": "eur:EUR,usd:USD",
    "GITSLOTPARK_AGENT_ID_EUR": "agent-eur",
    "GITSLOTPARK_SECRET_KEY_EUR": "secret-eur",
    "GITSLOTPARK_AGENT_ID_USD": "agent-usd",
    "GITSLOTPARK_SECRET_KEY_USD": "secret-usd",
    "IGAMINGACE_ACCOUNTS": "eur:EUR,usd:USD",
    "IGAMINGACE_API_TOKEN_EUR": "token-eur",
    "IGAMINGACE_API_TOKEN_USD": "token-usd",
}


@pytest.fixture
def two(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    app = create_app(make_env(prefix, database_url, **ACCOUNTS), client=redis_client)
    yield app
    app.extensions["wallet"].db.dispose()


@pytest.fixture
def funded(two: Flask) -> FlaskClient:
    client = two.test_client()
    operator = Operator(client)
    operator.create("eve", "EUR", balance="100.00")
    operator.create("uma", "USD", balance="100.00")
    for player in ("eve", "uma"):
        operator.sign_in(player)
    return client


def test_gitslotpark_agent_id_selects_the_account(funded: FlaskClient) -> None:
    """Each agent's callbacks are signed with its own key and move its own currency's players."""
    eur, usd = Provider(funded, "agent-eur", "secret-eur"), Provider(funded, "agent-usd", "secret-usd")
    assert eur.withdraw("eve", "10.00", "t1")["result"] == 0
    assert usd.withdraw("uma", "20.00", "t1")["result"] == 0
    assert (eur.exact["balance"], usd.exact["balance"]) == (Decimal("90.00"), Decimal("80.00"))
    assert usd.balance("uma")["currency"] == "USD"
    assert Operator(funded).balance("eve") == "90.00" and Operator(funded).balance("uma") == "80.00"
    wrong_key = Provider(funded, "agent-eur", "secret-usd")
    assert wrong_key.withdraw("eve", "1.00", "t2")["result"] == 3


def test_gitslotpark_player_of_another_currency_is_refused(funded: FlaskClient) -> None:
    """A USD player through the EUR agent: result 4 on every callback, and nothing changes."""
    eur = Provider(funded, "agent-eur", "secret-eur")
    replies = [
        eur.balance("uma"),
        eur.withdraw("uma", "1.00", "x1"),
        eur.deposit("uma", "1.00", "x2"),
        eur.bet_win("uma", "1.00", "2.00", "x3"),
        eur.rollback("uma", "x1"),
    ]
    assert [r["result"] for r in replies] == [4, 4, 4, 4, 4]
    assert "currency" in replies[0]["message"]
    assert Operator(funded).balance("uma") == "100.00"
    usd = Provider(funded, "agent-usd", "secret-usd")
    assert usd.withdraw("uma", "1.00", "x1")["result"] == 0  # the id was not used up by the refusal


def test_igamingace_account_urls_and_tokens(funded: FlaskClient) -> None:
    """/igamingace/<name> verifies with that account's token only; the plain URL is not served."""
    eur = Ace(funded, "/igamingace/eur", "token-eur")
    assert eur.bet("eve", "5.00", 1)["statusCode"] == "OK"
    assert eur.exact["balance"] == Decimal("95.00")
    assert Ace(funded, "/igamingace/usd", "token-eur").bet("uma", "5.00", 2)["statusCode"] == (
        "ERR_INTEGRITY_CHECK_FAILED"
    )
    assert funded.post("/igamingace", json={}).status_code == 404


def test_igamingace_player_of_another_currency_is_refused(funded: FlaskClient) -> None:
    """An EUR player through the USD account: ERR_INVALID_ACCOUNT, and nothing changes."""
    usd = Ace(funded, "/igamingace/usd", "token-usd")
    statuses = [
        usd.balance("eve")["statusCode"],
        usd.bet("eve", "1.00", 10, currency="USD")["statusCode"],
        usd.bet("eve", "1.00", 11, currency="EUR")["statusCode"],
        usd.win("eve", "1.00", 12)["statusCode"],
        usd.bet_win("eve", "1.00", "2.00", 13)["statusCode"],
        usd.cancel("eve", 14, reference=10)["statusCode"],
    ]
    assert statuses == ["ERR_INVALID_ACCOUNT"] * 6
    assert usd.balance("eve")["balance"] == 0  # another account's player's balance is never shown
    assert Operator(funded).balance("eve") == "100.00"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"GITSLOTPARK_ACCOUNTS": "eur:EUR", "GITSLOTPARK_AGENT_ID": "a"}, "GITSLOTPARK_ACCOUNTS"),
        ({"GITSLOTPARK_ACCOUNTS": "eur:EUR"}, "GITSLOTPARK_AGENT_ID_EUR"),
        ({"GITSLOTPARK_ACCOUNTS": "eur:EUR", "GITSLOTPARK_AGENT_ID_EUR": "a"}, "GITSLOTPARK_SECRET_KEY_EUR"),
        ({"GITSLOTPARK_ACCOUNTS": "eur:EUR,e2:EUR"}, "GITSLOTPARK_ACCOUNTS"),
        ({"GITSLOTPARK_ACCOUNTS": "eur"}, "GITSLOTPARK_ACCOUNTS"),
        ({"GITSLOTPARK_ACCOUNTS": "bhd:BHD"}, "GITSLOTPARK_ACCOUNTS"),
        ({"IGAMINGACE_ACCOUNTS": "eur:EUR"}, "IGAMINGACE_API_TOKEN_EUR"),
        ({"IGAMINGACE_ACCOUNTS": "x:ZZZ"}, "IGAMINGACE_ACCOUNTS"),
        ({"WALLET_CURRENCIES": "BTC:9"}, "WALLET_CURRENCIES"),
        ({"WALLET_CURRENCIES": "btc:8"}, "WALLET_CURRENCIES"),
    ],
)
def test_bad_account_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    """Start-up stops with one line naming the variable, and never a secret."""
    base = {"REDIS_URL": "redis://localhost", "OPERATOR_API_KEY": "k" * 16, "IGAMINGACE_API_TOKEN_X": "s3cret"}
    with pytest.raises(ConfigError) as caught:
        config.load({**base, **env})
    assert str(caught.value).startswith(f"{variable}:")
    assert "s3cret" not in str(caught.value)
