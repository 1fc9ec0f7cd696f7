"""Target (e) of the benchmark: a PostgreSQL row-lock wallet serving the same GitSlotPark callbacks.

What a plain SQL wallet does: check the sign, then one transaction per callback that locks the
player's row (``SELECT ... FOR UPDATE``), inserts the transaction (its id unique per player, so a
replay changes nothing) and updates the balance. No schema validation, logging or metrics. One
connection per gunicorn worker thread. Tables: bench/run.py creates them under BENCH_PG_PREFIX.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from decimal import Decimal

import psycopg
from flask import Flask, Response, request

app = Flask(__name__)
_local = threading.local()
_players, _txs = f"{os.environ['BENCH_PG_PREFIX']}_players", f"{os.environ['BENCH_PG_PREFIX']}_txs"
_secret = os.environ["GITSLOTPARK_SECRET_KEY"].encode()
_SIGNED = {
    "GetBalance": ("agentID", "userID"),
    "Withdraw": ("agentID", "userID", "amount", "transactionID", "roundID"),
    "Deposit": ("agentID", "userID", "amount", "transactionID", "roundID"),
    "BetWin": ("agentID", "userID", "betAmount", "winAmount", "transactionID", "roundID"),
    "RollbackTransaction": ("agentID", "userID", "transactionID"),
}


def _answer(result: int, balance: int | None = None) -> Response:
    body = {"result": result, "balance": f"{Decimal(balance or 0) / 100:.2f}"}
    return Response(json.dumps(body), mimetype="application/json")


def _db() -> psycopg.Connection:
    """This thread's connection (gthread workers serve several requests at once)."""
    if not hasattr(_local, "db"):
        _local.db = psycopg.connect(os.environ["BENCH_DATABASE_URL"])
    return _local.db  # type: ignore[no-any-return]


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


@app.post("/gitslotpark/<name>")
def callback(name: str) -> Response:
    body = request.get_json()
    text = "".join(str(body.get(field, "")) for field in _SIGNED[name])
    sign = hmac.new(_secret, text.encode(), hashlib.sha256).hexdigest().upper()
    if not hmac.compare_digest(sign, str(body.get("sign", "")).upper()):
        return _answer(3)
    db = _db()
    with db.transaction():
        row = db.execute(f"SELECT balance FROM {_players} WHERE player = %s FOR UPDATE", (body["userID"],)).fetchone()
        if row is None:
            return _answer(5)
        balance = row[0]
        if name == "GetBalance":
            return _answer(0, balance)
        if name == "RollbackTransaction":
            return _answer(*_rollback(db, body["userID"], body["transactionID"], balance))
        bet = _cents(body.get("amount", "0")) if name == "Withdraw" else _cents(body.get("betAmount", "0"))
        win = _cents(body.get("amount", "0")) if name == "Deposit" else _cents(body.get("winAmount", "0"))
        if balance - bet < 0:
            return _answer(6, balance)
        inserted = db.execute(
            f"INSERT INTO {_txs} (player, tx, delta) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (body["userID"], body["transactionID"], win - bet),
        ).rowcount
        if inserted:
            balance += win - bet
            db.execute(f"UPDATE {_players} SET balance = %s WHERE player = %s", (balance, body["userID"]))
        return _answer(0, balance)


def _rollback(db: psycopg.Connection, player: str, tx: str, balance: int) -> tuple[int, int]:
    found = db.execute(
        f"UPDATE {_txs} SET rolled_back = true WHERE player = %s AND tx = %s AND NOT rolled_back RETURNING delta",
        (player, tx),
    ).fetchone()
    if found is None:
        return 8, balance
    balance -= found[0]
    db.execute(f"UPDATE {_players} SET balance = %s WHERE player = %s", (balance, player))
    return 0, balance
