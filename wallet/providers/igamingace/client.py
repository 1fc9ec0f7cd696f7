"""iGamingAce's platform API, which we call: launch URLs, provider list, player link, bonuses.

Every call holds one of IGAMINGACE_MAX_CONCURRENT_CALLS slots shared by all our processes
(their limit is 50 calls in flight per agent), and a SERVER_IS_BUSY (1018) answer is retried
with back-off, never hammered.
"""

from __future__ import annotations

from typing import Any

import requests

from wallet.core.store import Store
from wallet.providers.igamingace.settings import IGamingAce
from wallet.providers.platform import BadLaunch, PlatformBusy, PlatformError, PlatformRejected, backing_off, call_json

PROVIDER = "igamingace"
SERVER_IS_BUSY = 1018


class IGamingAceClient:
    """One method per platform call; each returns the reply's ``data`` or raises PlatformError."""

    def __init__(self, config: IGamingAce, http: requests.Session, timeout: float, store: Store) -> None:
        self.config, self.http, self.timeout, self.store = config, http, timeout, store
        self.headers = {"Authorization": f"Bearer {config.api_token}", "Accept": "application/json"}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, safe: bool = False) -> Any:
        return backing_off(lambda: self._once(method, path, body, safe))

    def _once(self, method: str, path: str, body: dict[str, Any] | None, safe: bool) -> Any:
        url = self.config.api_url + path
        agent = f"{PROVIDER}:{self.config.name}" if self.config.name else PROVIDER  # their limit is per agent
        with self.store.slot(agent, self.config.max_concurrent_calls) as free:
            if not free:
                raise PlatformBusy(PROVIDER, f"all {self.config.max_concurrent_calls} call slots in use")
            reply = call_json(
                PROVIDER,
                lambda: self.http.request(method, url, json=body, headers=self.headers, timeout=self.timeout),
                safe,
            )
        if not isinstance(reply, dict) or not isinstance(reply.get("success"), bool):
            raise PlatformError(PROVIDER, f"malformed reply to {path}")
        if reply["success"]:
            return reply.get("data")
        code, message = reply.get("code"), str(reply.get("message") or "no message")
        if code == SERVER_IS_BUSY or "SERVER_IS_BUSY" in message:
            raise PlatformBusy(PROVIDER, "SERVER_IS_BUSY")
        raise PlatformRejected(PROVIDER, code if code is not None else "?", message)

    def open_game(self, player: str, launch: dict[str, Any]) -> str:
        """A game URL for the operator API's launch fields (providerId and gameId, language, ...)."""
        if not launch["provider_id"]:
            raise BadLaunch("providerId: required for igamingace")
        args = (launch["provider_id"], launch["game_id"], launch["language"], launch["return_url"])
        return self.launch(player, *args, launch["is_streamer"])

    def catalog(self) -> list[Any]:
        """What the operator API lists as this provider's catalog: its game providers."""
        return self.providers()

    def launch(
        self, player: str, provider_id: str, game: str, language: str, return_url: str, streamer: bool = False
    ) -> str:
        """A one-time game URL (a new one for every launch)."""
        body = {
            "playerId": player,
            "providerId": provider_id,
            "gameId": game,
            "language": language,
            "returnUrl": return_url,
            "isStreamer": streamer,
        }
        url = self._call("POST", "/v1/game/launch", body)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise PlatformError(PROVIDER, "malformed reply to /v1/game/launch")
        return url

    def providers(self) -> list[Any]:
        data = self._call("GET", "/v1/provider/list", safe=True)
        if not isinstance(data, list):
            raise PlatformError(PROVIDER, "malformed reply to /v1/provider/list")
        return data

    def link_player(self, player: str, currency: str) -> None:
        """Tell iGamingAce the player signed in (IGAMINGACE_PLAYER_LINK_PATH; skipped when unset)."""
        if self.config.player_link_path:
            self._call("POST", self.config.player_link_path, {"playerId": player, "currency": currency})

    def grant_free_spins(self, player: str, game: str, spins: int) -> str:
        if not self.config.bonus_path:
            raise PlatformError(PROVIDER, "free spins need IGAMINGACE_BONUS_PATH")
        data = self._call("POST", self.config.bonus_path, {"playerId": player, "gameId": game, "spinCount": spins})
        grant = data.get("bonusId") if isinstance(data, dict) else data
        if not isinstance(grant, (str, int)) or isinstance(grant, bool):
            raise PlatformError(PROVIDER, f"malformed reply to {self.config.bonus_path}")
        return str(grant)

    def free_spin_status(self, grant: str) -> dict[str, Any]:
        if not self.config.bonus_status_path:
            raise PlatformError(PROVIDER, "free-spin status needs IGAMINGACE_BONUS_STATUS_PATH")
        data = self._call("GET", f"{self.config.bonus_status_path.rstrip('/')}/{grant}", safe=True)
        if not isinstance(data, dict):
            raise PlatformError(PROVIDER, "malformed reply to the bonus status call")
        return data
