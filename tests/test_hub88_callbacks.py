"""Hub88's Wallet API end to end (PROTOCOLS.md section 4): signatures, tokens, amounts, statuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Operator, make_env
from tests.hub88 import Hub88, env, key
from wallet import create_app
from wallet.providers.hub88 import signature


@pytest.fixture
def app(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    app = create_app(make_env(prefix, database_url, **env()), client=redis_client)
    yield app
    app.extensions["wallet"].db.dispose()


@pytest.fixture
def hub(client: FlaskClient) -> Hub88:
    return Hub88(client)


def _player(operator: Operator, player: str = "p1", balance: str = "10.00", currency: str = "EUR") -> str:
    """A player with a balance and an open session; the session's token."""
    operator.create(player, currency=currency, balance=balance)
    return str(operator.sign_in(player).get_json()["token"])


def test_signature_over_the_raw_bytes(hub: Hub88, operator: Operator) -> None:
    """A body is verified as received: missing, wrong, or over a re-serialisation, it is refused unread."""
    _player(operator)
    raw = b'{"user": "p1",  "request_uuid": "u1"}'
    assert hub.post("/user/info", raw)["status"] == "RS_OK"
    resigned = json.dumps(json.loads(raw)).encode()  # the same object, other bytes
    assert hub.post("/user/info", raw, sign=signature.sign(key(), resigned)) == {
        "user": None,
        "status": "RS_ERROR_INVALID_SIGNATURE",
        "request_uuid": None,
    }
    assert hub.post("/user/info", raw, sign="")["status"] == "RS_ERROR_INVALID_SIGNATURE"
    assert hub.post("/user/info", raw, sign="not base64!")["status"] == "RS_ERROR_INVALID_SIGNATURE"
    stranger = Hub88(hub.client, private=key("stranger"))
    assert stranger.info("p1")["status"] == "RS_ERROR_INVALID_SIGNATURE"


def test_info_and_balance_in_hundred_thousandths(hub: Hub88, operator: Operator) -> None:
    """Balances are integers in 1/100000 of the major unit; the request_uuid is echoed."""
    token = _player(operator, balance="3.56")
    reply = hub.call("/user/balance", user="p1", token=token, request_uuid="req-1")
    assert reply == {"user": "p1", "status": "RS_OK", "request_uuid": "req-1", "currency": "EUR", "balance": 356000}
    assert hub.info("p1")["balance"] == 356000


def test_token_unknown_foreign_and_expired(hub: Hub88, operator: Operator) -> None:
    """Balance and bet need the user's own token of an open session; sign-out expires it."""
    token = _player(operator)
    other = _player(operator, "p2")
    assert hub.balance("p1", "never-issued")["status"] == "RS_ERROR_INVALID_TOKEN"
    assert hub.balance("p1", other)["status"] == "RS_ERROR_INVALID_TOKEN"
    operator.sign_out("p1")
    assert hub.balance("p1", token)["status"] == "RS_ERROR_TOKEN_EXPIRED"
    assert hub.bet("p1", token, 100000, "b1")["status"] == "RS_ERROR_TOKEN_EXPIRED"
    fresh = operator.sign_in("p1").get_json()["token"]
    assert hub.balance("p1", token)["status"] == "RS_ERROR_TOKEN_EXPIRED"  # an ended session's token stays ended
    assert hub.balance("p1", fresh)["status"] == "RS_OK"
    assert operator.balance("p1") == "10.00"


def test_renewed_session_keeps_its_tokens(hub: Hub88, operator: Operator) -> None:
    """Signing in again renews the session: tokens issued earlier in it stay valid."""
    first = _player(operator)
    second = operator.sign_in("p1").get_json()["token"]
    assert first != second
    assert hub.balance("p1", first)["status"] == hub.balance("p1", second)["status"] == "RS_OK"


def test_bet_win_round(hub: Hub88, operator: Operator) -> None:
    """A bet debits, its win credits; balances answered after each."""
    token = _player(operator)
    assert hub.bet("p1", token, 150000, "b1")["balance"] == 850000
    assert hub.win("p1", 400000, "w1", bet="b1")["balance"] == 1250000
    assert operator.balance("p1") == "12.50"


def test_not_enough_money_answers_the_balance(hub: Hub88, operator: Operator) -> None:
    """Funds are checked first: nothing applied, the actual balance answered."""
    token = _player(operator, balance="1.00")
    reply = hub.bet("p1", token, 200000, "b1")
    assert (reply["status"], reply["balance"], reply["currency"]) == ("RS_ERROR_NOT_ENOUGH_MONEY", 100000, "EUR")


def test_repeats_and_conflicts(hub: Hub88, operator: Operator) -> None:
    """A repeated transaction_uuid answers RS_OK and applies nothing; with any other parameter
    (amount, user, currency, round, game, reference) it is a duplicate transaction."""
    token = _player(operator)
    other = _player(operator, "p2")
    assert hub.bet("p1", token, 100000, "b1")["status"] == "RS_OK"
    again = hub.bet("p1", token, 100000, "b1")
    assert (again["status"], again["balance"], again["currency"]) == ("RS_OK", 900000, "EUR")
    assert hub.bet("p1", token, 200000, "b1")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert hub.bet("p1", token, 100000, "b1", round="r2")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert hub.bet("p1", token, 100000, "b1", game_code="g2")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert hub.bet("p2", other, 100000, "b1")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert hub.win("p1", 5000, "w1", bet="b1")["status"] == "RS_OK"
    assert hub.win("p1", 5000, "w1", bet="b1", round="r9")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert operator.balance("p1") == "9.05"
    assert operator.balance("p2") == "10.00"


def test_amounts_exact_in_the_players_unit(hub: Hub88, operator: Operator) -> None:
    """356001 is EUR 3.56001: refused, never rounded; so are negatives, floats, strings and booleans."""
    token = _player(operator)
    for amount in (356001, -100000, 1.5, "100000", True, 10**19):
        assert hub.bet("p1", token, amount, f"b-{amount}")["status"] == "RS_ERROR_WRONG_TYPES", amount
    raw = json.dumps(
        {
            "user": "p1",
            "token": token,
            "request_uuid": "u",
            "transaction_uuid": "bx",
            "currency": "EUR",
            "amount": 100000.0,
        }
    ).encode()
    assert hub.post("/transaction/bet", raw)["status"] == "RS_ERROR_WRONG_TYPES"
    assert operator.balance("p1") == "10.00"


def test_three_decimal_currency(hub: Hub88, operator: Operator) -> None:
    """A player in a 3-decimal currency takes 1/1000 steps: 100 of Hub88's units, not 1."""
    token = _player(operator, currency="KWD", balance="1.000")
    assert hub.bet("p1", token, 100, "b1", currency="KWD")["balance"] == 99900
    assert hub.bet("p1", token, 1, "b2", currency="KWD")["status"] == "RS_ERROR_WRONG_TYPES"


def test_wrong_currency(hub: Hub88, operator: Operator) -> None:
    """A currency that is not the player's moves nothing."""
    token = _player(operator)
    assert hub.bet("p1", token, 100000, "b1", currency="USD")["status"] == "RS_ERROR_WRONG_CURRENCY"
    assert hub.win("p1", 100000, "w1", bet=None, currency="USD", is_supplier_promo=True)["status"] == (
        "RS_ERROR_WRONG_CURRENCY"
    )
    assert operator.balance("p1") == "10.00"


def test_syntax_and_types(hub: Hub88, operator: Operator) -> None:
    """Malformed JSON or a missing field: WRONG_SYNTAX; a field of the wrong type: WRONG_TYPES."""
    token = _player(operator)
    assert hub.post("/user/info", b'{"user": "p1",')["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert hub.post("/user/info", b"[1]")["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert hub.post("/user/info", b'{"user": "p1", "request_uuid": NaN}')["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert hub.call("/user/info", user="p1", request_uuid=None)["status"] == "RS_ERROR_WRONG_TYPES"
    assert hub.post("/user/info", b'{"user": "p1"}')["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert hub.call("/transaction/bet", user="p1", token=token, currency="EUR", amount=1)["status"] == (
        "RS_ERROR_WRONG_SYNTAX"
    )
    assert hub.bet("p1", token, 100000, "b1", is_free="yes")["status"] == "RS_ERROR_WRONG_TYPES"


@pytest.mark.parametrize("hostile", ["p\x00", "p\r\nx", "\ud800", "x" * 129, "", "\u202e1p"])
def test_hostile_ids_refused(hub: Hub88, operator: Operator, hostile: str) -> None:
    """NUL, CR/LF, lone surrogates, over-long or empty ids never reach the store."""
    token = _player(operator)
    raw = json.dumps(
        {
            "user": "p1",
            "token": token,
            "request_uuid": "u",
            "transaction_uuid": hostile,
            "currency": "EUR",
            "amount": 100000,
        }
    ).encode()
    assert hub.post("/transaction/bet", raw)["status"] == "RS_ERROR_WRONG_TYPES"
    assert hub.info(hostile)["status"] == "RS_ERROR_WRONG_TYPES"
    assert operator.balance("p1") == "10.00"


def test_unknown_user(hub: Hub88) -> None:
    """A user we never created is refused on every path (players are never created by a callback)."""
    assert hub.info("ghost")["status"] == "RS_ERROR_INVALID_TOKEN"
    assert hub.win("ghost", 100, "w1", bet=None, is_supplier_promo=True)["status"] == "RS_ERROR_INVALID_TOKEN"


def test_blocked_player_bets_refused_wins_paid(hub: Hub88, operator: Operator) -> None:
    """A blocked player's bets are USER_DISABLED; their wins and rollbacks are still applied."""
    token = _player(operator)
    hub.bet("p1", token, 100000, "b1")
    operator.status("p1", "blocked")
    assert hub.bet("p1", token, 100000, "b2")["status"] == "RS_ERROR_USER_DISABLED"
    assert hub.win("p1", 300000, "w1", bet="b1")["status"] == "RS_OK"
    assert operator.balance("p1") == "12.00"


def test_win_needs_its_bet(hub: Hub88, operator: Operator) -> None:
    """A win names an applied bet, not rolled back; a supplier promo win needs none; a win of 0 closes a round."""
    token = _player(operator)
    assert hub.win("p1", 100000, "w1", bet="nope")["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    hub.bet("p1", token, 100000, "b1")
    hub.rollback("p1", "rb1", bet="b1")
    assert hub.win("p1", 100000, "w2", bet="b1")["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert hub.win("p1", 250000, "w3", bet=None, is_supplier_promo=True)["status"] == "RS_OK"
    hub.bet("p1", token, 0, "b2", is_supplier_promo=True)
    assert hub.win("p1", 0, "w4", bet="b2", round_closed=True)["status"] == "RS_OK"
    assert operator.balance("p1") == "12.50"


def test_win_and_rollback_ignore_the_token(hub: Hub88, operator: Operator) -> None:
    """After the session ended, the player still gets their win (the token is not checked)."""
    token = _player(operator)
    hub.bet("p1", token, 100000, "b1")
    hub.bet("p1", token, 100000, "b2")
    operator.sign_out("p1")
    assert hub.win("p1", 500000, "w1", bet="b1", token="long-gone")["status"] == "RS_OK"
    assert hub.rollback("p1", "rb1", bet="b2", token="long-gone")["status"] == "RS_OK"
    assert operator.balance("p1") == "14.00"


def test_rollback_once(hub: Hub88, operator: Operator) -> None:
    """A rollback refunds its bet once: its own uuid is idempotent; another uuid refunds nothing."""
    token = _player(operator)
    hub.bet("p1", token, 100000, "b1")
    assert hub.rollback("p1", "rb1", bet="b1")["balance"] == 1000000
    assert hub.rollback("p1", "rb1", bet="b1")["status"] == "RS_OK"
    assert hub.rollback("p1", "rb2", bet="b1")["status"] == "RS_OK"
    assert hub.rollback("p1", "rb1", bet="b9")["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert operator.balance("p1") == "10.00"


def test_rollback_before_bet(hub: Hub88, operator: Operator) -> None:
    """A rollback of a bet never seen answers RS_OK, and the late bet is refused."""
    token = _player(operator)
    assert hub.rollback("p1", "rb1", bet="b1")["status"] == "RS_OK"
    assert hub.bet("p1", token, 100000, "b1")["status"] == "RS_ERROR_TRANSACTION_ROLLED_BACK"
    assert operator.balance("p1") == "10.00"


def test_rollback_of_a_win_refused(hub: Hub88, operator: Operator) -> None:
    """Bets are rolled back, wins are retried: a rollback naming a win does not exist, also on replay."""
    token = _player(operator)
    hub.bet("p1", token, 100000, "b1")
    hub.win("p1", 300000, "w1", bet="b1")
    assert hub.rollback("p1", "rb1", bet="w1")["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert hub.rollback("p1", "rb1", bet="w1")["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert operator.balance("p1") == "12.00"


def test_free_round_bet_takes_nothing(hub: Hub88, operator: Operator) -> None:
    """An is_free bet is paid by the provider: no funds taken; its win pays."""
    token = _player(operator, balance="0.00")
    assert hub.bet("p1", token, 100000, "b1", is_free=True, reward_uuid="rw-1")["balance"] == 0
    assert hub.win("p1", 200000, "w1", bet="b1", is_free=True, reward_uuid="rw-1")["balance"] == 200000


def test_launch_token_and_closing(hub: Hub88, operator: Operator) -> None:
    """Closing the session ends every token it issued, the sign-in's included."""
    token = _player(operator)
    operator.sign_out("p1")
    assert hub.bet("p1", token, 1, "b1")["status"] == "RS_ERROR_TOKEN_EXPIRED"


def test_several_accounts(redis_client: redis.Redis, prefix: str, database_url: str, tmp_path: Path) -> None:
    """HUB88_ACCOUNTS serves /hub88/<name>/...: each account answers only its currency's players;
    a key may be given as a file path or with \\n-escaped newlines."""
    from tests.hub88 import public_pem

    pem = tmp_path / "hub88.pem"
    pem.write_text(public_pem(key()))
    variables = {
        "HUB88_ACCOUNTS": "eur:EUR,usd:USD",
        "HUB88_PUBLIC_KEY_EUR": str(pem),
        "HUB88_PUBLIC_KEY_USD": public_pem(key()).replace("\n", "\\n"),
    }
    app = create_app(make_env(prefix, database_url, **variables), client=redis_client)
    operator = Operator(app.test_client())
    eur, usd = Hub88(app.test_client(), "/hub88/eur"), Hub88(app.test_client(), "/hub88/usd")
    operator.create("pe", currency="EUR", balance="1.00")
    assert eur.info("pe")["balance"] == 100000
    refused = usd.info("pe")
    assert refused["status"] == "RS_ERROR_WRONG_CURRENCY" and "balance" not in refused  # not another account's
    app.extensions["wallet"].db.dispose()


def test_wallet_sign_signs_as_hub88(app: Flask, hub: Hub88, operator: Operator) -> None:
    """`wallet sign --provider hub88` signs with HUB88_SIMULATOR_KEY, and the wallet accepts it;
    without that key it says which variable is missing."""
    from click.testing import CliRunner

    from tests.hub88 import private_pem
    from wallet.cli import main

    _player(operator)
    body = '{"user": "p1", "request_uuid": "cli-1"}'
    missing = CliRunner().invoke(main, ["sign", "--provider", "hub88", body], obj=app)
    assert missing.exit_code == 1 and "HUB88_SIMULATOR_KEY" in missing.output
    variables = {**make_env("cli", **env()), "HUB88_SIMULATOR_KEY": private_pem(key())}
    signing = create_app(variables, client=fakeredis.FakeRedis(decode_responses=True))
    signed = CliRunner().invoke(main, ["sign", "--provider", "hub88", body], obj=signing)
    signing.extensions["wallet"].db.dispose()
    assert signed.exit_code == 0, signed.output
    assert hub.post("/user/info", body.encode(), sign=signed.output.strip())["status"] == "RS_OK"
