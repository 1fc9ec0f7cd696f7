"""Snapshot job under faults: killed mid-batch (exactly once in SQL), SQL unreachable (nothing lost)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from tests.conftest import Operator, Provider
from wallet.ledger import db, recovery
from wallet.ledger.snapshot import drain_once, run


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _drain_in_child_killed(app: Flask, engine: Engine, **hook: Callable[[], None]) -> None:
    """Fork; the child drains with ``hook`` SIGKILLing it at that point; wait for its death."""
    pid = os.fork()
    if pid == 0:  # child: fresh connections, then die inside the batch
        engine.dispose(close=False)
        try:
            drain_once(app.extensions["wallet"].store, engine, **hook)
        finally:
            os._exit(3)  # only reached if the hook did not kill us
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _ledger(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(db.ledger_entries.c.kind, db.ledger_entries.c.amount).order_by(db.ledger_entries.c.seq)
        ).all()
    return [(kind, amount) for kind, amount in rows]


@pytest.fixture
def played(operator: Operator, gsp: Provider) -> list[tuple[str, int]]:
    operator.create("p1", balance="50.00")
    gsp.withdraw("p1", "5.00", "t1")
    gsp.deposit("p1", "2.00", "w1")
    return [("deposit", 5000), ("bet", -500), ("win", 200)]


def test_killed_before_commit(app: Flask, engine: Engine, played: list[tuple[str, int]]) -> None:
    """SIGKILL after the rows are written but before COMMIT: SQL has none; the next run writes all once."""
    _drain_in_child_killed(app, engine, before_commit=_kill_self)
    assert _ledger(engine) == []
    drain_once(app.extensions["wallet"].store, engine)
    assert _ledger(engine) == played


def test_killed_after_commit_before_trim(
    app: Flask, engine: Engine, played: list[tuple[str, int]], gsp: Provider
) -> None:
    """SIGKILL after COMMIT but before the trim: the cursor skips what SQL has; nothing is written twice."""
    _drain_in_child_killed(app, engine, before_trim=_kill_self)
    assert _ledger(engine) == played
    gsp.withdraw("p1", "1.00", "t2")
    drain_once(app.extensions["wallet"].store, engine)
    drain_once(app.extensions["wallet"].store, engine)
    assert _ledger(engine) == [*played, ("bet", -100)]


def test_sql_unreachable_then_back(
    app: Flask, engine: Engine, played: list[tuple[str, int]], gsp: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    """With SQL down the job logs and retries, callbacks keep working, and nothing is lost or trimmed."""
    store = app.extensions["wallet"].store
    dead = db.connect("postgresql://wallet@127.0.0.1:1/nothing")
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(store, dead, 0.05, timedelta(days=120), stop))
    with caplog.at_level(logging.WARNING, logger="wallet.snapshot"):
        worker.start()
        assert gsp.withdraw("p1", "1.00", "t2")["result"] == 0  # Redis keeps serving
        stop.wait(0.3)
        stop.set()
        worker.join(5)
    assert not worker.is_alive()
    assert "SQL unavailable" in caplog.text
    drain_once(store, engine)
    assert _ledger(engine) == [*played, ("bet", -100)]
    assert recovery.check(store, engine) == (1, [])
