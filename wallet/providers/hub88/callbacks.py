"""Hub88 callbacks (operator Wallet API): five POST paths, RSA-signed raw bodies, RS_* statuses.

Every answer is HTTP 200 with ``{"user", "status", "request_uuid", "currency", "balance"}``
(PROTOCOLS.md section 4). The signature is checked over the raw bytes before anything is parsed;
amounts are integers in 1/100000 of the major unit, refused when not exact in the player's unit.
A transaction_uuid names one request across all players: it is claimed with its parameters in
the wallet's id registry (wallet/core/signs.py, kind 'tx'), so a reuse with another user,
amount, currency, round, game or reference is RS_ERROR_DUPLICATE_TRANSACTION.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, Response, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from wallet import wire
from wallet.core import tokens
from wallet.core.money import exponent
from wallet.core.wallet import Move, Outcome, Result, Wallet
from wallet.fields import MAX_ID, Currency, OneLine
from wallet.ops import observe
from wallet.providers.hub88 import signature
from wallet.providers.hub88.settings import WIRE_EXPONENT, Hub88

PROVIDER = "hub88"
OK, UNKNOWN = "RS_OK", "RS_ERROR_UNKNOWN"
INVALID_TOKEN, TOKEN_EXPIRED = "RS_ERROR_INVALID_TOKEN", "RS_ERROR_TOKEN_EXPIRED"
WRONG_CURRENCY, BAD_SIGNATURE = "RS_ERROR_WRONG_CURRENCY", "RS_ERROR_INVALID_SIGNATURE"
WRONG_SYNTAX, WRONG_TYPES = "RS_ERROR_WRONG_SYNTAX", "RS_ERROR_WRONG_TYPES"
DUPLICATE, NO_TRANSACTION = "RS_ERROR_DUPLICATE_TRANSACTION", "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
#: Largest amount read (1/100000 units): far past any balance, and an exact integer everywhere.
MAX_AMOUNT = 10**18

_STATUS: dict[Outcome, str] = {
    Outcome.OK: OK,
    Outcome.DUPLICATE: OK,
    Outcome.CONFLICT: DUPLICATE,
    Outcome.NO_PLAYER: INVALID_TOKEN,  # no such user: the (user, token) pair names nobody we know
    Outcome.BLOCKED: "RS_ERROR_USER_DISABLED",
    Outcome.NO_SESSION: TOKEN_EXPIRED,
    Outcome.CURRENCY: WRONG_CURRENCY,
    Outcome.NO_FUNDS: "RS_ERROR_NOT_ENOUGH_MONEY",
    Outcome.NOT_FOUND: NO_TRANSACTION,
    Outcome.NOT_A_BET: NO_TRANSACTION,
    Outcome.ROLLED_BACK: "RS_ERROR_TRANSACTION_ROLLED_BACK",
    Outcome.BAD_AMOUNT: WRONG_TYPES,
    Outcome.TOO_LARGE: WRONG_TYPES,
    Outcome.LIMIT: "RS_ERROR_LIMIT_REACHED",
    Outcome.EXCLUDED: "RS_ERROR_USER_DISABLED",
}
#: A rollback is answered RS_OK when there was nothing (more) to refund: a bet never seen (now
#: remembered, so its late arrival is refused), or one already refunded under another uuid.
_ROLLBACK_STATUS = {**_STATUS, Outcome.NOT_FOUND: OK, Outcome.ROLLED_BACK: OK}


class _Refused(Exception):
    """The request is answered with ``status`` (and the player's balance, when known)."""

    def __init__(self, status: str, known: Result | None = None) -> None:
        super().__init__(status)
        self.status, self.known = status, known


class _MaybeLine(OneLine):
    """OneLine, or empty: an optional id may be sent as ''."""

    def __call__(self, value: str) -> str:
        return value if value == "" else super().__call__(value)


def _text(most: int = MAX_ID, **kwargs: Any) -> fields.String:
    """A string id: required ones are one line of 1..most printable characters; optional ones may be ''."""
    return fields.String(validate=OneLine(most) if kwargs.get("required") else _MaybeLine(most), **kwargs)


def _flag() -> fields.Boolean:
    return fields.Boolean(load_default=False, truthy={True}, falsy={False})


class _User(Schema):
    class Meta:
        unknown = EXCLUDE  # fields the wallet does not use (supplier_user, meta, ...) are accepted

    user = _text(required=True)
    request_uuid = _text(required=True)


class _Balance(_User):
    token = _text(tokens.MAX_LENGTH, required=True)
    game_code = _text(load_default="")
    currency = Currency(load_default=None)


class _Money(_User):
    token = _text(tokens.MAX_LENGTH, load_default="")
    transaction_uuid = _text(required=True)
    reference_transaction_uuid = _text(load_default="")
    currency = Currency(required=True)
    game_code = _text(load_default="")
    round = _text(load_default="")
    round_closed = _flag()
    is_free = _flag()
    is_supplier_promo = _flag()
    reward_uuid = _text(load_default="")
    amount = fields.Integer(strict=True, required=True, validate=validate.Range(0, MAX_AMOUNT))


class _Bet(_Money):
    token = _text(tokens.MAX_LENGTH, required=True)


class _Rollback(_Money):
    reference_transaction_uuid = _text(required=True)
    currency = Currency(load_default=None)
    amount = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, MAX_AMOUNT))


_MISSING = fields.Field.default_error_messages["required"]


def _load(schema: Schema, body: bytes) -> dict[str, Any]:
    """The validated body: WRONG_SYNTAX for malformed JSON or a missing field, WRONG_TYPES otherwise."""
    try:
        parsed = wire.loads(body)
    except wire.BadJSON as exc:
        raise _Refused(WRONG_SYNTAX) from exc
    if not isinstance(parsed, dict):
        raise _Refused(WRONG_SYNTAX)
    try:
        return schema.load(parsed)  # type: ignore[no-any-return]
    except ValidationError as exc:
        problems: dict[str, Any] = exc.normalized_messages()  # type: ignore[no-untyped-call]
        missing = any(_MISSING in listed for listed in problems.values())
        raise _Refused(WRONG_SYNTAX if missing else WRONG_TYPES) from exc


@dataclass(frozen=True)
class _Account:
    config: Hub88

    def player(self, w: Wallet, user: str) -> Result:
        """The player, refused when unknown or of a currency this account does not answer."""
        found = w.player(user)
        if found.outcome is Outcome.NO_PLAYER:
            raise _Refused(INVALID_TOKEN)
        if not self.answers(found.currency):
            raise _Refused(WRONG_CURRENCY)
        return found

    def answers(self, currency: str | None) -> bool:
        """True for the account's currency (any, for an account of none) with at most 5 decimals."""
        if currency is None or (self.config.currency and currency != self.config.currency):
            return False
        return (exponent(currency) or 0) <= WIRE_EXPONENT


def _session(w: Wallet, d: dict[str, Any]) -> None:
    """Refused unless the token was issued to the user in their open session."""
    state = w.check_token(d["user"], d["token"])
    if state is not Outcome.OK:
        raise _Refused(TOKEN_EXPIRED if state is Outcome.NO_SESSION else INVALID_TOKEN)


def _info(w: Wallet, d: dict[str, Any], a: _Account) -> tuple[str, Result]:
    """The player, with the facts the operator set (country, birth_date: answered where known)."""
    found = a.player(w, d["user"])
    d["facts"] = w.protection(d["user"]).facts
    return OK, found


def _balance(w: Wallet, d: dict[str, Any], a: _Account) -> tuple[str, Result]:
    _session(w, d)
    found = a.player(w, d["user"])
    if d["currency"] not in (None, found.currency):
        raise _Refused(WRONG_CURRENCY, found)
    return OK, found


def _move(d: dict[str, Any], a: _Account, bet: int = 0, win: int = 0) -> Move:
    if not a.answers(d["currency"]):
        raise _Refused(WRONG_CURRENCY)
    bonus = d["reward_uuid"] or ("free-spin" if d["is_free"] else "")
    return Move(
        PROVIDER,
        d["user"],
        d["transaction_uuid"],
        bet,
        win,
        round=d["round"],
        game=d["game_code"],
        currency=d["currency"],
        exp=WIRE_EXPONENT,
        free_spin=d["is_free"],
        bonus=bonus,
    )


def _bet(w: Wallet, d: dict[str, Any], a: _Account) -> tuple[str, Result]:
    move = _move(d, a, bet=d["amount"])
    _session(w, d)
    _claim(w, "bet", d)
    result = w.debit(replace(move, need_session=True))
    return _STATUS.get(result.outcome, UNKNOWN), result


def _win(w: Wallet, d: dict[str, Any], a: _Account) -> tuple[str, Result]:
    move = _move(d, a, win=d["amount"])
    if not d["is_supplier_promo"] and not d["reference_transaction_uuid"]:
        raise _Refused(WRONG_SYNTAX)  # a game win names the bet it pays
    _claim(w, "win", d)
    pays = "" if d["is_supplier_promo"] else d["reference_transaction_uuid"]
    result = w.credit(move, pays=pays)
    return _STATUS.get(result.outcome, UNKNOWN), result


def _rollback(w: Wallet, d: dict[str, Any], a: _Account) -> tuple[str, Result]:
    if d["currency"] is not None and not a.answers(d["currency"]):
        raise _Refused(WRONG_CURRENCY)
    _claim(w, "rollback", d)
    result = w.rollback(
        PROVIDER,
        d["user"],
        d["reference_transaction_uuid"],
        own_tx=d["transaction_uuid"],
        round_id=d["round"],
        currency=d["currency"] or a.config.currency or "",
        bets_only=True,
    )
    return _ROLLBACK_STATUS.get(result.outcome, UNKNOWN), result


#: What makes two requests with one transaction_uuid the same request (request_uuid and token vary).
_CLAIMED = ("user", "currency", "amount", "round", "game_code", "reference_transaction_uuid", "is_free")


def _claim(w: Wallet, operation: str, d: dict[str, Any]) -> None:
    """DUPLICATE_TRANSACTION when this transaction_uuid was used before for another request."""
    body = json.dumps([operation, *(str(d[name]) for name in _CLAIMED)])
    if w.claim(PROVIDER, d["transaction_uuid"], body, kind="tx") is Outcome.CONFLICT:
        raise _Refused(DUPLICATE)


_Apply = Callable[[Wallet, dict[str, Any], _Account], tuple[str, Result]]
#: path -> (operation name, schema, apply)
ROUTES: dict[str, tuple[str, Schema, _Apply]] = {
    "/user/info": ("info", _User(), _info),
    "/user/balance": ("balance", _Balance(), _balance),
    "/transaction/bet": ("bet", _Bet(), _bet),
    "/transaction/win": ("win", _Money(), _win),
    "/transaction/rollback": ("rollback", _Rollback(), _rollback),
}


def base_path(config: Hub88) -> str:
    """Where the account's callbacks live: /hub88, or /hub88/<name> with several accounts."""
    return f"/hub88/{config.name}" if config.name else "/hub88"


def init_app(app: Flask, configs: tuple[Hub88, ...], wallet: Wallet) -> None:
    """Serve each account's five callbacks under its base path."""
    for config in configs:
        account = _Account(config)
        for path, route in ROUTES.items():
            endpoint = f"hub88.{config.name or '_'}.{route[0]}"
            app.add_url_rule(base_path(config) + path, endpoint, _callback(account, wallet, *route), methods=["POST"])


def _callback(
    account: _Account, wallet: Wallet, operation: str, schema: Schema, apply: _Apply
) -> Callable[[], Response]:
    """The view of one path: account, wallet and operation bound once."""

    def callback() -> Response:
        obs = observe.current()
        obs.describe(PROVIDER, operation)
        body = request.get_data()
        if not signature.valid(account.config.public_key, body, request.headers.get(signature.HEADER, "")):
            return _reply(obs, {}, BAD_SIGNATURE)  # nothing read: not even the request_uuid
        data: dict[str, Any] = {}
        try:
            data = _load(schema, body)
            obs.describe(PROVIDER, operation, data["user"], data.get("transaction_uuid"))
            status, result = apply(wallet, data, account)
        except _Refused as refused:
            return _reply(obs, data, refused.status, refused.known)
        return _reply(obs, data, status, _with_currency(wallet, data["user"], result))

    return callback


def _with_currency(w: Wallet, user: str, result: Result) -> Result | None:
    """The result with the player's currency (a replay or a refusal answers the balance alone);
    None for a player of another currency than the request's (their balance is not shown)."""
    if result.outcome is Outcome.CURRENCY or result.balance is None:
        return None
    return result if result.currency is not None else w.player(user)


def _reply(obs: observe.Observation, data: dict[str, Any], status: str, result: Result | None = None) -> Response:
    """The answer: what was asked (user, request_uuid) and, where the player is known, the
    balance in 1/100000 units with its currency."""
    obs.outcome = status
    reply: dict[str, Any] = {"user": data.get("user"), "status": status, "request_uuid": data.get("request_uuid")}
    reply.update(data.get("facts", {}))
    if result is not None and result.balance is not None and result.currency is not None:
        reply["currency"] = result.currency
        reply["balance"] = result.balance * 10 ** (WIRE_EXPONENT - result.unit)
    return wire.json_response(reply)
