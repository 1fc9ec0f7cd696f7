"""Per-request observation: a request id, one structured log line, and the callback metrics.

Adapters describe a callback with ``describe(provider, operation, player, tx)`` and
``outcome(code)``; the after-request hook turns that into metrics and the log line. The line
never carries secrets, signatures or bodies: only the fields named in ``_FIELDS``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from wallet import metrics

log = logging.getLogger("wallet.request")
_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "provider", "operation", "player", "tx", "outcome")


def describe(provider: str, operation: str, player: object = None, tx: object = None) -> None:
    """Name the callback being served (for the log line and the metrics)."""
    g.callback = {"provider": provider, "operation": operation, "player": player, "tx": tx}


def outcome(code: object) -> None:
    """The wire code the callback answers (result code or statusCode)."""
    g.outcome = str(code)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for the PaaS's log drain."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name}
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal (`make run`)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        if not fields:
            return super().format(record)
        parts = [f"{k}={v}" for k, v in fields.items() if v not in (None, "") and k not in ("method", "path")]
        return f"{time.strftime('%H:%M:%S')} {fields['method']} {fields['path']} " + " ".join(parts)


def configure(fmt: str | None = None) -> None:
    """Log wallet.* to stderr: JSON, or text when ``fmt`` is 'text' or stderr is a terminal."""
    root = logging.getLogger("wallet")
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    text = fmt == "text" or (fmt is None and sys.stderr.isatty())
    handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(message)s") if text else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if 0 < len(given) <= 200 and given.isprintable() else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    callback: dict[str, Any] = g.get("callback") or {}
    code = g.get("outcome") or ("503" if response.status_code == 503 else None)
    if callback:
        metrics.CALLBACKS.labels(callback["provider"], callback["operation"], code or str(response.status_code)).inc()
        metrics.LATENCY.labels(callback["provider"], callback["operation"]).observe(elapsed)
    if response.status_code == 503:
        metrics.UNAVAILABLE.labels(callback.get("provider") or "api").inc()
    fields = {
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(elapsed * 1000, 2),
        **callback,
        "outcome": code,
    }
    log.info("request", extra={"fields": {k: fields.get(k) for k in _FIELDS}})
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response
