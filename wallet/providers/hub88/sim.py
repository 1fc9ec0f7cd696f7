"""Hub88 as the simulator plays it (`wallet simulate --provider hub88`): signed Wallet API calls.

Tokens come from the operator API's sign-in (``tokens``, filled by the caller); a win names the
last bet the simulator placed in its round, and a win in a round without one is a supplier promo
win (Hub88 pays those without a bet).
"""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from wallet.providers.hub88 import signature
from wallet.providers.hub88.settings import WIRE_EXPONENT
from wallet.providers.hub88.settings import Hub88 as Account
from wallet.sim.providers import Answer, Provider

CODES = {
    "RS_OK": "OK",
    "RS_ERROR_NOT_ENOUGH_MONEY": "NO_FUNDS",
    "RS_ERROR_INVALID_TOKEN": "NO_PLAYER",  # an unknown user has no token of ours
    "RS_ERROR_TOKEN_EXPIRED": "NO_SESSION",
    "RS_ERROR_USER_DISABLED": "BLOCKED",
    "RS_ERROR_TRANSACTION_DOES_NOT_EXIST": "NOT_FOUND",
    "RS_ERROR_TRANSACTION_ROLLED_BACK": "ROLLED_BACK",
    "RS_ERROR_INVALID_SIGNATURE": "BAD_SIGN",
    "RS_ERROR_WRONG_CURRENCY": "CURRENCY",
    "RS_ERROR_DUPLICATE_TRANSACTION": "BAD_INPUT",
    "RS_ERROR_WRONG_SYNTAX": "BAD_INPUT",
    "RS_ERROR_WRONG_TYPES": "BAD_INPUT",
}


def for_account(url: str, account: Account, currency: str, exp: int) -> Hub88:
    """The simulator's Hub88 for ``account``, signing with HUB88_SIMULATOR_KEY (or the demo key)."""
    key = account.signing_key
    if key is None:
        raise ValueError(
            "hub88: the simulator signs as Hub88; set HUB88_SIMULATOR_KEY to the private half of the key pair "
            "whose public half the wallet has as HUB88_PUBLIC_KEY"
        )
    return Hub88(url, key, currency, exp, account=account.name)


class Hub88(Provider):
    """The operator Wallet API: five paths, X-Hub88-Signature over the raw body."""

    name = "hub88"
    reverses_wins = False  # bets are rolled back, wins are retried
    has_bet_win = False
    ids_per_player = False  # a transaction_uuid names one request across all players
    unseen_rollback_code = "OK"  # a rollback of a bet never seen is acknowledged (and remembered)
    repeat_rollback_code = "OK"  # so is a second rollback of a refunded bet under another uuid
    needs_tokens = True
    wins_name_bets = True

    def __init__(
        self, base_url: str, key: RSAPrivateKey, currency: str = "EUR", exp: int = 2, account: str = ""
    ) -> None:
        super().__init__(base_url, currency, exp)
        self.key, self.path = key, f"/hub88/{account}" if account else "/hub88"
        self.bets: dict[tuple[str, str], str] = {}
        self.lock = threading.Lock()

    def minor(self, value: Any) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return int(Decimal(value).scaleb(self.exp - WIRE_EXPONENT))

    def units(self, minor: int) -> int:
        return int(minor * 10 ** (WIRE_EXPONENT - self.exp))

    def send(self, path: str, fields: dict[str, Any], raw: bytes | None = None, sign: str | None = None) -> Answer:
        body = raw if raw is not None else json.dumps({"request_uuid": str(uuid.uuid4()), **fields}).encode()
        header = signature.sign(self.key, body) if sign is None else sign
        status, payload, seconds = self._send(self.base_url + self.path + path, body, {signature.HEADER: header})
        if status != 200 or not isinstance(payload, dict):
            return Answer(f"HTTP {status}", None, seconds, payload)
        return Answer(
            CODES.get(str(payload.get("status")), "ERROR"), self.minor(payload.get("balance")), seconds, payload
        )

    def token(self, player: str) -> str:
        return self.tokens.get(player, "never-issued-token")

    def balance(self, player: str) -> Answer:
        return self.send("/user/balance", {"user": player, "token": self.token(player), "game_code": "sim-slot"})

    def _round(self, player: str, tx: str, round_id: str, amount: int) -> dict[str, Any]:
        return {
            "user": player,
            "token": self.token(player),
            "transaction_uuid": tx,
            "round": round_id,
            "game_code": "sim-slot",
            "currency": self.currency,
            "amount": self.units(amount),
        }

    def bet(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        answer = self.send("/transaction/bet", self._round(player, tx, round_id, amount))
        if answer.code == "OK":
            with self.lock:
                self.bets[(player, round_id)] = tx
        return answer

    def win(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        with self.lock:
            bet = self.bets.get((player, round_id))
        fields = self._round(player, tx, round_id, amount)
        fields.update({"reference_transaction_uuid": bet} if bet else {"is_supplier_promo": True})
        return self.send("/transaction/win", {**fields, "round_closed": True})

    def bet_win(self, player: str, bet: int, win: int, tx: str, round_id: str) -> Answer:
        raise NotImplementedError("Hub88 has no combined bet-and-win call")

    def rollback(self, player: str, target: str, own_tx: str) -> Answer:
        fields = {**self._round(player, own_tx, "", 0), "reference_transaction_uuid": target}
        return self.send("/transaction/rollback", fields)

    def tampered(self, player: str) -> Answer:
        """A bet signed for 1 unit but carrying 1000."""
        signed = json.dumps({**self._round(player, "tamper", "tamper", 100), "request_uuid": "t"}).encode()
        sent = signed.replace(
            b'"amount": ' + str(self.units(100)).encode(), b'"amount": ' + str(self.units(100_000)).encode()
        )
        return self.send("/transaction/bet", {}, raw=sent, sign=signature.sign(self.key, signed))

    def malformed(self) -> Answer:
        return self.send("/transaction/bet", {}, raw=b'{"user": ')
