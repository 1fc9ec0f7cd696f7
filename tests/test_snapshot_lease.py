"""Two snapshot workers at once (a PaaS deploy overlaps them): one drains, the other waits its turn
quietly and takes over when the first stops; every entry reaches SQL exactly once."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import Provider
from wallet.ledger import db
from wallet.ledger.snapshot import run


def _worker(app: Flask, engine: Engine) -> tuple[threading.Thread, threading.Event]:
    store, stop = app.extensions["wallet"].store, threading.Event()
    thread = threading.Thread(target=run, args=(store, engine, 0.02, timedelta(days=1), stop))
    thread.start()
    return thread, stop


def _messages(log_lines: io.StringIO) -> list[str]:
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    return [line["message"] for line in lines if line["logger"] == "wallet.snapshot"]


def test_two_workers_drain_under_traffic(
    app: Flask, engine: Engine, operator: object, gsp: Provider, log_lines: io.StringIO
) -> None:
    """Under traffic, the second worker says once that it waits, no SQL error is logged, it takes
    over when the first stops, and SQL ends with each ledger entry once."""
    operator.create("p1", balance="1000.00")  # type: ignore[attr-defined]
    store = app.extensions["wallet"].store
    first, stop_first = _worker(app, engine)
    deadline = time.monotonic() + 10
    while store.client.get(f"{store.prefix}:snapshot:lease") is None and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first holds the lease
    second, stop_second = _worker(app, engine)
    for i in range(60):
        gsp.withdraw("p1", "1.00", f"t{i}")
        time.sleep(0.005)
    stop_first.set()
    first.join(10)
    for i in range(60, 80):
        gsp.withdraw("p1", "1.00", f"t{i}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "snapshot: lease taken; draining" not in _messages(log_lines):
        time.sleep(0.05)
    time.sleep(0.3)  # a few ticks of the second worker
    stop_second.set()
    second.join(10)
    messages = _messages(log_lines)
    assert messages.count("snapshot: another worker holds the lease; waiting for its turn") == 1
    assert "snapshot: lease taken; draining" in messages
    assert not [m for m in messages if "unavailable" in m]
    with engine.connect() as conn:
        bets = conn.execute(
            sa.select(db.ledger_entries.c.tx).where(db.ledger_entries.c.kind == "bet").order_by(db.ledger_entries.c.seq)
        ).scalars()
        assert sorted(bets) == sorted(f"t{i}" for i in range(80))
