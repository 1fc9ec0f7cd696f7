"""The operator API as the simulator uses it: create, fund, block and sign in test players."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import requests


class OperatorApi:
    """Thin client of /api/v1 (bearer key); every call raises on an unexpected status."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def _call(self, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> Any:
        response = self.http.request(method, self.base_url + path, timeout=10, **kwargs)
        if response.status_code not in ok:
            raise RuntimeError(f"operator API {method} {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None

    def ensure_player(self, player: str, currency: str = "EUR") -> dict[str, Any]:
        self._call("POST", "/players", (201, 409), json={"id": player, "currency": currency})
        return self.player(player)  # type: ignore[no-any-return]

    def player(self, player: str) -> Any:
        return self._call("GET", f"/players/{player}", (200,))

    def deposit(self, player: str, amount: str) -> None:
        key = f"sim-{uuid.uuid4().hex}"
        self._call(
            "POST", f"/players/{player}/deposits", (201,), json={"amount": amount}, headers={"Idempotency-Key": key}
        )

    def withdraw_all(self, player: str) -> None:
        balance = self.player(player)["balance"]
        if Decimal(balance) > 0:
            key = f"sim-{uuid.uuid4().hex}"
            self._call(
                "POST",
                f"/players/{player}/withdrawals",
                (201,),
                json={"amount": balance},
                headers={"Idempotency-Key": key},
            )

    def set_status(self, player: str, status: str) -> None:
        self._call("PATCH", f"/players/{player}", (200,), json={"status": status})

    def sign_in(self, player: str) -> str:
        """Open the player's session; its token."""
        return str(self._call("POST", f"/players/{player}/sessions", (201,))["token"])

    def sign_out(self, player: str) -> None:
        self._call("DELETE", f"/players/{player}/sessions", (204,))
