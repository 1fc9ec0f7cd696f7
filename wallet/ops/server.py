"""The gunicorn workers `gunicorn app:app` runs (gunicorn.conf.py): gthread (or sync) with two changes.

- The server's own errors (a bad request line or header, 414, 431) are answered with the service's
  JSON error body instead of gunicorn's HTML page, and a 413 closes the connection (its body was
  not read to its end; gunicorn ignores an application's own Connection header).
- Slow clients cannot starve callbacks (gthread): a connection's request head is read in the
  worker's event loop, without a thread, and handed to a thread only once it is complete; a
  head not complete within HEAD_SECONDS closes the connection. So connections trickling their
  headers a byte at a time hold no thread, and callbacks and /healthz keep being served.

Both lean on gunicorn 27's gthread internals (TConn, the pending-connection deque and its
murder_pending): the version is pinned in pyproject.toml and tests/test_slow_clients.py runs them.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker
from gunicorn.workers.sync import SyncWorker

HEAD_SECONDS = 5.0  # a request head (line and headers) must arrive within this long
HEAD_END = b"\r\n\r\n"
MOST_HEAD = 64 * 1024  # past this without an end the parser takes over (and answers 431)


class _JsonErrors:
    """A client socket whose gunicorn error page is rewritten as the JSON error body."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        status = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)  # HTTP/1.1 400 Bad Request
        code, reason = (status[1], status[2]) if len(status) == 3 else ("400", "Bad Request")
        body = json.dumps({"error": reason.lower().replace(" ", "_"), "message": f"{reason}: the request was refused"})
        head = f"HTTP/1.1 {code} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        self._sock.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode("latin-1"))


class _JsonMixin:
    """Both workers: gunicorn's errors as JSON; the connection closed after a 413."""

    wsgi: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _JsonErrors(client), addr, exc)  # type: ignore[misc]

    def load_wsgi(self) -> None:
        super().load_wsgi()  # type: ignore[misc]
        app = self.wsgi

        def closing_after_413(environ: dict[str, Any], start_response: Any) -> Any:
            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                if status.startswith("413") and hasattr(start_response, "__self__"):
                    start_response.__self__.force_close()  # gunicorn's Response
                return start_response(status, headers, exc_info)

            return app(environ, start)

        self.wsgi = closing_after_413


class JsonSyncWorker(_JsonMixin, SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, its own errors as JSON."""


class JsonThreadWorker(_JsonMixin, ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, its own errors as JSON, request heads read without a thread."""

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_head(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection sends its next request: its head too is read here first."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: Any) -> None:
        if self.cfg.is_ssl:  # encrypted bytes: no head to see here
            self.enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        conn.head = b""
        conn.timeout = time.monotonic() + HEAD_SECONDS
        self.pending_conns.append(conn)  # murder_pending closes it past its deadline
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: Any, client: Any) -> None:
        try:
            chunk = conn.sock.recv(MOST_HEAD)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""  # reset: the thread sees the closed socket and lets it go
        conn.head += chunk
        if chunk and HEAD_END not in conn.head and len(conn.head) < MOST_HEAD:
            return
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        head = getattr(conn, "head", b"")
        if head:  # give the bytes read in the event loop back to the request parser
            conn.head = b""
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        return super().handle(conn)
