"""Fixtures: the app on fakeredis by default, or on the real Redis named by REDIS_URL (CI runs both)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from wallet import create_app
from wallet.core import journal
from wallet.core.store import Store, close, connect
from wallet.ledger import db
from wallet.ops import requestlog
from wallet.ops.observe import JsonFormatter

REAL_REDIS_URL = os.environ.get("REDIS_URL")
REAL_DATABASE_URL = os.environ.get("DATABASE_URL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``once`` do not use REDIS_URL (they start servers of their own: Redis,
    gunicorn, a browser, a wheel build; or touch no store at all): they run in the suite's first
    pass only (CI runs it three times)."""
    if REAL_REDIS_URL is None:
        return
    skip = pytest.mark.skip(reason="independent of REDIS_URL: runs once, in the suite's first (fakeredis) pass")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)


OPERATOR_KEY = "test-operator-key-0123456789"
AGENT = "Partner01"
SECRET = "1234567890"
ACE_TOKEN = "test-ace-token"


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_client(prefix: str) -> Iterator[redis.Redis]:
    """A fresh fakeredis server, or the real Redis with this test's keys removed afterwards."""
    if REAL_REDIS_URL is None:
        yield fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
        return
    client = connect(REAL_REDIS_URL)
    yield client
    forget(client, prefix)


def forget(client: redis.Redis, prefix: str) -> None:
    """Delete a test's keys from the real Redis and close the client."""
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
    close(client)


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str | None]:
    """With DATABASE_URL set: a database of this test session's own, dropped at the end."""
    if REAL_DATABASE_URL is None:
        yield None
        return
    server = sa.engine.make_url(db.normalise_url(REAL_DATABASE_URL))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"wallet_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(server.set(database=name))
    db.migrate(engine)
    engine.dispose()
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@functools.cache
def _sqlite_template() -> Path:
    """A migrated SQLite file, made once per test session: each app starts from a copy (the
    operator API audits into SQL, so every app needs its tables)."""
    path = Path(tempfile.mkdtemp(prefix="wallet-sql-")) / "template.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    db.migrate(engine)
    engine.dispose()
    return path


def fresh_sqlite(folder: Path | None = None) -> str:
    """The URL of a new migrated SQLite database (in ``folder``, else a temporary one)."""
    path = (folder or Path(tempfile.mkdtemp(prefix="wallet-sql-"))) / "wallet.db"
    shutil.copyfile(_sqlite_template(), path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _engines_disposed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SQL engine an app makes during a test is disposed after it, so that no PostgreSQL
    connection is left for the garbage collector to close (a ResourceWarning in a later test)."""
    made: list[Engine] = []
    real = db.connect

    def connect(url: str) -> Engine:
        made.append(real(url))
        return made[-1]

    monkeypatch.setattr(db, "connect", connect)
    yield
    for engine in made:
        engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path, _postgres_database: str | None) -> str:
    """This test's SQL database, migrated: a SQLite file, or the session's PostgreSQL database."""
    return _postgres_database or fresh_sqlite(tmp_path)


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    """The app's durable store, migrated, emptied again after the test."""
    engine = app.extensions["wallet"].db
    db.migrate(engine)
    yield engine
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


def make_env(prefix: str, database_url: str | None = None, **overrides: str) -> dict[str, str]:
    env = {
        "REDIS_URL": REAL_REDIS_URL or "redis://fakeredis.invalid:6379/0",
        "OPERATOR_API_KEY": OPERATOR_KEY,
        "GITSLOTPARK_AGENT_ID": AGENT,
        "GITSLOTPARK_SECRET_KEY": SECRET,
        "WALLET_KEY_PREFIX": prefix,
        "IGAMINGACE_API_TOKEN": ACE_TOKEN,
        "DATABASE_URL": database_url or fresh_sqlite(),
        "WALLET_FILE_DATABASE": "1",  # the suite keeps SQLite files with REDIS_URL set (CI: PostgreSQL)
    }
    env.update(overrides)
    return env


@pytest.fixture
def app(redis_client: redis.Redis, prefix: str, database_url: str) -> Iterator[Flask]:
    app = create_app(make_env(prefix, database_url), client=redis_client)
    with app.extensions["wallet"].db.begin() as conn:  # PostgreSQL's are shared by the test session
        for table in (db.audit_log, db.api_keys, db.staff_users):
            conn.execute(table.delete())
    yield app
    app.extensions["wallet"].db.dispose()


@pytest.fixture
def wallet_on(prefix: str, tmp_path: Path) -> Iterator[object]:
    """A function building the wallet on a Redis URL of the test's own server (its clients closed
    afterwards)."""
    apps: list[Flask] = []

    def build(url: str, **env: str) -> Flask:
        app = create_app(make_env(prefix, fresh_sqlite(tmp_path), REDIS_URL=url, **env))
        apps.append(app)
        return app

    yield build
    for app in apps:
        close(app.extensions["wallet"].store.client)
        app.extensions["wallet"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


#: Journal entries that record a balance change (the others: open, status, marker).
MONEY_KINDS = frozenset({"bet", "win", "betwin", "rollback", "cancel", "deposit", "withdrawal", "adjustment"})


def money_entries(app: Flask, client: redis.Redis, player: str) -> list[dict[str, str]]:
    """The player's balance-changing ledger entries, oldest first, straight from the stream."""
    key = app.extensions["wallet"].store.keys(player).ledger
    entries = (journal.expand(e) for _, e in client.xrange(key))
    return [e for e in entries if e.get("player") == player and e["kind"] in MONEY_KINDS]


def csrf_of(client: FlaskClient, page: str = "/backoffice/login") -> str:
    """The CSRF token a back-office page puts in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).get_data(as_text=True))
    assert found, f"no CSRF token on {page}"
    return found[1]


def sign_in(client: FlaskClient, name: str = "", password: str = OPERATOR_KEY, code: str = "") -> Any:
    """Post the back-office login form (empty name: the operator key as password)."""
    form = {"name": name, "password": password, "code": code, "csrf_token": csrf_of(client)}
    return client.post("/backoffice/login", data=form)


def old_player(store: Store, player: str, currency: str, hundredths: int) -> None:
    """A player as earlier versions stored it: no unit (hundredths), and an opening entry without one."""
    keys = store.keys(player)
    store.client.hset(keys.account, mapping={"balance": hundredths, "currency": currency, "status": "active"})
    opening = {"kind": "open", "amount": "0", "balance": str(hundredths), "currency": currency}
    store.client.xadd(keys.ledger, {**opening, "status": "active", "player": player})


class Operator:
    """The operator API as a test calls it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}

    def create(self, player: str, currency: str = "EUR", balance: str | None = None) -> Any:
        response = self.client.post("/api/v1/players", json={"id": player, "currency": currency}, headers=self.headers)
        if balance is not None:
            self.deposit(player, balance, key=f"seed-{player}")
        return response

    def deposit(self, player: str, amount: Any, key: str) -> Any:
        return self.client.post(
            f"/api/v1/players/{player}/deposits",
            json={"amount": amount},
            headers={**self.headers, "Idempotency-Key": key},
        )

    def withdraw(self, player: str, amount: Any, key: str) -> Any:
        return self.client.post(
            f"/api/v1/players/{player}/withdrawals",
            json={"amount": amount},
            headers={**self.headers, "Idempotency-Key": key},
        )

    def status(self, player: str, status: str) -> Any:
        return self.client.patch(f"/api/v1/players/{player}", json={"status": status}, headers=self.headers)

    def balance(self, player: str) -> str:
        return self.client.get(f"/api/v1/players/{player}", headers=self.headers).get_json()["balance"]

    def sign_in(self, player: str) -> Any:
        return self.client.post(f"/api/v1/players/{player}/sessions", headers=self.headers)

    def sign_out(self, player: str) -> Any:
        return self.client.delete(f"/api/v1/players/{player}/sessions", headers=self.headers)


@pytest.fixture
def operator(client: FlaskClient) -> Operator:
    return Operator(client)


#: The fields of each GitSlotPark callback's sign input, in order.
SIGN_FIELDS = {
    "GetBalance": ("agentID", "userID"),
    "Withdraw": ("agentID", "userID", "amount", "transactionID", "roundID"),
    "Deposit": ("agentID", "userID", "amount", "transactionID", "roundID"),
    "BetWin": ("agentID", "userID", "betAmount", "winAmount", "transactionID", "roundID"),
    "RollbackTransaction": ("agentID", "userID", "transactionID"),
}


def gsp_sign(operation: str, body: dict[str, Any], secret: str = SECRET) -> str:
    """The sign a real GitSlotPark would send (amounts with exactly two decimals)."""
    parts = []
    for name in SIGN_FIELDS[operation]:
        value = body[name]
        parts.append(f"{Decimal(str(value)):.2f}" if name in ("amount", "betAmount", "winAmount") else str(value))
    text = "".join(parts).encode("utf-8", "surrogatepass")  # hostile tests send lone surrogates too
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest().upper()


class Provider:
    """GitSlotPark as a test plays it (one account): signed callbacks, JSON replies with exact numbers."""

    def __init__(self, client: FlaskClient, agent: str = AGENT, secret: str = SECRET) -> None:
        self.client, self.agent, self.secret = client, agent, secret

    def call(self, operation: str, sign: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"agentID": self.agent, **fields}
        body["sign"] = sign if sign is not None else gsp_sign(operation, body, self.secret)
        response = self.client.post(f"/gitslotpark/{operation}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.exact = json.loads(response.get_data(), parse_float=Decimal)  # the last reply, numbers exact
        return response.get_json()  # type: ignore[no-any-return]

    def balance(self, user: str) -> dict[str, Any]:
        return self.call("GetBalance", userID=user)

    def withdraw(self, user: str, amount: Any, tx: str, round_id: str = "r1", **extra: Any) -> dict[str, Any]:
        return self.call("Withdraw", userID=user, amount=amount, transactionID=tx, roundID=round_id, **extra)

    def deposit(self, user: str, amount: Any, tx: str, round_id: str = "r1") -> dict[str, Any]:
        return self.call("Deposit", userID=user, amount=amount, transactionID=tx, roundID=round_id)

    def bet_win(self, user: str, bet: Any, win: Any, tx: str, round_id: str = "r1") -> dict[str, Any]:
        return self.call("BetWin", userID=user, betAmount=bet, winAmount=win, transactionID=tx, roundID=round_id)

    def rollback(self, user: str, tx: str) -> dict[str, Any]:
        return self.call("RollbackTransaction", userID=user, transactionID=tx)


@pytest.fixture
def gsp(client: FlaskClient) -> Provider:
    return Provider(client)


def ace_json(body: dict[str, Any]) -> str:
    """JSON text with Decimal values written as number tokens exactly as given (12.30 stays 12.30)."""
    parts = [f"{json.dumps(k)}:{v if isinstance(v, Decimal) else json.dumps(v)}" for k, v in body.items()]
    return "{" + ",".join(parts) + "}"


def ace_sign(body: dict[str, Any], token: str = ACE_TOKEN) -> str:
    """The X-Request-Signature iGamingAce's JavaScript would compute for this body."""
    rendered = {k: json.dumps(v) if isinstance(v, bool) or v is None else str(v) for k, v in body.items()}
    text = ",".join(rendered[k] for k in sorted(rendered)).encode("utf-8", "surrogatepass")  # hostile tests too
    return base64.b64encode(hmac.new(token.encode(), text, hashlib.sha512).digest()).decode()


class Ace:
    """iGamingAce as a test plays it (one account): signed commands with a fresh timestamp."""

    def __init__(self, client: FlaskClient, path: str = "/igamingace", token: str = ACE_TOKEN) -> None:
        self.client, self.path, self.token = client, path, token

    def send(self, body: dict[str, Any], signature: str | None = None) -> dict[str, Any]:
        headers = {"X-Request-Signature": signature if signature is not None else ace_sign(body, self.token)}
        response = self.client.post(self.path, data=ace_json(body), headers=headers, content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)
        self.exact = json.loads(response.get_data(), parse_float=Decimal)  # the last reply, numbers exact
        return response.get_json()  # type: ignore[no-any-return]

    def call(self, command: str, **fields: Any) -> dict[str, Any]:
        return self.send({"command": command, **fields, "timestamp": int(time.time())})

    def balance(self, player: str) -> dict[str, Any]:
        return self.call("balance", playerId=player)

    def bet(self, player: str, amount: str, tx: int, round_id: int = 1, currency: str = "EUR") -> dict[str, Any]:
        return self.call(
            "bet",
            transactionId=tx,
            playerId=player,
            roundId=round_id,
            providerId="prov",
            gameCode="slot-1",
            currency=currency,
            amount=Decimal(amount),
            isBonusBusy=False,
            bonusId=None,
        )

    def win(self, player: str, amount: str, tx: int, round_id: int = 1) -> dict[str, Any]:
        return self.call(
            "win",
            transactionId=tx,
            playerId=player,
            roundId=round_id,
            providerId="prov",
            gameCode="slot-1",
            amount=Decimal(amount),
            isRoundFinished=True,
        )

    def bet_win(self, player: str, bet: str, win: str, tx: int, round_id: int = 1) -> dict[str, Any]:
        return self.call(
            "betwin",
            transactionId=tx,
            playerId=player,
            roundId=round_id,
            providerId="prov",
            gameCode="slot-1",
            betAmount=Decimal(bet),
            winAmount=Decimal(win),
        )

    def cancel(self, player: str, tx: int, reference: int | None = None, round_id: int = 1) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "transactionId": tx,
            "playerId": player,
            "roundId": round_id,
            "providerId": "prov",
            "gameCode": "slot-1",
        }
        if reference is not None:
            fields["referenceId"] = reference
        return self.call("cancel", **fields)


@pytest.fixture
def ace(client: FlaskClient) -> Ace:
    return Ace(client)


@pytest.fixture
def ready(operator: Operator) -> str:
    """Player p1 with 100.00 and an open game session."""
    operator.create("p1", balance="100.00")
    operator.sign_in("p1")
    return "p1"


def together(app: Flask, count: int, side: Callable[[FlaskClient], Any], call: Callable[[Any, int], Any]) -> list[Any]:
    """Run ``call(side(client), i)`` from ``count`` threads released at the same instant, each with its own client."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        caller = side(app.test_client())
        barrier.wait()
        return call(caller, i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture(autouse=True)
def _request_lines_stay_with_their_test() -> Iterator[None]:
    """Request lines are written in batches: write each test's own before the next one starts."""
    yield
    requestlog.flush()


class _FlushedOnRead(io.StringIO):
    def getvalue(self) -> str:
        requestlog.flush()
        return super().getvalue()


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the wallet logs during the test, formatted as in production (JSON); request
    lines are written in batches, so reading the stream writes the pending ones first."""
    requestlog.flush()  # earlier tests' lines go to earlier handlers
    stream = _FlushedOnRead()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("wallet")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)
