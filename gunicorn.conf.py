"""Gunicorn settings for `gunicorn app:app` (read automatically from the working directory)."""

import os
import sys
import tempfile

# Metrics of every worker in one place (before anything imports prometheus_client).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="wallet-metrics-"))

from wallet.config import load as _load_settings
from wallet.errors import ConfigError

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers, two per core: a worker waiting on Redis leaves its core to another (bench/RESULTS.md).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
worker_class = "sync"
timeout = 10  # a worker stuck this long is killed; providers give up after 3-4 s anyway
graceful_timeout = 5  # PaaS SIGTERM: finish in-flight callbacks, then exit before the SIGKILL
keepalive = 5

try:
    _settings = _load_settings()  # a bad setting stops start-up with one line naming it
except ConfigError as exc:
    sys.exit(str(exc))
if _settings.embedded and workers > 1:
    sys.exit("REDIS_URL: not set, so the store lives in one process; set it, or WEB_CONCURRENCY=1")
if not _settings.embedded:  # an evicting Redis stops start-up here, with one line, before any worker
    from wallet import guard
    from wallet.store import UNAVAILABLE, close, connect

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
