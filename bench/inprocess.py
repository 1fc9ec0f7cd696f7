"""CPU per callback in one quiet process: the wallet's WSGI app called directly, against the floor.

No HTTP server and no wrk: the WSGI apps are called in a loop on a real Redis (REDIS_URL, default
redis://127.0.0.1:6379/15; its keys under 'inproc:' are removed at the end), so the figures are
the Python cost alone. Prints, median of BENCH_ALTERNATIONS (8) alternations of 2,000 calls each:
  - the floor (bench/minimal_app.py /b) and the wallet's Withdraw and GetBalance, and their ratio;
  - the observation's cost: the wallet with its request hooks against the same app whose hooks
    only make the Observation object the views need (no id, no log line, no metrics).
Run: .venv/bin/python bench/inprocess.py  (REDIS_URL=redis://127.0.0.1:6379/15 to choose the db)
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="wallet-inproc-"))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import logging

import minimal_app
from flask import g

from wallet import create_app
from wallet.core.wallet import Move
from wallet.ops import observe, requestlog
from wallet.sim.providers import Cents, GitSlotPark

CALLS, ALTERNATIONS = 2000, int(os.environ.get("BENCH_ALTERNATIONS", "8"))
AGENT, SECRET = "inproc-agent", "inproc-secret"
ENV = {
    "REDIS_URL": os.environ["REDIS_URL"],
    "OPERATOR_API_KEY": "inproc-operator-key-0123",
    "GITSLOTPARK_AGENT_ID": AGENT,
    "GITSLOTPARK_SECRET_KEY": SECRET,
    "WALLET_KEY_PREFIX": "inproc",
    "DATABASE_URL": "sqlite://",
    "WALLET_FILE_DATABASE": "1",  # the benchmark's throwaway ledger
    "LOG_FORMAT": "json",
}
Request = tuple[str, bytes]


def environ(path: str, body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
    }


def cpu_per_call(app: Callable[..., Any], requests: list[Request]) -> float:
    """Process CPU (every thread: the request-line flusher included) per call, in microseconds."""
    start = time.process_time()
    for path, body in requests:
        b"".join(app(environ(path, body), lambda *_: None))
    requestlog.flush()
    return (time.process_time() - start) / len(requests) * 1e6


class Traffic:
    """Pre-signed GitSlotPark bodies, a fresh transaction id each."""

    def __init__(self) -> None:
        self.gsp, self.n = GitSlotPark("", AGENT, SECRET), 0

    def withdraw(self) -> list[Request]:
        out = []
        for _ in range(CALLS):
            self.n += 1
            player, tx, rnd = f"p{self.n % 100}", f"t{self.n}", f"r{self.n}"
            body = {"agentID": AGENT, "userID": player, "amount": "1.00", "transactionID": tx, "roundID": rnd}
            body["sign"] = self.gsp.sign(AGENT, player, Cents(100), tx, rnd)
            out.append(("/gitslotpark/Withdraw", json.dumps(body).encode()))
        return out

    def balance(self) -> list[Request]:
        out = []
        for i in range(CALLS):
            player = f"p{i % 100}"
            body = {"agentID": AGENT, "userID": player, "sign": self.gsp.sign(AGENT, player)}
            out.append(("/gitslotpark/GetBalance", json.dumps(body).encode()))
        return out


def main() -> None:
    app = create_app(ENV)
    logging.getLogger("wallet").handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115
    wallet = app.extensions["wallet"].wallet
    for i in range(100):
        wallet.create_player(f"p{i}", "EUR")
        wallet.credit(Move("cashier", f"p{i}", f"seed-{time.time_ns()}", win=10**12), kind="deposit")
    floor = [("/b", b'{"agentID":"x","userID":"p1","sign":"00"}')] * CALLS
    traffic = Traffic()
    hooks = (app.before_request_funcs[None], app.after_request_funcs[None])
    bare = ([lambda: setattr(g, "observation", observe.Observation("bench", 0.0))], [lambda response: response])
    rows: dict[str, list[float]] = {k: [] for k in ("floor", "withdraw", "balance", "observed", "bare")}
    for _ in range(ALTERNATIONS):
        rows["floor"].append(cpu_per_call(minimal_app.app.wsgi_app, floor))
        rows["withdraw"].append(cpu_per_call(app.wsgi_app, traffic.withdraw()))
        rows["balance"].append(cpu_per_call(app.wsgi_app, traffic.balance()))
        rows["observed"].append(cpu_per_call(app.wsgi_app, traffic.balance()))
        app.before_request_funcs[None], app.after_request_funcs[None] = bare
        rows["bare"].append(cpu_per_call(app.wsgi_app, traffic.balance()))
        app.before_request_funcs[None], app.after_request_funcs[None] = hooks
    client = app.extensions["wallet"].store.client
    for key in client.scan_iter("inproc:*", count=1000):
        client.delete(key)
    mid = {k: median(v) for k, v in rows.items()}
    cost = median(a - b for a, b in zip(rows["observed"], rows["bare"], strict=True))
    print(f"CPU per call in one process, median of {ALTERNATIONS} x {CALLS:,}:")
    print(f"  floor (minimal app /b)      {mid['floor']:6.0f} us")
    print(f"  wallet Withdraw             {mid['withdraw']:6.0f} us  ({mid['withdraw'] / mid['floor']:.2f}x the floor)")
    print(f"  wallet GetBalance           {mid['balance']:6.0f} us  ({mid['balance'] / mid['floor']:.2f}x the floor)")
    print(f"  observation (id, line, metrics) per callback: {cost:.1f} us (GetBalance with vs without)")


if __name__ == "__main__":
    main()
