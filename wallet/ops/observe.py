"""Per-request observation: a request id, one structured log line, and the callback metrics.

Adapters describe a callback on the request's ``Observation`` (``describe`` and ``outcome``); the
after-request hook turns it into metrics and the log line. The line never carries secrets,
signatures or bodies: only the fields built in ``_finish``. Its cost is kept small on purpose
(bench/TUNING.md): one object per request, metric children looked up once, no header parsing.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import time
from typing import Any

from flask import Flask, Response, g, request

from wallet.ops import requestlog

_ENCODE = json.JSONEncoder(default=str).encode


class Observation:
    """What one request's log line and metrics say; a callback fills in who and what."""

    __slots__ = ("operation", "outcome", "player", "provider", "request_id", "started", "tx")

    def __init__(self, request_id: str, started: float) -> None:
        self.request_id, self.started = request_id, started
        self.provider: str | None = None
        self.operation: str | None = None
        self.player: object = None
        self.tx: object = None
        self.outcome: str | None = None

    def describe(self, provider: str, operation: str, player: object = None, tx: object = None) -> None:
        """Name the callback being served (for the log line and the metrics)."""
        self.provider, self.operation, self.player, self.tx = provider, operation, player, tx


def current() -> Observation:
    """The current request's Observation (made before the view runs)."""
    return g.observation  # type: ignore[no-any-return]


def describe(provider: str, operation: str, player: object = None, tx: object = None) -> None:
    """Name the callback being served (for the log line and the metrics)."""
    current().describe(provider, operation, player, tx)


def outcome(code: object) -> None:
    """The wire code the callback answers (result code or statusCode)."""
    current().outcome = str(code)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for the PaaS's log drain (a batch of request lines: one each)."""

    def format(self, record: logging.LogRecord) -> str:
        head = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name}
        lines = getattr(record, "lines", None)
        if lines is not None:
            return "\n".join(_ENCODE({**head, **fields}) for fields in lines)
        line = {**head, **(getattr(record, "fields", None) or {"message": record.getMessage()})}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return _ENCODE(line)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal (`make run`): every value one line, control and format
    characters escaped (a user id holding a newline cannot forge a line)."""

    def format(self, record: logging.LogRecord) -> str:
        lines = getattr(record, "lines", None)
        if lines is None:
            message = record.getMessage()
            if not message.isprintable():
                record = logging.makeLogRecord({**record.__dict__, "msg": _escaped(message), "args": None})
            return super().format(record)
        return "\n".join(map(self._request, lines))

    @staticmethod
    def _request(fields: dict[str, Any]) -> str:
        skip = ("ts", "method", "path")
        parts = [f"{k}={_escaped(str(v))}" for k, v in fields.items() if v not in (None, "") and k not in skip]
        when = time.strftime("%H:%M:%S", time.localtime(fields["ts"]))
        return f"{when} {_escaped(str(fields['method']))} {_escaped(str(fields['path']))} " + " ".join(parts)


def _escaped(text: str) -> str:
    """``text`` with every non-printable character written as its escape (\\n, \\x1b, \\u202e)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text)


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
    given = request.environ.get("HTTP_X_REQUEST_ID", "")
    request_id = given if 0 < len(given) <= 200 and given.isprintable() else _new_id()
    g.observation = Observation(request_id, time.perf_counter())


def _new_id() -> str:
    """A request id unique across processes: this process's random prefix and a counter."""
    return f"{_ids.prefix}{next(_ids.counter):08x}"


class _Ids:
    """Per process (a forked worker draws its own prefix)."""

    def __init__(self) -> None:
        self.prefix = os.urandom(12).hex()
        self.counter = itertools.count()


_ids = _Ids()
os.register_at_fork(after_in_child=lambda: globals().__setitem__("_ids", _Ids()))


def _finish(response: Response) -> Response:
    obs: Observation | None = g.get("observation")
    if obs is None:  # a request refused before the view chain ran (e.g. 413 while routing)
        obs = Observation(_new_id(), time.perf_counter())
    elapsed = time.perf_counter() - obs.started
    status = response.status_code
    environ = request.environ
    requestlog.add(
        (
            time.time(),
            obs.request_id,
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            status,
            elapsed,
            obs.provider,
            obs.operation,
            obs.player,
            obs.tx,
            obs.outcome or ("503" if status == 503 else None),
        )
    )
    response.headers["X-Request-ID"] = obs.request_id
    return response
