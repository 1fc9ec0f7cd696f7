"""Platform API clients against real loopback servers: launch, catalog, player link, free spins, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy.engine import Engine

from tests import fake_platforms
from tests.conftest import ACE_TOKEN, AGENT, SECRET, Ace, Operator, Provider, make_env
from wallet import create_app
from wallet.ledger.snapshot import drain_once

GSP_TOKEN = "gsp-platform-token"


@pytest.fixture
def gsp_platform() -> Iterator[fake_platforms.FakePlatform]:
    fake = fake_platforms.gitslotpark(AGENT, SECRET, GSP_TOKEN)
    yield fake
    fake.close()


@pytest.fixture
def ace_platform() -> Iterator[fake_platforms.FakePlatform]:
    fake = fake_platforms.igamingace(ACE_TOKEN)
    yield fake
    fake.close()


def _app(redis_client: redis.Redis, prefix: str, database_url: str, gsp: Any, ace: Any, **extra: str) -> Flask:
    env = make_env(
        prefix,
        database_url,
        GITSLOTPARK_API_URL=gsp.url,
        GITSLOTPARK_API_TOKEN=GSP_TOKEN,
        IGAMINGACE_API_URL=ace.url,
        IGAMINGACE_PLAYER_LINK_PATH="/v1/player/link",
        IGAMINGACE_BONUS_PATH="/v1/bonus/grant",
        IGAMINGACE_BONUS_STATUS_PATH="/v1/bonus/status",
        PLATFORM_API_TIMEOUT="1",
        **extra,
    )
    return create_app(env, client=redis_client)


@pytest.fixture
def app(
    redis_client: redis.Redis, prefix: str, database_url: str, gsp_platform: Any, ace_platform: Any
) -> Iterator[Flask]:
    app = _app(redis_client, prefix, database_url, gsp_platform, ace_platform)
    yield app
    app.extensions["wallet"].db.dispose()


@pytest.fixture
def player(operator: Operator) -> str:
    operator.create("p1", balance="50.00")
    return "p1"


def _launch(operator: Operator, player: str, **body: Any) -> Any:
    return operator.client.post(f"/api/v1/players/{player}/launch", json=body, headers=operator.headers)


def test_gitslotpark_launch(player: str, operator: Operator, gsp_platform: Any, ace: Ace) -> None:
    """userAuth is signed as GitSlotPark checks it; the URL comes back and the session is open."""
    assert ace.balance(player)["statusCode"] == "ERR_NOT_AUTHENTICATED"
    response = _launch(operator, player, provider="gitslotpark", gameId="slot-1", language="de")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["url"].startswith("https://games.example/play/slot-1")
    _, path, body, _ = gsp_platform.calls[-1]
    assert (path, body["userID"], body["language"]) == ("/userAuth", "p1", "de")
    assert ace.balance(player)["statusCode"] == "OK"


def test_igamingace_launch_fresh_url_each_time(player: str, operator: Operator, ace_platform: Any) -> None:
    """Every launch asks iGamingAce again (bearer token) and gets a new one-time URL."""
    body = {"provider": "igamingace", "gameId": "g7", "providerId": "prov", "returnUrl": "https://casino.example/"}
    first, second = (_launch(operator, player, **body).get_json()["url"] for _ in range(2))
    assert first != second and first.startswith("https://ace.example/launch/g7/")
    method, path, sent, headers = ace_platform.calls[-1]
    assert (method, path, sent["playerId"], sent["isStreamer"]) == ("POST", "/v1/game/launch", "p1", False)
    assert headers["Authorization"] == f"Bearer {ACE_TOKEN}"


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("reject", 502, "provider_rejected"),
        ("malformed", 502, "provider_error"),
        ("error500", 502, "provider_error"),
        ("slow", 504, "provider_timeout"),
        ("busy", 503, "provider_busy"),
    ],
)
def test_launch_failures_leave_no_session(
    player: str, operator: Operator, ace: Ace, ace_platform: Any, mode: str, status: int, error: str
) -> None:
    """Rejections, garbage, 5xx, timeouts and busy answers give a clear JSON error, fast, and no session."""
    ace_platform.mode = mode
    started = time.monotonic()
    response = _launch(operator, player, provider="igamingace", gameId="g7", providerId="prov")
    assert (response.status_code, response.get_json()["error"]) == (status, error)
    assert time.monotonic() - started < 3.5
    assert ace.balance(player)["statusCode"] == "ERR_NOT_AUTHENTICATED"


def test_busy_is_retried_with_backoff(player: str, operator: Operator, ace_platform: Any) -> None:
    """Two SERVER_IS_BUSY answers are waited out; the third attempt succeeds."""
    ace_platform.busy_left = 2
    response = _launch(operator, player, provider="igamingace", gameId="g7", providerId="prov")
    assert response.status_code == 200
    assert len(ace_platform.calls) == 3


def test_wrong_platform_token(
    redis_client: redis.Redis, prefix: str, database_url: str, gsp_platform: Any, ace_platform: Any
) -> None:
    """GitSlotPark's result 7 becomes a 502 that names the setting to check."""
    app = _app(redis_client, prefix, database_url, gsp_platform, ace_platform)
    app.extensions["wallet"].platforms["gitslotpark"][None].token = "wrong"
    operator = Operator(app.test_client())
    operator.create("p1")
    response = _launch(operator, "p1", provider="gitslotpark", gameId="slot-1")
    assert response.status_code == 502 and "GITSLOTPARK_API_TOKEN" in response.get_json()["message"]


def test_launch_validation(player: str, operator: Operator) -> None:
    """Bad language, missing providerId, unknown provider, unknown and blocked players are refused."""
    assert _launch(operator, player, provider="gitslotpark", gameId="g", language="xx").status_code == 422
    assert _launch(operator, player, provider="igamingace", gameId="g").status_code == 422
    assert _launch(operator, player, provider="acme", gameId="g").status_code == 422
    assert _launch(operator, "ghost", provider="gitslotpark", gameId="g").status_code == 404
    operator.status(player, "blocked")
    assert _launch(operator, player, provider="gitslotpark", gameId="g").status_code == 409


def test_provider_without_platform_credentials(redis_client: redis.Redis, prefix: str, database_url: str) -> None:
    """Without GITSLOTPARK_API_URL/TOKEN a GitSlotPark launch answers 422 provider_not_configured."""
    operator = Operator(create_app(make_env(prefix, database_url), client=redis_client).test_client())
    operator.create("p1")
    response = _launch(operator, "p1", provider="gitslotpark", gameId="g")
    assert (response.status_code, response.get_json()["error"]) == (422, "provider_not_configured")


def test_catalog_cached_and_stale(
    redis_client: redis.Redis, prefix: str, database_url: str, gsp_platform: Any, ace_platform: Any
) -> None:
    """The catalog is fetched once per refresh period; while the provider is down a stale copy is served."""
    app = _app(redis_client, prefix, database_url, gsp_platform, ace_platform, GAME_CATALOG_REFRESH="1")
    operator = Operator(app.test_client())
    get = lambda: operator.client.get("/api/v1/games?provider=gitslotpark", headers=operator.headers)  # noqa: E731
    first = get().get_json()
    assert (first["items"][0]["gameID"], first["stale"]) == ("slot-1", False)
    get()
    assert len(gsp_platform.calls) == 1
    time.sleep(1.1)
    gsp_platform.mode = "error500"
    assert get().get_json()["stale"] is True
    ace = operator.client.get("/api/v1/games?provider=igamingace", headers=operator.headers).get_json()
    assert ace["items"] == [{"providerId": "prov", "name": "Provider"}]
    assert operator.client.get("/api/v1/games", headers=operator.headers).status_code == 422


def test_catalog_error_without_cache(operator: Operator, gsp_platform: Any) -> None:
    """With nothing cached and the provider failing, the catalog answers a clear 502."""
    gsp_platform.mode = "malformed"
    response = operator.client.get("/api/v1/games?provider=gitslotpark", headers=operator.headers)
    assert (response.status_code, response.get_json()["error"]) == (502, "provider_error")


def test_sign_in_links_player(player: str, operator: Operator, ace_platform: Any, ace: Ace) -> None:
    """Sign-in calls iGamingAce's player link first; if it fails, no session is opened."""
    assert operator.sign_in(player).status_code == 201
    assert ace_platform.calls[-1][1:3] == ("/v1/player/link", {"playerId": "p1", "currency": "EUR"})
    operator.sign_out(player)
    ace_platform.mode = "reject"
    assert operator.sign_in(player).status_code == 502
    assert ace.balance(player)["statusCode"] == "ERR_NOT_AUTHENTICATED"


def test_free_spins_granted_recorded_and_tied(
    app: Flask, engine: Engine, player: str, operator: Operator, gsp: Provider, ace: Ace
) -> None:
    """Grants are recorded with the player; listing shows the provider's status and the callbacks tied to it."""
    post = lambda body: operator.client.post("/api/v1/players/p1/free-spins", json=body, headers=operator.headers)  # noqa: E731
    gsp_grant = post({"provider": "gitslotpark", "gameId": "slot-1", "spins": 10})
    assert gsp_grant.status_code == 201 and gsp_grant.get_json()["id"].startswith("fs-")
    ace_grant = post({"provider": "igamingace", "gameId": "g7", "spins": 5}).get_json()
    assert post({"provider": "gitslotpark", "gameId": "slot-1", "spins": 0}).status_code == 422
    gsp.withdraw("p1", "1.00", "fs-bet", freeSpin=True)
    operator.sign_in("p1")
    ace.send(
        {
            "command": "bet",
            "transactionId": 1,
            "playerId": "p1",
            "roundId": 1,
            "gameCode": "g7",
            "currency": "EUR",
            "amount": 1,
            "bonusId": ace_grant["id"],
            "timestamp": int(time.time()),
        }
    )
    drain_once(app.extensions["wallet"].store, engine)
    items = operator.client.get("/api/v1/players/p1/free-spins", headers=operator.headers).get_json()["items"]
    assert [(i["provider"], i["status"]["status"], i["callbacks"]) for i in items] == [
        ("gitslotpark", "active", 1),
        ("igamingace", "active", 1),
    ]


def test_concurrent_calls_limited(
    redis_client: redis.Redis, prefix: str, database_url: str, gsp_platform: Any, ace_platform: Any
) -> None:
    """With a limit of 3, ten simultaneous launches never have more than 3 calls in flight at iGamingAce."""
    app = _app(redis_client, prefix, database_url, gsp_platform, ace_platform, IGAMINGACE_MAX_CONCURRENT_CALLS="3")
    Operator(app.test_client()).create("p1")
    ace_platform.delay = 0.2
    barrier = threading.Barrier(10)

    def launch(_: int) -> int:
        operator = Operator(app.test_client())
        barrier.wait()
        return _launch(operator, "p1", provider="igamingace", gameId="g", providerId="prov").status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(launch, range(10)))
    assert ace_platform.max_in_flight <= 3
    assert statuses.count(200) >= 3 and set(statuses) <= {200, 503}


def test_launches_and_grants_leave_audit_rows(player: str, operator: Operator, gsp_platform: Any) -> None:
    """A launch and a free-spin grant are audited with the key that asked, refused or not."""
    assert _launch(operator, player, provider="gitslotpark", gameId="slot-1").status_code == 200
    post = lambda body: operator.client.post("/api/v1/players/p1/free-spins", json=body, headers=operator.headers)  # noqa: E731
    assert post({"provider": "gitslotpark", "gameId": "slot-1", "spins": 10}).status_code == 201
    gsp_platform.mode = "error500"
    assert post({"provider": "gitslotpark", "gameId": "slot-1", "spins": 10}).status_code == 502
    rows = operator.client.get("/api/v1/audit?player=p1", headers=operator.headers).get_json()["items"][::-1]
    found = [(r["action"], r["actor"], r["outcome"]) for r in rows if r["action"] != "player_create"]
    assert found[-3:] == [
        ("launch", "operator-key", "ok"),
        ("free_spins_grant", "operator-key", "ok"),
        ("free_spins_grant", "operator-key", "PlatformError"),
    ]
    assert "slot-1, 10 spins" in rows[-2]["detail"]


def test_catalog_cache_keys_are_the_configured_accounts(app: Flask, operator: Operator, gsp_platform: Any) -> None:
    """Any number of `currency=` values asks the provider and writes Redis only for the accounts
    configured (here one of any currency): a viewer key cannot grow Redis."""
    for currency in ("EUR", "USD", "JPY", "XYZ", "AAA"):
        query = f"/api/v1/games?provider=gitslotpark&currency={currency}"
        assert operator.client.get(query, headers=operator.headers).status_code == 200
    store = app.extensions["wallet"].store
    assert len(list(store.client.scan_iter(match=f"{store.prefix}:cache:*"))) == 1
    assert len(gsp_platform.calls) == 1
