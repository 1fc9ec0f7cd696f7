"""Real processes for tests: free loopback ports, waiting for a server, and gunicorn as the Procfile runs it."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER = shutil.which("redis-server")


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
    env = {**os.environ, "PORT": str(port), "WALLET_FILE_DATABASE": "1", **extra}  # test servers' SQLite files
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def free_cluster_port() -> int:
    """A free port whose cluster-bus twin (port + 10000) is free too."""
    import socket

    while True:
        port = random.randint(20000, 29999)
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


def plain(port: int, command: str, *args: str):  # type: ignore[no-untyped-def]
    """One command through a short-lived plain client (closed at once: no stray sockets)."""
    client = redis.Redis(port=port)
    try:
        return client.execute_command(command, *args)
    finally:
        client.close()


class RedisProcess:
    """A redis-server of the test's own, on a free loopback port, in its own directory."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.folder, self.args, self.port = folder, args, free_cluster_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                str(SERVER),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.folder),
                *self.args,
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                plain(self.port, "ping")  # a plain client: a cluster node is not a cluster yet
                return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def signal(self, number: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(number)
