"""iGamingAce X-Request-Signature: the published example, raw JSON tokens, tampering and the replay window."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import redis
from flask import Flask

from tests.conftest import Ace, Operator, ace_sign, make_env, money_entries
from wallet import create_app
from wallet.providers.igamingace.callbacks import _Account, parse_flat
from wallet.providers.igamingace.settings import IGamingAce

EXAMPLE = b'{"amount":1500,"currency":"USD","playerId":"user123","timestamp":1713792000}'
EXAMPLE_SIGNATURE = "KT1EnIClK3FLG6dfJUQDmVbMadPfBZkL/O8A3oF5f8SLNSVykskclKlFzhOV9LafI65TiTBdXALoYjxWsbjl4w=="


def test_published_example() -> None:
    """The documented body and key give the documented Base64 HMAC-SHA512."""
    account = _Account(IGamingAce("my_super_secret_token", "", 0))
    assert account.signature(parse_flat(EXAMPLE)) == EXAMPLE_SIGNATURE


def test_reordered_keys_sign_the_same(ready: str, ace: Ace) -> None:
    """Keys are sorted before signing, so the order they are sent in does not matter."""
    body = {"timestamp": int(time.time()), "playerId": ready, "command": "balance"}
    assert ace.send(body, ace_sign(dict(reversed(body.items()))))["statusCode"] == "OK"


def test_tampered_value_refused(ready: str, ace: Ace) -> None:
    """Changing any signed value after signing gives ERR_INTEGRITY_CHECK_FAILED and moves nothing."""
    body = {
        "command": "bet",
        "transactionId": 1,
        "playerId": ready,
        "roundId": 1,
        "currency": "EUR",
        "amount": Decimal("10.00"),
        "timestamp": int(time.time()),
    }
    signature = ace_sign(body)
    for field, value in [
        ("amount", Decimal("99.00")),
        ("transactionId", 2),
        ("playerId", "p2"),
        ("roundId", 7),
    ]:
        assert ace.send({**body, field: value}, signature)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED", field
    assert ace.send({**body, "extra": "x"}, signature)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert ace.balance(ready)["balance"] == 100.00


def test_missing_and_garbage_signature(ready: str, ace: Ace) -> None:
    """No header, an empty one, or a signature made with another token: ERR_INTEGRITY_CHECK_FAILED."""
    body = {"command": "balance", "playerId": ready, "timestamp": int(time.time())}
    response = ace.client.post("/igamingace", json=body)
    assert response.get_json() == {"balance": 0.00, "statusCode": "ERR_INTEGRITY_CHECK_FAILED"}
    for signature in ["", "not base64 at all ✓", ace_sign(body, token="other-token")]:
        assert ace.send(body, signature)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"


def test_numbers_signed_as_written(ready: str, ace: Ace) -> None:
    """10.50 is signed as "10.50", not "10.5": the raw token counts, and a re-formatted one is refused."""
    body = {
        "command": "bet",
        "transactionId": 5,
        "playerId": ready,
        "roundId": 1,
        "currency": "EUR",
        "amount": Decimal("10.50"),
        "timestamp": int(time.time()),
    }
    assert ace.send(body, ace_sign({**body, "amount": Decimal("10.5")}))["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert ace.send(body)["balance"] == 89.50


def test_booleans_and_null_signed_like_javascript(ready: str, ace: Ace) -> None:
    """true, false and null are signed as JavaScript renders them."""
    body = {
        "command": "bet",
        "transactionId": 6,
        "playerId": ready,
        "roundId": 1,
        "currency": "EUR",
        "amount": Decimal("1.00"),
        "isBonusBusy": False,
        "bonusId": None,
        "timestamp": int(time.time()),
    }
    assert ace.send(body)["statusCode"] == "OK"
    python_rendering = ace_sign({**body, "transactionId": 7, "isBonusBusy": "False", "bonusId": "None"})
    assert ace.send({**body, "transactionId": 7}, python_rendering)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"


def test_ids_beyond_2_53_kept_exact(app: Flask, redis_client: redis.Redis, ready: str, ace: Ace) -> None:
    """A 2**64+1 transaction id is signed and stored with its exact digits; 2**64+2 is another id."""
    big = 2**64 + 1
    assert ace.bet(ready, "1.00", big)["statusCode"] == "OK"
    assert ace.bet(ready, "1.00", big + 1)["balance"] == 98.00
    assert [e["tx"] for e in money_entries(app, redis_client, ready)][-2:] == [str(big), str(big + 1)]


@pytest.mark.parametrize("offset", [-301, 301, -3600 * 24])
def test_stale_or_future_timestamp_refused(ready: str, ace: Ace, offset: int) -> None:
    """A timestamp more than 5 minutes from now, either way, is refused as an integrity failure."""
    body = {"command": "balance", "playerId": ready, "timestamp": int(time.time()) + offset}
    assert ace.send(body)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"


def test_millisecond_timestamps(ready: str, ace: Ace) -> None:
    """Timestamps in milliseconds are understood: now passes, ten minutes ago does not."""
    now_ms = int(time.time() * 1000)
    assert ace.send({"command": "balance", "playerId": ready, "timestamp": now_ms})["statusCode"] == "OK"
    old = {"command": "balance", "playerId": ready, "timestamp": now_ms - 600_000}
    assert ace.send(old)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"


def test_missing_timestamp_refused(ready: str, ace: Ace) -> None:
    """With replay protection on, a body without a numeric timestamp cannot prove it is fresh."""
    assert ace.send({"command": "balance", "playerId": ready})["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    body = {"command": "balance", "playerId": ready, "timestamp": str(int(time.time()))}
    assert ace.send(body)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"


def test_replay_window_can_be_disabled(redis_client: redis.Redis, prefix: str) -> None:
    """IGAMINGACE_REPLAY_WINDOW=0 accepts old timestamps (signature still required)."""
    app = create_app(make_env(prefix, IGAMINGACE_REPLAY_WINDOW="0"), client=redis_client)
    Operator(app.test_client()).create("p1")
    Operator(app.test_client()).sign_in("p1")
    body = {"command": "balance", "playerId": "p1", "timestamp": 1713792000}
    assert Ace(app.test_client()).send(body)["statusCode"] == "OK"


def test_signature_cannot_be_carried_to_another_body(operator: Operator, ace: Ace) -> None:
    """The issue's attack: a signed round cancel re-sent without referenceId and with providerId
    "prov,2003" has the same signing string; it is refused (the signature code) and refunds
    nothing. An extra key is refused the same way."""
    operator.create("p1", balance="10.00")
    operator.sign_in("p1")
    for tx in (2001, 2002, 2003):
        assert ace.bet("p1", "1.00", tx, round_id=9)["statusCode"] == "OK"
    base = {"command": "cancel", "transactionId": 3001, "playerId": "p1", "roundId": 9, "gameCode": "slot-1"}
    signed = {**base, "providerId": "prov", "referenceId": 2003, "timestamp": int(time.time())}
    signature = ace_sign(signed)
    recut = {**base, "providerId": "prov,2003", "timestamp": signed["timestamp"]}
    assert ace_sign(recut) == signature  # the same signing string
    assert ace.send(recut, signature)["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert ace.send({**signed, "zzz": "extra,value"})["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert ace.send({**signed, "zzz": "extra"})["statusCode"] == "ERR_INTEGRITY_CHECK_FAILED"
    assert operator.balance("p1") == "7.00"
    assert ace.send(signed, signature)["statusCode"] == "OK"  # the genuine cancel refunds one bet
    assert operator.balance("p1") == "8.00"
