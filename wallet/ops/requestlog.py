"""Request lines and callback metrics, written in batches: at most FLUSH_SECONDS late.

A request hands its finished observation to ``add`` (a deque append); a daemon thread of the
process writes what is pending every FLUSH_SECONDS, as does a full batch, ``flush()`` (tests,
/metrics) and the process's exit. Each request still gets its own log line: a batch is one
LogRecord whose formatter writes one line per request (wallet.ops.observe). Batching is what keeps
the observation cheap (bench/TUNING.md): one logging call, one lock and one write per batch
instead of per callback. A worker killed hard (SIGKILL) loses the lines of its last FLUSH_SECONDS;
the ledger, not the log, is the record of money.
"""

from __future__ import annotations

import atexit
import collections
import functools
import logging
import os
import threading
import time
from typing import Any

from wallet.ops import metrics

FLUSH_SECONDS = 0.2
MAX_BATCH = 256  # a busy worker writes this many lines at once, without waiting for the timer

log = logging.getLogger("wallet.request")
#: (unix time, request id, method, WSGI path, status, seconds, provider or None, operation,
#: player, tx, outcome code or None): the raw values, turned into a line when written
Item = tuple[float, str, str, str, int, float, str | None, str | None, object, object, str | None]
_pending: collections.deque[Item] = collections.deque()
_flusher_pid = 0
_flushing = threading.Lock()


def add(item: Item) -> None:
    """Queue one finished request; written within FLUSH_SECONDS."""
    if _flusher_pid != os.getpid():
        _start_flusher()
    _pending.append(item)
    if len(_pending) >= MAX_BATCH:
        flush()


def flush() -> None:
    """Write every pending line and count every pending metric sample now."""
    with _flushing:
        lines = []
        while _pending:
            lines.append(_counted(_pending.popleft()))
        if lines:
            log.info("requests", extra={"lines": lines})


def _counted(item: Item) -> dict[str, Any]:
    """Count the request in the metrics; its log line's fields."""
    at, request_id, method, path, status, seconds, provider, operation, player, tx, code = item
    if provider is not None:
        counter, latency = _callback_metrics(provider, operation or "unknown", code or str(status))
        counter.inc()
        latency.observe(seconds)
    if status == 503:
        metrics.UNAVAILABLE.labels(provider or "api").inc()
    return {
        "ts": round(at, 3),
        "request_id": request_id,
        "method": method,
        "path": path.encode("latin-1", "replace").decode("utf-8", "replace"),  # WSGI's str is latin-1
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "provider": provider,
        "operation": operation,
        "player": player,
        "tx": tx,
        "outcome": code,
    }


def _start_flusher() -> None:
    """One flusher thread per process (a forked gunicorn worker starts its own)."""
    global _flusher_pid
    with _flushing:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="wallet-requestlog", daemon=True).start()


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush()
        except Exception:  # keep flushing; the next batch may go through
            log.exception("request lines could not be written")


@functools.cache
def _callback_metrics(provider: str, operation: str, code: str) -> tuple[Any, Any]:
    """The counter and histogram children of one label set (labels() looked up once)."""
    return metrics.CALLBACKS.labels(provider, operation, code), metrics.LATENCY.labels(provider, operation)


atexit.register(flush)
