"""Real processes for tests: free loopback ports, waiting for a server, and gunicorn as the Procfile runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, path: str = "/healthz", seconds: float = 20.0) -> None:
    """Poll ``base + path`` until the server answers anything."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(base + path, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not come up")


@contextmanager
def running(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``command`` (a server on ``port``) from the project folder; SIGTERM it afterwards, then
    its output is ``proc.output``."""
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base)
            yield base, proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
            log.seek(0)
            proc.output = log.read()  # type: ignore[attr-defined]


def gunicorn_env(port: int, **extra: str) -> dict[str, str]:
    """The environment of `gunicorn app:app` on ``port`` (fresh metrics directory each time)."""
    env = {**os.environ, "PORT": str(port), **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env
