"""Security settings: per-provider source allow-lists behind a trusted number of proxies, and
constant-time comparison of every secret."""

from __future__ import annotations

import inspect

import redis

from tests.conftest import AGENT, Ace, Operator, Provider, gsp_sign, make_env
from wallet import create_app
from wallet.operator import backoffice, staff
from wallet.providers.gitslotpark import callbacks as gitslotpark
from wallet.providers.igamingace import callbacks as igamingace


def _client(redis_client: redis.Redis, prefix: str, **env: str):  # type: ignore[no-untyped-def]
    return create_app(make_env(prefix, **env), client=redis_client).test_client()


def _balance_body(player: str) -> dict[str, str]:
    body = {"agentID": AGENT, "userID": player}
    return {**body, "sign": gsp_sign("GetBalance", body)}


def test_allow_list_refuses_other_sources(redis_client: redis.Redis, prefix: str) -> None:
    """With GITSLOTPARK_ALLOWED_SOURCES set, other addresses get 403 JSON; listed ones are served."""
    client = _client(redis_client, prefix, GITSLOTPARK_ALLOWED_SOURCES="10.1.0.0/16, 192.0.2.7")
    Operator(client).create("p1")
    outside = client.post("/gitslotpark/GetBalance", json=_balance_body("p1"))
    assert (outside.status_code, outside.get_json()["error"]) == (403, "forbidden_source")
    inside = client.post("/gitslotpark/GetBalance", json=_balance_body("p1"), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.get_json()["result"] == 0


def test_forwarded_for_trusted_only_as_far_as_configured(redis_client: redis.Redis, prefix: str) -> None:
    """Behind one proxy the router's X-Forwarded-For names the caller; a forged earlier hop does not help."""
    client = _client(redis_client, prefix, IGAMINGACE_ALLOWED_SOURCES="198.51.100.10", TRUSTED_PROXIES="1")
    Operator(client).create("p1")
    Operator(client).sign_in("p1")
    ace = Ace(client)
    router = {"REMOTE_ADDR": "10.0.0.1"}
    ace.client.environ_base = {**router, "HTTP_X_FORWARDED_FOR": "198.51.100.10"}
    assert ace.balance("p1")["statusCode"] == "OK"
    forged = client.post(
        "/igamingace", json={}, environ_base=router, headers={"X-Forwarded-For": "198.51.100.10, 203.0.113.9"}
    )
    assert forged.status_code == 403  # the router appended the real caller, 203.0.113.9


def test_without_trusted_proxies_the_header_is_ignored(redis_client: redis.Redis, prefix: str) -> None:
    """With TRUSTED_PROXIES unset a caller cannot claim an allowed address through X-Forwarded-For."""
    client = _client(redis_client, prefix, GITSLOTPARK_ALLOWED_SOURCES="198.51.100.10")
    response = client.post(
        "/gitslotpark/GetBalance", json=_balance_body("p1"), headers={"X-Forwarded-For": "198.51.100.10"}
    )
    assert response.status_code == 403


def test_other_surfaces_unaffected(redis_client: redis.Redis, prefix: str) -> None:
    """An allow-list on one provider leaves the other provider and the operator API alone."""
    client = _client(redis_client, prefix, GITSLOTPARK_ALLOWED_SOURCES="10.0.0.0/8")
    operator = Operator(client)
    assert operator.create("p1").status_code == 201
    operator.sign_in("p1")
    assert Ace(client).balance("p1")["statusCode"] == "OK"
    assert Provider(client).client.post("/gitslotpark/GetBalance", json={}).status_code == 403


def test_secrets_compared_in_constant_time() -> None:
    """Signs, signatures, agent ids, API keys and the operator key are compared with hmac.compare_digest only."""
    for module in (gitslotpark, igamingace, staff, backoffice):
        source = inspect.getsource(module)
        assert "compare_digest" in source
        assert "== given" not in source and "given ==" not in source
