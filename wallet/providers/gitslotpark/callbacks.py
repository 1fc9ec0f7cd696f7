"""GitSlotPark callbacks ("agent" protocol): parse, verify the sign, call the core, answer a result code.

Every business outcome is HTTP 200 with a result code in the body (PROTOCOLS.md section 1). The
sign is checked before anything is read from storage. ``GITSLOTPARK_DIALECT=agent`` switches to
the variant seen in the wild: ``code`` instead of ``result``, an integer ``gameID`` signed on
money calls, ``refTransactionID`` on Deposit and Rollback (whose own ``transactionID`` is then
the rollback's id) and ``platformTransactionID`` in replies.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from marshmallow import ValidationError

from wallet import wire
from wallet.core import signs
from wallet.core.money import LEGACY_UNIT, exponent, format_amount, rescale
from wallet.core.wallet import Move, Outcome, Result, Wallet
from wallet.fastload import Loader, compile_loader
from wallet.ops import access, observe
from wallet.providers.gitslotpark import schemas as schemas
from wallet.providers.gitslotpark.settings import GitSlotPark

PROVIDER = "gitslotpark"

# Result codes of the protocol.
SUCCESS, GENERAL, BAD_INPUT, BAD_SIGN, BAD_AGENT, NO_USER, NO_FUNDS = 0, 1, 2, 3, 4, 5, 6
TX_NOT_FOUND, ROLLED_BACK = 8, 9

_FAILURES: dict[Outcome, tuple[int, str]] = {
    Outcome.NO_PLAYER: (NO_USER, "User not found"),
    Outcome.BLOCKED: (GENERAL, "Player is blocked"),
    Outcome.NO_FUNDS: (NO_FUNDS, "Insufficient funds"),
    Outcome.CONFLICT: (BAD_INPUT, "transactionID already used with other parameters"),
    Outcome.NOT_FOUND: (TX_NOT_FOUND, "Transaction not found"),
    Outcome.ROLLED_BACK: (ROLLED_BACK, "Transaction already rolled back"),
    Outcome.CURRENCY: (BAD_AGENT, "Invalid agent for this player's currency"),
    Outcome.BAD_AMOUNT: (BAD_INPUT, "Amount has more decimals than the player's currency"),
    Outcome.TOO_LARGE: (BAD_INPUT, "Amount too large: past the per-request limit or the largest balance"),
}
_AMOUNTS = frozenset({"amount", "bet_amount", "win_amount"})


@dataclass(frozen=True)
class _Operation:
    """One callback: its schema, the fields of its sign input in order, and the core call."""

    schema: schemas.Schema
    sign_fields: tuple[str, ...]
    apply: Callable[[Wallet, dict[str, Any], str], Result]  # wallet, body, the account's currency condition
    moves_money: bool = True
    lean_load: Loader = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lean_load", compile_loader(self.schema))

    def load(self, body: Any) -> dict[str, Any]:
        """The body loaded as the schema does (its ValidationError when refused)."""
        data = self.lean_load(body)
        return data if data is not None else self.schema.load(body)


def _move(d: dict[str, Any], accept: str, bet: int = 0, win: int = 0) -> Move:
    return Move(
        PROVIDER,
        d["user_id"],
        d["transaction_id"],
        bet=bet,
        win=win,
        round=d["round_id"],
        game=str(d.get("game_id", "")),
        free_spin=d.get("free_spin", False),
        currency=accept,
    )


_WHO = ("agent_id", "user_id")
_MONEY = (*_WHO, "amount", "transaction_id", "round_id")
_BET_WIN = (*_WHO, "bet_amount", "win_amount", "transaction_id", "round_id")
_GET_BALANCE = _Operation(schemas.Base(), _WHO, lambda w, d, accept: w.player(d["user_id"]), moves_money=False)


def _withdraw(w: Wallet, d: dict[str, Any], accept: str) -> Result:
    return w.debit(_move(d, accept, bet=d["amount"]))


def _deposit(w: Wallet, d: dict[str, Any], accept: str) -> Result:
    return w.credit(_move(d, accept, win=d["amount"]))


def _bet_win(w: Wallet, d: dict[str, Any], accept: str) -> Result:
    return w.bet_win(_move(d, accept, bet=d["bet_amount"], win=d["win_amount"]))


CLASSIC = {
    "GetBalance": _GET_BALANCE,
    "Withdraw": _Operation(schemas.Money(), _MONEY, _withdraw),
    "Deposit": _Operation(schemas.Money(), _MONEY, _deposit),
    "BetWin": _Operation(schemas.BetWin(), _BET_WIN, _bet_win),
    "RollbackTransaction": _Operation(
        schemas.Rollback(),
        (*_WHO, "transaction_id"),
        lambda w, d, accept: w.rollback(PROVIDER, d["user_id"], d["transaction_id"], currency=accept),
    ),
}
AGENT = {
    "GetBalance": _GET_BALANCE,
    "Withdraw": _Operation(schemas.AgentMoney(), (*_MONEY, "game_id"), _withdraw),
    "Deposit": _Operation(schemas.AgentDeposit(), (*_MONEY, "ref_transaction_id", "game_id"), _deposit),
    "BetWin": _Operation(schemas.AgentBetWin(), (*_BET_WIN, "game_id"), _bet_win),
    "RollbackTransaction": _Operation(
        schemas.AgentRollback(),
        (*_WHO, "transaction_id", "ref_transaction_id"),
        lambda w, d, accept: w.rollback(
            PROVIDER, d["user_id"], d["ref_transaction_id"], own_tx=d["transaction_id"], currency=accept
        ),
    ),
}


class _Account:
    """A configured account: its dialect, its currency condition, and its HMAC key prepared once."""

    def __init__(self, config: GitSlotPark) -> None:
        self.config = config
        # The scripts' currency condition: the account's currency, or any kept in at most 2 decimals.
        self.accept = config.currency or "2"
        self.exp = LEGACY_UNIT if config.currency is None else exponent(config.currency)
        self.operations = AGENT if config.dialect == "agent" else CLASSIC
        self.result_key = "code" if config.dialect == "agent" else "result"
        self.reference_key = "platformTransactionID" if config.dialect == "agent" else "transactionID"
        self._agent = config.agent_id.encode()
        self._mac = hmac.new(config.secret_key.encode(), digestmod=hashlib.sha256)

    def sign(self, text: str) -> str:
        mac = self._mac.copy()
        mac.update(text.encode())
        return mac.hexdigest().upper()

    def agent_ok(self, agent_id: str) -> bool:
        return hmac.compare_digest(agent_id.encode(), self._agent)

    def amounts_ok(self, data: dict[str, Any]) -> bool:
        """False when an amount has more decimals than the account's currency (JPY: none)."""
        unit = 10 ** (2 - (self.exp or 0))
        return all(data[name] % unit == 0 for name in _AMOUNTS if name in data)

    def serves(self, result: Result) -> bool:
        """A balance read is this account's: the player's currency is its own (or fits 2 decimals)."""
        if result.currency is None:
            return True
        return result.currency == self.config.currency if self.config.currency else result.unit <= 2

    def sign_ok(self, operation: _Operation, data: dict[str, Any]) -> bool:
        given = data["sign"]
        if not isinstance(given, str):
            return False
        expected = self.sign(sign_input(operation, data)).encode()
        return hmac.compare_digest(expected, given.upper().encode("utf-8", "replace"))  # a lone surrogate: no match

    def reply(self, obs: observe.Observation, result: int, message: str, **extra: Any) -> Response:
        obs.outcome = str(result)
        return wire.json_response({self.result_key: result, "message": message, **extra})


def sign_input(operation: _Operation, data: dict[str, Any]) -> str:
    """The operation's sign fields concatenated, amounts with exactly two decimals."""
    return "".join(
        format_amount(data[name]) if name in _AMOUNTS else str(data.get(name, "")) for name in operation.sign_fields
    )


def sign_of(config: GitSlotPark, operation: str, body: bytes) -> str:
    """The sign a GitSlotPark account would send with ``body`` (a JSON object, its ``sign`` left
    out) for ``operation`` in the account's dialect; ValueError naming what is wrong."""
    account = _Account(config)
    chosen = account.operations.get(operation)
    if chosen is None:
        raise ValueError(f"unknown operation {operation!r}: one of {', '.join(account.operations)}")
    try:
        parsed = wire.loads(body)
        data = chosen.load({**parsed, "sign": ""} if isinstance(parsed, dict) else parsed)
    except wire.BadJSON as exc:
        raise ValueError("not valid JSON") from exc
    except ValidationError as exc:
        raise ValueError(schemas.describe(exc)) from exc
    return account.sign(sign_input(chosen, data))


def init_app(app: Flask, configs: tuple[GitSlotPark, ...], wallet: Wallet) -> None:
    """Serve the callbacks of the configured accounts (one URL: the body's agentID selects)."""
    view = _callback({config.agent_id: _Account(config) for config in configs}, wallet)
    app.add_url_rule("/gitslotpark/<name>", "gitslotpark.callback", view, methods=["POST"])


def _callback(accounts: dict[str, _Account], wallet: Wallet) -> Callable[[str], Response]:
    """The view: accounts and wallet bound once, so a callback looks up no app globals."""
    first = next(iter(accounts.values()))  # the answer's dialect before an agent is known

    def callback(name: str) -> Response:
        obs = observe.current()
        account = first
        operation = account.operations.get(name)
        obs.describe(PROVIDER, name if operation else "unknown")
        if (refusal := access.refused(account.config.sources)) is not None:
            return refusal
        if operation is None:
            return wire.error_response(404, "not_found", f"unknown GitSlotPark operation {name!r}")
        if not request.is_json:
            return account.reply(obs, BAD_INPUT, "Content-Type must be application/json")
        try:
            data = operation.load(wire.loads(request.get_data()))
        except wire.BadJSON:
            return account.reply(obs, BAD_INPUT, "Body is not valid JSON")
        except ValidationError as exc:
            return account.reply(obs, BAD_INPUT, schemas.describe(exc))
        obs.player, obs.tx = data["user_id"], data.get("transaction_id")
        account = accounts.get(data["agent_id"], first)
        if not account.agent_ok(data["agent_id"]):
            return account.reply(obs, BAD_AGENT, "Invalid agent")
        if not account.sign_ok(operation, data):
            return account.reply(obs, BAD_SIGN, "Invalid sign")
        if not account.amounts_ok(data):
            return account.reply(obs, *_FAILURES[Outcome.BAD_AMOUNT])
        if operation.moves_money and not _claimed(wallet, name, data):
            return account.reply(obs, BAD_SIGN, "Invalid sign: already accepted with another body")
        return _render(obs, operation.apply(wallet, data, account.accept), operation, account)

    return callback


def _claimed(wallet: Wallet, name: str, data: dict[str, Any]) -> bool:
    """False when this sign was accepted before with another body (a re-cut: wallet/core/signs.py)."""
    body = signs.body_text(name, {key: value for key, value in data.items() if key != "sign"})
    return wallet.claim(PROVIDER, data["sign"].upper(), body) is not Outcome.CONFLICT


def _render(obs: observe.Observation, result: Result, operation: _Operation, account: _Account) -> Response:
    if result.ok and not account.serves(result):
        result = Result(Outcome.CURRENCY)
    if result.outcome in (Outcome.LIMIT, Outcome.EXCLUDED):  # PROTOCOLS.md section 3: 1, naming the limit
        what = f"{result.limit} limit reached" if result.outcome is Outcome.LIMIT else f"player in {result.limit}"
        return account.reply(obs, GENERAL, f"Bet refused: {what}")
    if not result.ok:
        return account.reply(obs, *_FAILURES.get(result.outcome, (GENERAL, "General error")))
    assert result.balance is not None
    code = account.config.duplicate_result if result.outcome is Outcome.DUPLICATE else SUCCESS
    message = "Duplicate transaction" if code else "OK"
    balance = wire.money(rescale(result.balance, result.unit, 2) or 0)  # unit <= 2: the scripts checked
    if operation.moves_money:
        return account.reply(obs, code, message, balance=balance, **{account.reference_key: result.reference})
    return account.reply(obs, code, message, balance=balance, currency=result.currency)
