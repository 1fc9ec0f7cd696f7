"""Gunicorn settings for `gunicorn app:app` (read automatically from the working directory)."""

import os
import sys
import tempfile

# Metrics of every worker in one place (before anything imports prometheus_client).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="wallet-metrics-"))

from wallet.config import load as _load_settings
from wallet.errors import ConfigError

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# One worker per core, 16 threads each: a thread waiting on Redis leaves the core to another, and
# connections stay open between callbacks. Measured best both with Redis on loopback and ~1 ms
# away (bench/RESULTS.md: make bench, make bench-remote). WEB_THREADS=1 gives sync workers.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("WEB_THREADS", "16"))
# gunicorn's gthread and sync workers, their own errors answered as JSON, and (gthread) request
# heads read without holding a thread, so slow clients cannot starve callbacks (wallet/ops/server.py).
worker_class = "wallet.ops.server.JsonThreadWorker" if threads > 1 else "wallet.ops.server.JsonSyncWorker"
timeout = 10  # a worker whose main loop is stuck this long is killed; Redis calls time out at 0.5 s
graceful_timeout = 5  # PaaS SIGTERM: finish in-flight callbacks, then exit before the SIGKILL
keepalive = 5

try:
    _settings = _load_settings()  # a bad setting stops start-up with one line naming it
except ConfigError as exc:
    sys.exit(str(exc))
if _settings.embedded and workers > 1:
    sys.exit("REDIS_URL: not set, so the store lives in one process; set it, or WEB_CONCURRENCY=1")
if not _settings.embedded:  # an evicting Redis stops start-up here, with one line, before any worker
    from wallet.core.store import UNAVAILABLE, close, connect
    from wallet.ops import guard

    _client = connect(_settings.redis_url)
    try:
        guard.refuse_evicting(_client)
    except ConfigError as exc:
        sys.exit(str(exc))
    except UNAVAILABLE:
        pass  # unreachable now: /healthz reports it
    finally:
        close(_client)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Forget a dead worker's live gauges (its counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
