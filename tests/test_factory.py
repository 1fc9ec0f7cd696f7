"""create_app and configuration: defaults, provider switches, and one clear line per bad setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_env
from wallet import config, create_app
from wallet.errors import ConfigError
from wallet.providers.gitslotpark.settings import DEMO_AGENT

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_embedded_defaults_use_demo_credentials() -> None:
    """With no REDIS_URL the demo operator key and GitSlotPark account are filled in."""
    settings = config.load({})
    assert settings.embedded
    assert settings.operator_api_key == config.DEMO_OPERATOR_KEY
    assert [gsp.agent_id for gsp in settings.accounts["gitslotpark"]] == [DEMO_AGENT]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REDIS_URL": "redis://localhost"}, "OPERATOR_API_KEY"),
        ({"REDIS_URL": "redis://localhost", "OPERATOR_API_KEY": "short"}, "OPERATOR_API_KEY"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"GITSLOTPARK_DUPLICATE_RESULT": "7"}, "GITSLOTPARK_DUPLICATE_RESULT"),
        ({"WALLET_KEY_PREFIX": "a:b"}, "WALLET_KEY_PREFIX"),
        ({"GITSLOTPARK_DIALECT": "v3"}, "GITSLOTPARK_DIALECT"),
        ({"IGAMINGACE_REPLAY_WINDOW": "-5"}, "IGAMINGACE_REPLAY_WINDOW"),
        ({"WALLET_SESSION_SECONDS": "0"}, "WALLET_SESSION_SECONDS"),
        ({"WALLET_SESSION_SECONDS": "1h"}, "WALLET_SESSION_SECONDS"),
        ({"WALLET_RETENTION": "2 days"}, "WALLET_RETENTION"),
        ({"WALLET_RETENTION": "-1h"}, "WALLET_RETENTION"),
        ({"WALLET_RETENTION_DAYS": "1.5"}, "WALLET_RETENTION_DAYS"),
        ({"WALLET_AGED_HORIZON": "1m"}, "WALLET_AGED_HORIZON"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], variable: str) -> None:
    """A missing or malformed setting raises ConfigError whose message starts with its name."""
    with pytest.raises(ConfigError, match=f"^{variable}: "):
        config.load(env)


@pytest.mark.parametrize(
    ("env", "seconds"),
    [
        ({}, 24 * 3600),
        ({"WALLET_RETENTION": "30s"}, 30),
        ({"WALLET_RETENTION": "15m"}, 900),
        ({"WALLET_RETENTION": "48h"}, 48 * 3600),
        ({"WALLET_RETENTION": "7d"}, 7 * 86400),
        ({"WALLET_RETENTION": "90"}, 90),
        ({"WALLET_RETENTION_DAYS": "3"}, 3 * 86400),
        ({"WALLET_RETENTION_DAYS": "3", "WALLET_RETENTION": "2h"}, 7200),
    ],
)
def test_retention_durations(env: dict[str, str], seconds: int) -> None:
    """WALLET_RETENTION takes 30s/15m/48h/7d; WALLET_RETENTION_DAYS is an alias it overrides."""
    assert config.load(env).retention.total_seconds() == seconds


def test_igamingace_disabled_without_token(redis_client, prefix) -> None:  # type: ignore[no-untyped-def]
    """Outside embedded mode, no IGAMINGACE_API_TOKEN means no /igamingace route (404 JSON)."""
    env = make_env(prefix)
    del env["IGAMINGACE_API_TOKEN"]
    response = create_app(env, client=redis_client).test_client().post("/igamingace", json={})
    assert response.status_code == 404


def test_gitslotpark_disabled_without_credentials(redis_client, prefix) -> None:  # type: ignore[no-untyped-def]
    """Outside embedded mode, no agent id or key means no GitSlotPark routes (404 JSON)."""
    env = make_env(prefix)
    del env["GITSLOTPARK_SECRET_KEY"]
    client = create_app(env, client=redis_client).test_client()
    response = client.post("/gitslotpark/GetBalance", json={})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_gunicorn_refuses_bad_setting_with_one_line() -> None:
    """`gunicorn app:app` with a missing operator key exits at once with one line naming it."""
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:1"}
    run = subprocess.run([str(GUNICORN), "app:app"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stderr.strip() == "OPERATOR_API_KEY: required when REDIS_URL is set"


def test_gunicorn_refuses_embedded_store_in_several_workers() -> None:
    """The embedded store lives in one process: `gunicorn app:app` with 3 workers and no REDIS_URL is refused."""
    env = {"PATH": "/usr/bin:/bin", "WEB_CONCURRENCY": "3"}
    run = subprocess.run([str(GUNICORN), "app:app"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stderr.strip().startswith("REDIS_URL: not set")


def test_unknown_route_is_json(client) -> None:  # type: ignore[no-untyped-def]
    """Unknown paths and methods answer JSON errors, never HTML."""
    assert client.get("/nope").get_json()["error"] == "not_found"
    response = client.get("/gitslotpark/GetBalance")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    """/healthz answers 200 while Redis answers."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
