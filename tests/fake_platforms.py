"""Real HTTP servers on loopback that speak GitSlotPark's, iGamingAce's and Hub88's platform APIs, for tests.

Each checks credentials and signatures as the provider would, counts calls and calls in flight,
and can be switched to misbehave: ``mode`` = ok | reject | slow | malformed | error500 | busy.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePlatform:
    """A provider's platform API on 127.0.0.1, in a background thread."""

    def __init__(self, routes: Any, raw_bodies: bool = False) -> None:
        self.routes, self.mode, self.busy_left, self.delay = routes, "ok", 0, 0.0
        self.raw_bodies = raw_bodies  # routes get the body's bytes (to verify a signature over them)
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = raw if fake.raw_bodies else json.loads(raw) if raw else None
                with fake.lock:
                    fake.calls.append((method, self.path, body, dict(self.headers)))
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    status, payload = fake.answer(method, self.path, body, self.headers)
                    time.sleep(fake.delay)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, method: str, path: str, body: Any, headers: Any) -> tuple[int, Any]:
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "malformed":
            return 200, b"<html>oops</html>"
        if self.mode == "error500":
            return 500, {"error": "internal"}
        return self.routes(self, method, path, body, headers)


def gitslotpark(agent: str, secret: str, token: str) -> FakePlatform:
    """GitSlotPark: POST /gameList, /userAuth, /assignFreeSpin, /freeSpinStatus, signed bodies."""
    signed = {
        "/gameList": ("agentID",),
        "/userAuth": ("agentID", "userID", "gameID"),
        "/assignFreeSpin": ("agentID", "userID", "gameID", "spinCount"),
        "/freeSpinStatus": ("agentID", "freeSpinID"),
    }

    def routes(fake: FakePlatform, method: str, path: str, body: Any, headers: Any) -> tuple[int, Any]:
        if body.get("apiToken") != token:
            return 200, {"result": 7, "message": "Invalid API token"}
        if body.get("agentID") != agent:
            return 200, {"result": 4, "message": "Invalid agent"}
        text = "".join(str(body.get(f, "")) for f in signed.get(path, ()))
        if body.get("sign") != hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper():
            return 200, {"result": 3, "message": "Invalid sign"}
        if fake.mode == "reject":
            return 200, {"result": 5, "message": "User not found"}
        n = next(fake.ids)
        if path == "/gameList":
            return 200, {
                "result": 0,
                "games": [
                    {
                        "gameID": "slot-1",
                        "gameName": "Slot One",
                        "gameType": "slot",
                        "provider": "gsp",
                        "thumbnail": "https://x/1.png",
                    }
                ],
            }
        if path == "/userAuth":
            return 200, {"result": 0, "gameURL": f"https://games.example/play/{body['gameID']}?t={n}"}
        if path == "/assignFreeSpin":
            return 200, {"result": 0, "freeSpinID": f"fs-{n}"}
        if path == "/freeSpinStatus":
            return 200, {"result": 0, "status": "active", "totalSpins": 10, "usedSpins": 1, "remainingSpins": 9}
        return 404, {"result": 1, "message": "no such call"}

    return FakePlatform(routes)


def igamingace(token: str) -> FakePlatform:
    """iGamingAce: bearer token, {success, message, data}; SERVER_IS_BUSY while ``busy_left`` > 0."""

    def routes(fake: FakePlatform, method: str, path: str, body: Any, headers: Any) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {token}":
            return 401, {"success": False, "message": "unauthorized"}
        with fake.lock:
            busy = fake.mode == "busy" or fake.busy_left > 0
            fake.busy_left = max(0, fake.busy_left - 1)
        if busy:
            return 200, {"success": False, "code": 1018, "message": "SERVER_IS_BUSY"}
        if fake.mode == "reject":
            return 200, {"success": False, "code": 2001, "message": "GAME_NOT_FOUND"}
        n = next(fake.ids)
        if path == "/v1/game/launch" and method == "POST":
            return 200, {"success": True, "message": "", "data": f"https://ace.example/launch/{body['gameId']}/{n}"}
        if path == "/v1/provider/list":
            return 200, {"success": True, "message": "", "data": [{"providerId": "prov", "name": "Provider"}]}
        if path == "/v1/player/link":
            return 200, {"success": True, "message": "", "data": None}
        if path == "/v1/bonus/grant":
            return 200, {"success": True, "message": "", "data": {"bonusId": f"b-{n}"}}
        if path.startswith("/v1/bonus/status/"):
            return 200, {"success": True, "message": "", "data": {"status": "active", "remainingSpins": 4}}
        return 404, {"success": False, "message": "not found"}

    return FakePlatform(routes)


def hub88(operator_key: Any, operator_id: int) -> FakePlatform:
    """Hub88's Games API: POST bodies signed with the operator's key (X-Hub88-Signature over the
    raw bytes), errors as ``{"error": ...}`` with a 4xx status."""
    from wallet.providers.hub88 import signature

    def routes(fake: FakePlatform, method: str, path: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        if not signature.valid(operator_key.public_key(), raw, headers.get(signature.HEADER, "")):
            return 401, {"error": "Request signature is invalid"}
        body = json.loads(raw)
        if body.get("operator_id") != operator_id:
            return 404, {"error": "operator_id does not correspond to any existing Operator"}
        if fake.mode == "reject":
            return 403, {"error": "The game isn't enabled for the Operator"}
        n = next(fake.ids)
        if path == "/operator/generic/v2/game/url":
            missing = [f for f in ("user", "token", "game_code", "currency", "country", "platform") if f not in body]
            if missing:
                return 400, {"error": f"missing {missing}"}
            return 200, {"url": f"https://hub88.example/play/{body['game_code']}?token={body['token']}&n={n}"}
        if path == "/operator/generic/v2/game/list":
            game = {
                "game_code": "clt_dragonrising",
                "name": "Dragon Rising",
                "category": "Video Slots",
                "product": "Caleta",
                "enabled": True,
                "url_thumb": "https://x/1.png",
            }
            return 200, [game]
        return 404, {"error": "The resource requested wasn't found"}

    return FakePlatform(routes, raw_bodies=True)
