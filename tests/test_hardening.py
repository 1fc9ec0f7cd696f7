"""The back office's hardening: security headers on every page, Secure cookies over HTTPS (the
proxy's word taken only from TRUSTED_PROXIES), the idle timeout, CSRF on the login form, and the
throttle of failed sign-ins and bearer keys shared by two workers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from tests.conftest import OPERATOR_KEY, csrf_of, make_env, sign_in, together
from wallet import create_app
from wallet.ledger import db
from wallet.operator import staff, throttle

PASSWORD = "correct horse battery"
PAGES = ("/backoffice/login", "/backoffice/", "/backoffice/players/p1", "/backoffice/reports", "/backoffice/health")


def _app(redis_client: redis.Redis, prefix: str, database_url: str, **extra: str) -> Flask:
    return create_app(make_env(prefix, database_url, **extra), client=redis_client)


@pytest.fixture
def workers(redis_client: redis.Redis, prefix: str, database_url: str, engine: Engine) -> Iterator[tuple[Flask, Flask]]:
    """Two workers of one service: two apps on the same Redis and database."""
    with engine.begin() as conn:
        conn.execute(db.staff_users.delete())
    apps = (_app(redis_client, prefix, database_url), _app(redis_client, prefix, database_url))
    yield apps
    for app in apps:
        app.extensions["wallet"].db.dispose()


def test_headers_on_every_page(app: Flask, engine: Engine) -> None:
    """CSP without inline script or style, no framing, no sniffing, a referrer policy, no caching:
    on the login page, the signed-in pages and an error page; not on callbacks."""
    client = app.test_client()
    sign_in(client)
    for path in (*PAGES, "/backoffice/players/nobody"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp, path
        assert "default-src 'none'" in csp and "style-src 'self'" in csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin" and headers["Cache-Control"] == "no-store", path
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_pages_carry_no_inline_script_or_style(app: Flask, engine: Engine) -> None:
    """What the CSP forbids is not in the pages (the stylesheet is a file)."""
    client = app.test_client()
    client.post(
        "/api/v1/players", json={"id": "p1", "currency": "EUR"}, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}
    )
    sign_in(client)
    for path in PAGES:
        page = client.get(path).get_data(as_text=True)
        assert "<script" not in page and "<style" not in page and " style=" not in page, path
        assert "/backoffice/static/backoffice.css" in page


@pytest.mark.parametrize(("trusted", "secure"), [("1", True), ("0", False)])
def test_secure_cookie_over_https(
    redis_client: redis.Redis, prefix: str, database_url: str, engine: Engine, trusted: str, secure: bool
) -> None:
    """Behind a trusted proxy saying https the cookie is Secure; from an untrusted one the header is
    ignored (a client cannot talk its way into a cookie that then never comes back over plain http)."""
    app = _app(redis_client, prefix, database_url, TRUSTED_PROXIES=trusted)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    token = csrf_of(client)
    login = client.post(
        "/backoffice/login",
        data={"name": "", "password": OPERATOR_KEY, "csrf_token": token},
        headers={**forwarded, "Referer": "https://localhost/backoffice/login"},
    )
    assert login.status_code == 302
    assert ("; Secure" in login.headers["Set-Cookie"]) is secure
    app.extensions["wallet"].db.dispose()


def test_login_form_needs_its_csrf_token(app: Flask, engine: Engine) -> None:
    """A login posted from another site (no token) is refused before the key is even looked at."""
    answer = app.test_client().post("/backoffice/login", data={"name": "", "password": OPERATOR_KEY})
    assert answer.status_code == 400 and "CSRF" in answer.get_json()["message"]


def test_idle_session_ends(redis_client: redis.Redis, prefix: str, database_url: str, engine: Engine) -> None:
    """WALLET_BACKOFFICE_IDLE=1m: a session untouched for longer is signed out with a message."""
    app = _app(redis_client, prefix, database_url, WALLET_BACKOFFICE_IDLE="1m")
    client = app.test_client()
    sign_in(client)
    assert client.get("/backoffice/").status_code == 200
    with client.session_transaction("/backoffice/") as session:
        session["seen"] = time.time() - 61
    assert client.get("/backoffice/").headers["Location"].startswith("/backoffice/login")
    assert "without activity" in client.get("/backoffice/login").get_data(as_text=True)
    app.extensions["wallet"].db.dispose()


def test_failed_keys_throttled_across_workers(workers: tuple[Flask, Flask], caplog: pytest.LogCaptureFixture) -> None:
    """20 wrong bearer keys on one worker: the other answers the next wrong key 429 with
    Retry-After, but still takes the right key (a valid key is never refused because others
    failed); the failures are logged and counted, never with the key tried; the back office,
    another surface, still signs in from that address."""
    one, two = (app.test_client() for app in workers)
    before = throttle.FAILURES.labels("api")._value.get()
    with caplog.at_level(logging.WARNING, logger="wallet.auth"):
        for i in range(throttle.PER_ADDRESS):
            assert one.get("/api/v1/audit", headers={"Authorization": f"Bearer guess-{i}"}).status_code == 401
        refused = two.get("/api/v1/audit", headers={"Authorization": "Bearer guess-more"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= throttle.WINDOW
    assert refused.get_json()["error"] == "too_many_failures"
    assert two.get("/api/v1/audit", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}).status_code == 200
    assert throttle.FAILURES.labels("api")._value.get() - before == throttle.PER_ADDRESS
    assert "auth throttled: api from 127.0.0.1" in caplog.text and "guess-" not in caplog.text
    assert sign_in(two).status_code == 302


def test_failed_sign_ins_throttled_per_user(workers: tuple[Flask, Flask], engine: Engine) -> None:
    """5 wrong passwords for one name on one worker: that name is refused (429) on the other, even
    with the right password; another name from the same address still signs in."""
    staff.add_user(engine, "ann", "viewer", PASSWORD)
    staff.add_user(engine, "bob", "viewer", PASSWORD)
    one, two = (app.test_client() for app in workers)
    for _ in range(throttle.PER_USER):
        assert sign_in(one, "ann", "not the password").status_code == 401
    refused = sign_in(two, "ann", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert sign_in(two, "bob", PASSWORD).status_code == 302


def test_a_burst_of_wrong_passwords_gets_no_more_tries_than_the_limit(app: Flask, engine: Engine) -> None:
    """100 wrong passwords for one name at the same instant: exactly PER_USER are checked (401),
    every other one is refused (429) before its hash is computed."""
    staff.add_user(engine, "ann", "viewer", PASSWORD)

    def attempt(client: FlaskClient, i: int) -> int:
        return int(sign_in(client, "ann", f"wrong password {i}").status_code)

    answers = together(app, 100, lambda client: (csrf_of(client), client)[1], attempt)
    assert answers.count(401) == throttle.PER_USER and answers.count(429) == 100 - throttle.PER_USER


def test_a_right_password_gives_its_attempt_back(app: Flask, engine: Engine) -> None:
    """A successful sign-in does not count against its address, and giving an attempt back never
    re-creates a counter that expired meanwhile (no throttle key without its expiry)."""
    staff.add_user(engine, "ann", "viewer", PASSWORD)
    store = app.extensions["wallet"].store
    key = f"{store.prefix}:{{auth}}:backoffice:addr:127.0.0.1"
    assert sign_in(app.test_client(), "ann", "wrong password!!").status_code == 401
    assert sign_in(app.test_client(), "ann", PASSWORD).status_code == 302
    assert store.client.get(key) == "1" and 0 < store.client.ttl(key) <= throttle.WINDOW
    store.client.delete(key)  # the window ends between the reservation and the answer
    store.give_back_attempt("backoffice:addr:127.0.0.1")
    assert store.client.exists(key) == 0
