"""Provider sides for the simulator: sign and send each callback, normalise each answer.

Every provider answers with its own codes; the simulator compares normalised ones:
OK, DUPLICATE-as-OK, NO_FUNDS, NO_PLAYER, BLOCKED, NOT_FOUND, ROLLED_BACK, BAD_SIGN, BAD_INPUT,
BAD_AGENT, NO_SESSION, CURRENCY, ERROR; plus HTTP for a non-200 answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import requests

from wallet.core.money import format_amount
from wallet.wire import Number

GSP_CODES = {
    0: "OK",
    1: "BLOCKED",
    2: "BAD_INPUT",
    3: "BAD_SIGN",
    4: "BAD_AGENT",
    5: "NO_PLAYER",
    6: "NO_FUNDS",
    8: "NOT_FOUND",
    9: "ROLLED_BACK",
    11: "OK",
}
ACE_CODES = {
    "OK": "OK",
    "ERR_NOT_ENOUGH_MONEY": "NO_FUNDS",
    "ERR_INVALID_PLAYER_ID": "NO_PLAYER",
    "ERR_NOT_AUTHENTICATED": "NO_SESSION",
    "ERR_TRANSACTION_DOES_NOT_EXIST": "NOT_FOUND",
    "ERR_TRANSACTION_ROLLED_BACK": "ROLLED_BACK",
    "ERR_INTEGRITY_CHECK_FAILED": "BAD_SIGN",
    "ERR_INVALID_ACCOUNT": "CURRENCY",
    "ERR_UNKNOWN": "BAD_INPUT",
}


@dataclass(frozen=True)
class Answer:
    """A callback's normalised outcome, the balance it reported (minor units) and its latency."""

    code: str
    balance: int | None
    seconds: float
    raw: Any = None


class Provider(ABC):
    """Base: a pooled HTTP session and timing. Subclasses build and sign the bodies.

    Amounts are minor units of ``currency`` (``exp`` decimals), the test players' currency.
    """

    name = ""
    reverses_wins = True  # a rollback may undo a win (GitSlotPark); an iGamingAce cancel refunds bets only
    #: How the provider reports a blocked player's bet (iGamingAce has no blocked code).
    blocked_code = "BLOCKED"
    #: How it refuses a player whose currency is not the account's.
    currency_code = "CURRENCY"
    has_bet_win = True  # one call bets and wins (Hub88 has none)
    ids_per_player = True  # two players may carry one transaction id (Hub88's are global)
    unseen_rollback_code = "NOT_FOUND"  # a rollback of a bet never seen
    repeat_rollback_code = "ROLLED_BACK"  # a second rollback of a refunded bet under another id
    needs_tokens = False  # its calls carry the session token of the operator API's sign-in
    wins_name_bets = False  # a win names the bet it pays (refused when that bet is rolled back)

    def __init__(self, base_url: str, currency: str = "EUR", exp: int = 2, timeout: float = 5.0) -> None:
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.currency, self.exp = currency, exp
        #: A currency this account refuses (None: it takes every currency); set by the caller.
        self.foreign: str | None = None
        self.tokens: dict[str, str] = {}  # each player's session token (the sign-in's), where it needs one
        self.http = requests.Session()

    def minor(self, value: Any) -> int | None:
        """A wire amount as minor units of the players' currency."""
        if value is None or isinstance(value, bool):
            return None
        return int(Decimal(str(value)).scaleb(self.exp))

    def shown(self, minor: int) -> str:
        """Minor units as the operator API writes them."""
        return format_amount(minor, self.exp)

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, float]:
        started = time.perf_counter()
        response = self.http.post(
            url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=self.timeout
        )
        seconds = time.perf_counter() - started
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return response.status_code, payload, seconds

    @abstractmethod
    def balance(self, player: str) -> Answer: ...

    @abstractmethod
    def bet(self, player: str, amount: int, tx: str, round_id: str) -> Answer: ...

    @abstractmethod
    def win(self, player: str, amount: int, tx: str, round_id: str) -> Answer: ...

    @abstractmethod
    def bet_win(self, player: str, bet: int, win: int, tx: str, round_id: str) -> Answer: ...

    @abstractmethod
    def rollback(self, player: str, target: str, own_tx: str) -> Answer:
        """Reverse ``target``; ``own_tx`` is the reversal's id where the protocol has one."""

    @abstractmethod
    def tampered(self, player: str) -> Answer:
        """A call whose body was changed after signing."""

    @abstractmethod
    def malformed(self) -> Answer:
        """A call whose body is not valid JSON."""


class GitSlotPark(Provider):
    """The classic agent protocol (result, transactionID)."""

    name = "gitslotpark"
    result_key = "result"
    currency_code = "BAD_AGENT"

    def __init__(self, base_url: str, agent: str, secret: str, currency: str = "EUR", exp: int = 2) -> None:
        super().__init__(base_url, currency, exp)
        self.agent, self.secret = agent, secret

    def sign(self, *parts: object) -> str:
        text = "".join(format_amount(p) if isinstance(p, Cents) else str(p) for p in parts)
        return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()

    def call(self, operation: str, body: dict[str, Any], sign: str | None = None, raw: bytes | None = None) -> Answer:
        if sign is not None:
            body = {**body, "sign": sign}
        data = raw if raw is not None else json.dumps(body).encode()
        status, payload, seconds = self._send(f"{self.base_url}/gitslotpark/{operation}", data, {})
        if status != 200 or not isinstance(payload, dict):
            return Answer(f"HTTP {status}", None, seconds, payload)
        result = payload.get(self.result_key)
        code = GSP_CODES.get(result, "ERROR") if isinstance(result, int) else "ERROR"
        return Answer(code, self.minor(payload.get("balance")), seconds, payload)

    def balance(self, player: str) -> Answer:
        return self.call("GetBalance", {"agentID": self.agent, "userID": player}, self.sign(self.agent, player))

    #: Extra fields sent and signed (after the classic ones) on money calls: the agent dialect's gameID.
    extra: ClassVar[dict[str, object]] = {}

    def _money(
        self,
        operation: str,
        player: str,
        amounts: dict[str, int],
        tx: str,
        round_id: str,
        sent: dict[str, int] | None = None,
    ) -> Answer:
        """A signed money call; ``sent`` replaces the amounts in the body after signing (tampering).

        GitSlotPark's wire has two decimals whatever the currency: amounts go in hundredths.
        """
        scale = 10 ** (2 - self.exp)
        shown = {name: format_amount(value * scale) for name, value in (sent or amounts).items()}
        body = {
            "agentID": self.agent,
            "userID": player,
            **shown,
            "transactionID": tx,
            "roundID": round_id,
            **self.extra,
        }
        parts = (*(Cents(v * scale) for v in amounts.values()), tx, round_id, *self.extra.values())
        return self.call(operation, body, self.sign(self.agent, player, *parts))

    def bet(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        return self._money("Withdraw", player, {"amount": amount}, tx, round_id)

    def win(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        return self._money("Deposit", player, {"amount": amount}, tx, round_id)

    def bet_win(self, player: str, bet: int, win: int, tx: str, round_id: str) -> Answer:
        return self._money("BetWin", player, {"betAmount": bet, "winAmount": win}, tx, round_id)

    def rollback(self, player: str, target: str, own_tx: str) -> Answer:
        body = {"agentID": self.agent, "userID": player, "transactionID": target}
        return self.call("RollbackTransaction", body, self.sign(self.agent, player, target))

    def tampered(self, player: str) -> Answer:
        """A Withdraw signed for 1.00 but carrying 1000.00."""
        return self._money("Withdraw", player, {"amount": 100}, "tamper", "tamper", sent={"amount": 100_000})

    def malformed(self) -> Answer:
        return self.call("Withdraw", {}, raw=b'{"agentID": ')


class GitSlotParkAgent(GitSlotPark):
    """The agent-style dialect: code, gameID in the sign, rollbacks with their own id."""

    name = "gitslotpark-agent"
    result_key = "code"
    extra: ClassVar[dict[str, object]] = {"gameID": 1}

    def rollback(self, player: str, target: str, own_tx: str) -> Answer:
        body = {"agentID": self.agent, "userID": player, "transactionID": own_tx, "refTransactionID": target}
        return self.call("RollbackTransaction", body, self.sign(self.agent, player, own_tx, target))


class IGamingAce(Provider):
    """The command protocol: one URL, X-Request-Signature over the raw JSON values."""

    name = "igamingace"
    reverses_wins = False
    blocked_code = "NO_SESSION"

    def __init__(self, base_url: str, token: str, currency: str = "EUR", exp: int = 2, account: str = "") -> None:
        super().__init__(base_url, currency, exp)
        self.token, self.path = token, f"/igamingace/{account}" if account else "/igamingace"
        self._mac = hmac.new(token.encode(), digestmod=hashlib.sha512)

    def send(self, fields: dict[str, Any], signature: str | None = None, raw: bytes | None = None) -> Answer:
        body = {**fields, "timestamp": int(time.time())}
        text = raw if raw is not None else _ace_json(body)
        if signature is None:
            mac = self._mac.copy()
            mac.update(",".join(_ace_value(body[k]) for k in sorted(body)).encode())
            signature = base64.b64encode(mac.digest()).decode()
        status, payload, seconds = self._send(self.base_url + self.path, text, {"X-Request-Signature": signature})
        if status != 200 or not isinstance(payload, dict):
            return Answer(f"HTTP {status}", None, seconds, payload)
        status_code = str(payload.get("statusCode"))
        return Answer(ACE_CODES.get(status_code, "ERROR"), self.minor(payload.get("balance")), seconds, payload)

    def amount(self, minor: int) -> Number:
        """A JSON number with the currency's decimals (signed as written)."""
        return Number(format_amount(minor, self.exp))

    def balance(self, player: str) -> Answer:
        return self.send({"command": "balance", "playerId": player})

    def bet(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        return self.send(
            {
                "command": "bet",
                "transactionId": _int_id(tx),
                "playerId": player,
                "roundId": _int_id(round_id),
                "providerId": "sim",
                "gameCode": "sim-slot",
                "currency": self.currency,
                "amount": self.amount(amount),
                "isBonusBusy": False,
                "bonusId": None,
            }
        )

    def win(self, player: str, amount: int, tx: str, round_id: str) -> Answer:
        return self.send(
            {
                "command": "win",
                "transactionId": _int_id(tx),
                "playerId": player,
                "roundId": _int_id(round_id),
                "providerId": "sim",
                "gameCode": "sim-slot",
                "amount": self.amount(amount),
                "isRoundFinished": True,
                "bonusId": None,
            }
        )

    def bet_win(self, player: str, bet: int, win: int, tx: str, round_id: str) -> Answer:
        return self.send(
            {
                "command": "betwin",
                "transactionId": _int_id(tx),
                "playerId": player,
                "roundId": _int_id(round_id),
                "providerId": "sim",
                "gameCode": "sim-slot",
                "betAmount": self.amount(bet),
                "winAmount": self.amount(win),
                "bonusId": None,
            }
        )

    def rollback(self, player: str, target: str, own_tx: str) -> Answer:
        return self.send(
            {
                "command": "cancel",
                "transactionId": _int_id(own_tx),
                "playerId": player,
                "roundId": 0,
                "providerId": "sim",
                "gameCode": "sim-slot",
                "referenceId": _int_id(target),
            }
        )

    def tampered(self, player: str) -> Answer:
        fields = {"command": "balance", "playerId": player}
        return self.send(fields, signature=base64.b64encode(b"x" * 64).decode())

    def malformed(self) -> Answer:
        return self.send({}, raw=b'{"command": ')


class Cents(int):
    """A GitSlotPark amount in hundredths, signed as a two-decimal number."""


def _ace_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _ace_json(body: dict[str, Any]) -> bytes:
    parts = [f"{json.dumps(k)}:{v if isinstance(v, Number) else json.dumps(v)}" for k, v in body.items()]
    return ("{" + ",".join(parts) + "}").encode()


def _int_id(text: str) -> int:
    """iGamingAce ids are integers: a stable one for any simulator id (digits kept as they are)."""
    return int(text) if text.isdigit() else int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)
