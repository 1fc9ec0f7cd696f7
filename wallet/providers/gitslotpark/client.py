"""GitSlotPark's platform API, which we call: game list, launch URL (userAuth) and free spins."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import requests

from wallet.providers.gitslotpark.settings import GitSlotPark
from wallet.providers.platform import BadLaunch, PlatformError, PlatformRejected, call_json

PROVIDER = "gitslotpark"
LANGUAGES = frozenset({"en", "fr", "de", "it", "kr", "tr", "pt", "id", "es", "zh", "uk", "ru"})


def sign(secret: str, text: str) -> str:
    """GitSlotPark's sign: HMAC-SHA256 of ``text`` as upper-case hex."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


class GitSlotParkClient:
    """One method per platform call; each returns the useful part of the reply or raises PlatformError."""

    def __init__(self, config: GitSlotPark, http: requests.Session, timeout: float) -> None:
        assert config.api_url and config.api_token
        self.config, self.http, self.timeout = config, http, timeout
        self.url, self.token = config.api_url, config.api_token

    def _post(self, path: str, fields: dict[str, Any], signed: str, safe: bool) -> dict[str, Any]:
        agent = self.config.agent_id
        body = {
            "apiToken": self.token,
            "agentID": agent,
            **fields,
            "sign": sign(self.config.secret_key, agent + signed),
        }
        reply = call_json(PROVIDER, lambda: self.http.post(self.url + path, json=body, timeout=self.timeout), safe)
        code = reply.get("result", reply.get("code")) if isinstance(reply, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise PlatformError(PROVIDER, f"malformed reply to {path}")
        if code != 0:
            hint = " (check GITSLOTPARK_API_TOKEN)" if code == 7 else ""
            raise PlatformRejected(PROVIDER, code, f"{reply.get('message') or 'no message'}{hint}")
        return dict(reply)

    def link_player(self, player: str, currency: str) -> None:
        """GitSlotPark has no sign-in call: nothing to tell it when a player signs in."""

    def open_game(self, user: str, launch: dict[str, Any]) -> str:
        """A game URL for the operator API's launch fields (gameId, language)."""
        if launch["language"] not in LANGUAGES:
            raise BadLaunch(f"language: one of {', '.join(sorted(LANGUAGES))}")
        return self.launch(user, launch["game_id"], launch["language"])

    def catalog(self) -> list[dict[str, Any]]:
        """What the operator API lists as this provider's catalog: its games."""
        return self.games()

    def games(self) -> list[dict[str, Any]]:
        reply = self._post("/gameList", {}, "", safe=True)
        games = reply.get("games")
        if not isinstance(games, list):
            raise PlatformError(PROVIDER, "malformed reply to /gameList")
        return games

    def launch(self, user: str, game: str, language: str) -> str:
        """A one-time game URL (userAuth)."""
        fields = {"userID": user, "gameID": game, "language": language}
        url = self._post("/userAuth", fields, user + game, safe=False).get("gameURL")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise PlatformError(PROVIDER, "malformed reply to /userAuth")
        return url

    def grant_free_spins(self, user: str, game: str, spins: int) -> str:
        fields = {"userID": user, "gameID": game, "spinCount": spins}
        grant = self._post("/assignFreeSpin", fields, f"{user}{game}{spins}", safe=False).get("freeSpinID")
        if not isinstance(grant, (str, int)) or isinstance(grant, bool):
            raise PlatformError(PROVIDER, "malformed reply to /assignFreeSpin")
        return str(grant)

    def free_spin_status(self, grant: str) -> dict[str, Any]:
        reply = self._post("/freeSpinStatus", {"freeSpinID": grant}, grant, safe=True)
        keys = ("status", "totalSpins", "usedSpins", "remainingSpins")
        return {key: reply.get(key) for key in keys}
