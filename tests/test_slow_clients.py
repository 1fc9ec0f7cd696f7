"""The HTTP server as gunicorn runs it (gunicorn.conf.py): slow clients cannot starve callbacks,
its own errors are JSON (generated headers with CR, LF, NUL and escapes included), and a body
past the limit is a 413 that closes the connection, chunked or not."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fresh_sqlite
from tests.servers import BIN, free_port, gunicorn_env, running

pytestmark = pytest.mark.once  # starts servers of its own: the first pass only (conftest)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """gunicorn app:app, one worker of the default gthread model, on the embedded store (one for
    the module: each test opens connections of its own)."""
    port = free_port()
    env = gunicorn_env(port, WEB_CONCURRENCY="1", DATABASE_URL=fresh_sqlite(tmp_path_factory.mktemp("server")))
    for name in ("REDIS_URL", "OPERATOR_API_KEY", "WEB_THREADS"):
        env.pop(name, None)
    with running([str(BIN / "gunicorn"), "app:app"], env, port) as (base, _):
        yield base, port


def _raw(port: int, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``data`` on a fresh connection, then end it; the answer's status line, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return lines[0], headers, body


def test_trickling_clients_do_not_starve_callbacks(server: tuple[str, int]) -> None:
    """100 connections sending their headers one byte per 0.5 s (more than the worker's 16
    threads): /healthz answers within 1 s every time meanwhile."""
    base, port = server
    stop = threading.Event()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]

    def trickle() -> None:
        for i in range(12):  # 6 s at most, then it stops by itself
            if stop.is_set():
                return
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"GET /healthz HTTP/1.1\r\nX-Slow: "[i : i + 1] or b"a")
            time.sleep(0.5)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        time.sleep(1.0)
        waits = []
        for _ in range(10):
            started = time.monotonic()
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
            waits.append(time.monotonic() - started)
            time.sleep(0.2)
        assert max(waits) < 1.0, waits
    finally:
        stop.set()
        trickler.join(10)
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
        (b"GET /healthz HTTP/1.1\r\nBad Header\x01: x\r\n\r\n", "400"),
        (b"GET /healthz HTTP/1.1\r\nX-Request-ID: a\x1bb\r\n\r\n", "400"),
        (b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", "431"),
        (b"NOT A REQUEST LINE\r\n\r\n", "400"),
    ],
)
def test_server_errors_are_json(server: tuple[str, int], request_bytes: bytes, status: str) -> None:
    """A bad request line or header, a 414 and a 431 are answered with the JSON error body."""
    line, headers, body = _raw(server[1], request_bytes)
    assert line.split(" ")[1] == status, line
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body)["error"]


def test_chunked_body_past_the_limit_is_413_and_closes(server: tuple[str, int]) -> None:
    """Valid JSON followed by 70,000 spaces and garbage, sent chunked, is a 413 (not the first
    64 KiB taken as the whole body) and the connection closes; a small chunked body is served."""
    body = b'{"agentID": "demo-agent", "userID": "p1", "sign": ""}' + b" " * 70_000 + b"GARBAGE{{{"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:40_000], body[40_000:])) + b"0\r\n\r\n"
    head = b"POST /gitslotpark/GetBalance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    line, headers, answer = _raw(server[1], head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    assert line.split(" ")[1] == "413" and headers["connection"] == "close"
    assert json.loads(answer)["error"] == "request_entity_too_large"
    small = b'{"agentID": "demo-agent", "userID": "p1", "sign": ""}'
    line, _, answer = _raw(
        server[1],
        head + b"Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(small), small),
    )
    assert line.split(" ")[1] == "200" and json.loads(answer)["result"] == 3  # read whole: the sign is wrong


#: Bytes a header may be made of by an attacker: line breaks, NUL, escapes, non-ASCII, a blank line.
_HOSTILE = st.sampled_from(
    [b"\r", b"\n", b"\r\n", b"\x00", b"\x1b", b"\x7f", b"\xff", b":", "\u00e9".encode(), b"\r\n\r\n"]
)
_PIECE = st.lists(st.one_of(_HOSTILE, st.binary(min_size=1, max_size=6)), max_size=5).map(b"".join)
_TARGETS = [
    (b"GET", b"/healthz", b""),
    (b"POST", b"/gitslotpark/GetBalance", b'{"agentID": "demo-agent", "userID": "p1", "sign": ""}'),
    (b"POST", b"/igamingace", b'{"command": "balance", "playerId": "p1"}'),
    (b"GET", b"/api/v1/players/p1", b""),
]


@given(name=_PIECE, value=_PIECE, target=st.sampled_from(_TARGETS))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_headers_answer_json(server: tuple[str, int], name: bytes, value: bytes, target: Any) -> None:
    """A header of generated bytes (CR, LF, NUL, ESC, non-ASCII, an early blank line) on a callback,
    the API or /healthz: the answer is JSON, never HTML, and never a 5xx."""
    method, path, body = target
    head = b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n" % (method, path)
    head += b"Content-Length: %d\r\nX-%s: %s\r\n\r\n" % (len(body), name, value)
    line, headers, answer = _raw(server[1], head + body)
    assert int(line.split(" ")[1]) < 500, line
    assert headers["content-type"] == "application/json", (line, headers)
    json.loads(answer)
