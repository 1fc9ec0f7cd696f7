"""Hub88's Games API, which we call: game launch URLs and the game list, signed with our key.

Each call's raw JSON body is signed with the operator's private key (HUB88_PRIVATE_KEY) in
X-Hub88-Signature, as Hub88 signs its callbacks to us. Free rounds belong to Hub88's separate
Freebets API, which is not wired: a grant is refused with a message saying so.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from marshmallow import fields, validate

from wallet.core.store import Store
from wallet.providers.hub88 import signature
from wallet.providers.hub88.callbacks import ROUTES
from wallet.providers.hub88.settings import Hub88
from wallet.providers.platform import BadLaunch, PlatformError, PlatformRejected, backing_off, call_json

PROVIDER = "hub88"
URL_PATH, LIST_PATH = "/operator/generic/v2/game/url", "/operator/generic/v2/game/list"

#: The operator API's launch fields Hub88 adds (wallet/operator/games.py merges them).
LAUNCH_FIELDS: dict[str, fields.Field[Any]] = {
    "platform": fields.String(load_default="desktop", validate=validate.OneOf(("desktop", "mobile"))),
    "country": fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z]{2}$")),  # ISO 3166-1 alpha-2
    "ip": fields.IP(load_default=None),  # the player's address, when the operator knows it
}


def for_account(account: Hub88, http: requests.Session, timeout: float, store: Store) -> Hub88Client | None:
    """The account's Games API client; None until HUB88_PRIVATE_KEY and HUB88_OPERATOR_ID are set."""
    if account.private_key is None or account.operator_id is None:
        return None
    return Hub88Client(account, http, timeout)


def sign_as_hub88(account: Hub88, operation: str, body: bytes) -> str:
    """The X-Hub88-Signature Hub88 would send with ``body`` (`wallet sign`); only Hub88 holds the
    key, so this needs the demo account or HUB88_SIMULATOR_KEY; ValueError otherwise."""
    if operation and operation not in {name for name, _, _ in ROUTES.values()}:
        raise ValueError(f"unknown operation {operation!r}: one of {', '.join(n for n, _, _ in ROUTES.values())}")
    if account.signing_key is None:
        raise ValueError(
            "Hub88 signs its callbacks with its own private key, which the wallet does not hold; "
            "set HUB88_SIMULATOR_KEY to the private half of a test key pair whose public half is HUB88_PUBLIC_KEY"
        )
    return signature.sign(account.signing_key, body)


class Hub88Client:
    """One method per Games API call; each returns the reply or raises PlatformError."""

    def __init__(self, config: Hub88, http: requests.Session, timeout: float) -> None:
        assert config.private_key is not None and config.operator_id is not None
        self.config, self.http, self.timeout = config, http, timeout
        self.key, self.operator_id = config.private_key, config.operator_id

    def _call(self, path: str, body: dict[str, Any], safe: bool = False) -> Any:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", signature.HEADER: signature.sign(self.key, raw)}
        url = self.config.api_url + path
        send = lambda: self.http.post(url, data=raw, headers=headers, timeout=self.timeout)  # noqa: E731
        reply = backing_off(lambda: _checked(call_json(PROVIDER, send, safe), path))
        return reply

    def open_game(self, player: str, launch: dict[str, Any]) -> str:
        """A game URL for the operator API's launch fields, carrying the session's token."""
        if not launch.get("country"):
            raise BadLaunch("country: required for hub88 (ISO 3166-1 alpha-2, like DE)")
        body = {
            "user": player,
            "token": launch["token"],
            "operator_id": self.operator_id,
            "game_code": launch["game_id"],
            "currency": launch["currency"],
            "country": launch["country"],
            "lang": launch["language"],
            "platform": "GPL_MOBILE" if launch["platform"] == "mobile" else "GPL_DESKTOP",
            "lobby_url": launch["return_url"] or None,
            "ip": str(launch["ip"]) if launch.get("ip") else None,
        }
        reply = self._call(URL_PATH, {key: value for key, value in body.items() if value is not None})
        url = reply.get("url") if isinstance(reply, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise PlatformError(PROVIDER, f"malformed reply to {URL_PATH}")
        return url

    def catalog(self) -> list[Any]:
        """The games enabled for the operator: code, name, category and product of each."""
        games = self._call(LIST_PATH, {"operator_id": self.operator_id}, safe=True)
        if not isinstance(games, list) or not all(isinstance(g, dict) and "game_code" in g for g in games):
            raise PlatformError(PROVIDER, f"malformed reply to {LIST_PATH}")
        keep = ("game_code", "name", "category", "product", "enabled")
        return [{key: game[key] for key in keep if key in game} for game in games]

    def link_player(self, player: str, currency: str) -> None:
        """Hub88 learns a player from the launch; nothing to do at sign-in."""

    def grant_free_spins(self, player: str, game: str, spins: int) -> str:
        raise PlatformError(PROVIDER, "free rounds are Hub88's Freebets API, which this wallet does not call")

    def free_spin_status(self, grant: str) -> dict[str, Any]:
        raise PlatformError(PROVIDER, "free rounds are Hub88's Freebets API, which this wallet does not call")


def _checked(reply: Any, path: str) -> Any:
    """Hub88 answers an error as ``{"error": "..."}`` (with a 4xx status)."""
    if isinstance(reply, dict) and "error" in reply and len(reply) <= 2:
        raise PlatformRejected(PROVIDER, reply.get("code", "?"), str(reply["error"])[:200])
    return reply
