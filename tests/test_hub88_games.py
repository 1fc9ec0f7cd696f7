"""Hub88's Games API through the operator API, against a real loopback server speaking it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from tests import fake_platforms
from tests.conftest import Operator, make_env
from tests.hub88 import Hub88, env, key, private_pem
from wallet import create_app

OPERATOR_ID = 4242


@pytest.fixture
def platform() -> Iterator[fake_platforms.FakePlatform]:
    fake = fake_platforms.hub88(key("operator"), OPERATOR_ID)
    yield fake
    fake.close()


@pytest.fixture
def app(redis_client: redis.Redis, prefix: str, database_url: str, platform: Any) -> Iterator[Flask]:
    variables = {
        **env(),
        "HUB88_PRIVATE_KEY": private_pem(key("operator")),
        "HUB88_OPERATOR_ID": str(OPERATOR_ID),
        "HUB88_API_URL": platform.url,
        "PLATFORM_API_TIMEOUT": "1",
    }
    app = create_app(make_env(prefix, database_url, **variables), client=redis_client)
    yield app
    app.extensions["wallet"].db.dispose()


def _launch(operator: Operator, **body: Any) -> Any:
    body = {"provider": "hub88", "gameId": "clt_dragonrising", "country": "DE", **body}
    return operator.client.post("/api/v1/players/p1/launch", json=body, headers=operator.headers)


def test_launch_passes_a_session_token(operator: Operator, platform: Any, client: Any) -> None:
    """The signed game/url call carries a fresh token; once the URL is back that token opens the
    player's session, so Hub88's balance and bet calls with it are answered."""
    operator.create("p1", balance="5.00")
    response = _launch(operator, platform="mobile", returnUrl="https://casino.example/lobby", ip="203.0.113.9")
    assert response.status_code == 200, response.get_json()
    _, path, raw, _ = platform.calls[-1]
    sent = json.loads(raw)
    assert path == "/operator/generic/v2/game/url"
    assert (sent["user"], sent["currency"], sent["country"], sent["platform"]) == ("p1", "EUR", "DE", "GPL_MOBILE")
    assert (sent["operator_id"], sent["lobby_url"], sent["ip"]) == (
        OPERATOR_ID,
        "https://casino.example/lobby",
        "203.0.113.9",
    )
    assert response.get_json()["url"].endswith(f"token={sent['token']}&n=1")
    hub = Hub88(client)
    assert hub.balance("p1", sent["token"])["balance"] == 500000
    assert hub.bet("p1", sent["token"], 100000, "b1")["balance"] == 400000


def test_launch_refused_opens_nothing(operator: Operator, platform: Any, client: Any) -> None:
    """Hub88 refusing the launch (its 4xx error) is a 502 naming it; no session opens."""
    operator.create("p1", balance="5.00")
    platform.mode = "reject"
    response = _launch(operator)
    assert response.status_code == 502
    assert "isn't enabled" in response.get_json()["message"]
    _, _, raw, _ = platform.calls[-1]
    assert Hub88(client).balance("p1", json.loads(raw)["token"])["status"] == "RS_ERROR_INVALID_TOKEN"


def test_launch_needs_a_country(operator: Operator) -> None:
    """Hub88 launches need the player's country (ISO 3166-1 alpha-2): a 422 naming it, missing or not."""
    operator.create("p1", balance="5.00")
    body = {"provider": "hub88", "gameId": "g"}
    response = operator.client.post("/api/v1/players/p1/launch", json=body, headers=operator.headers)
    assert response.status_code == 422 and "country" in response.get_json()["message"]
    wrong = _launch(operator, country="Germany")
    assert wrong.status_code == 422 and "country" in json.dumps(wrong.get_json())


def test_game_list(operator: Operator, platform: Any) -> None:
    """The game list comes from Hub88's signed game/list call, trimmed to what the operator shows."""
    response = operator.client.get("/api/v1/games?provider=hub88", headers=operator.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == [
        {
            "game_code": "clt_dragonrising",
            "name": "Dragon Rising",
            "category": "Video Slots",
            "product": "Caleta",
            "enabled": True,
        }
    ]


def test_free_rounds_not_offered(operator: Operator) -> None:
    """Free rounds are Hub88's Freebets API, not wired: a grant is refused with a message saying so."""
    operator.create("p1", balance="5.00")
    body = {"provider": "hub88", "gameId": "g", "spins": 5}
    response = operator.client.post("/api/v1/players/p1/free-spins", json=body, headers=operator.headers)
    assert response.status_code == 502 and "Freebets" in response.get_json()["message"]
