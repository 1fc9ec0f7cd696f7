"""iGamingAce callbacks ("command" protocol): one URL, the body's ``command`` selects the operation.

Every business outcome is HTTP 200 with ``{"balance", "statusCode"}`` (PROTOCOLS.md section 2).
The signature is checked on the raw JSON tokens before anything else is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

from flask import Flask, Response, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from wallet import wire
from wallet.core import signs
from wallet.core.money import AmountError, decimals, exponent, parse_amount
from wallet.core.wallet import Move, Outcome, Result, Wallet
from wallet.fastload import Loader, compile_loader
from wallet.fields import MAX_ID, Currency, ExactAmount, one_line
from wallet.ops import access, observe
from wallet.providers.igamingace.settings import IGamingAce

PROVIDER = "igamingace"

OK, UNKNOWN, INTEGRITY = "OK", "ERR_UNKNOWN", "ERR_INTEGRITY_CHECK_FAILED"
_STATUS: dict[Outcome, str] = {
    Outcome.OK: OK,
    Outcome.DUPLICATE: OK,
    Outcome.NO_PLAYER: "ERR_INVALID_PLAYER_ID",
    Outcome.BLOCKED: "ERR_NOT_AUTHENTICATED",
    Outcome.NO_SESSION: "ERR_NOT_AUTHENTICATED",
    Outcome.LIMIT: "ERR_NOT_AUTHENTICATED",  # PROTOCOLS.md section 3: a limit or exclusion refuses the bet
    Outcome.EXCLUDED: "ERR_NOT_AUTHENTICATED",
    Outcome.CURRENCY: "ERR_INVALID_ACCOUNT",
    Outcome.NO_FUNDS: "ERR_NOT_ENOUGH_MONEY",
    Outcome.NOT_FOUND: "ERR_TRANSACTION_DOES_NOT_EXIST",
    Outcome.NOT_A_BET: "ERR_TRANSACTION_DOES_NOT_EXIST",
    Outcome.ROLLED_BACK: "ERR_TRANSACTION_ROLLED_BACK",
    Outcome.CONFLICT: UNKNOWN,
    Outcome.BAD_AMOUNT: UNKNOWN,
    Outcome.TOO_LARGE: UNKNOWN,
}


class Token(wire.Number):
    """A JSON number exactly as it was written in the body (``1500``, ``12.30``, ``1e-8``, a 30-digit id)."""


class _Refused(Exception):
    """The request is answered with ``status`` before reaching the wallet."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def parse_flat(body: bytes) -> dict[str, Any]:
    """The body as a flat object whose numbers are Tokens; _Refused(ERR_UNKNOWN) otherwise."""
    try:
        obj = json.loads(body, parse_int=Token, parse_float=Token, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _Refused(UNKNOWN) from exc
    if not isinstance(obj, dict) or any(isinstance(v, (dict, list)) for v in obj.values()):
        raise _Refused(UNKNOWN)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def signing_string(body: dict[str, Any]) -> str:
    """The body's values in sorted-key order, joined by ',', rendered as JavaScript would."""
    return ",".join(_js(body[key]) for key in sorted(body))


def _js(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "null" if value is None else str(value)


def signature_of(token: str, body: bytes) -> str:
    """The X-Request-Signature of a raw body for ``token`` (ValueError if it is not a flat JSON object)."""
    try:
        parsed = parse_flat(body)
    except _Refused as exc:
        raise ValueError("not a flat JSON object") from exc
    return _Account(IGamingAce(token, "", 0)).signature(parsed)


class _Account:
    """A configured account: its currency (None: any) and its HMAC key prepared once."""

    def __init__(self, config: IGamingAce) -> None:
        self.config = config
        self.exp = None if config.currency is None else exponent(config.currency)
        self.accept = config.currency or ""  # the scripts' currency condition
        self._mac = hmac.new(config.api_token.encode(), digestmod=hashlib.sha512)

    def signature(self, body: dict[str, Any]) -> str:
        mac = self._mac.copy()
        mac.update(signing_string(body).encode("utf-8", "surrogatepass"))  # a lone surrogate signs, then is refused
        return base64.b64encode(mac.digest()).decode()

    def verify(self, body: dict[str, Any], given: str) -> None:
        if not hmac.compare_digest(self.signature(body).encode(), given.encode("utf-8", "replace")):
            raise _Refused(INTEGRITY)
        window = self.config.replay_window
        if window and not _fresh(body.get("timestamp"), window):
            raise _Refused(INTEGRITY)


_ROUND = ("transactionId", "playerId", "roundId", "providerId", "gameCode", "bonusId")
#: The keys each command may carry (PROTOCOLS.md section 2), "command" and "timestamp" included.
KEYS: dict[str, frozenset[str]] = {
    command: frozenset(("command", "timestamp", *keys))
    for command, keys in {
        "balance": ("playerId",),
        "bet": (*_ROUND, "currency", "amount", "isBonusBusy"),
        "win": (*_ROUND, "amount", "isRoundFinished"),
        "betwin": (*_ROUND, "betAmount", "winAmount"),
        "cancel": (*_ROUND, "referenceId"),
    }.items()
}


def _one_reading(body: dict[str, Any]) -> None:
    """_Refused(INTEGRITY) unless the signing string can be read one way only: the signature covers
    the values joined by ',', not the keys, so a key its command does not have, or a ',' inside
    a value, would let a captured signature carry another body."""
    allowed = KEYS.get(body.get("command"))  # type: ignore[arg-type]
    if allowed is not None and not body.keys() <= allowed:  # an unknown command is ERR_UNKNOWN later
        raise _Refused(INTEGRITY)
    if any(isinstance(value, str) and "," in value for value in body.values()):
        raise _Refused(INTEGRITY)


def _fresh(timestamp: Any, window: int) -> bool:
    """True when ``timestamp`` (unix seconds or milliseconds) is within ``window`` seconds of now."""
    if not isinstance(timestamp, Token) or len(timestamp) > 20:  # 1e999999999 never reaches arithmetic
        return False
    seconds = Decimal(timestamp)
    if not seconds.is_finite() or abs(seconds.adjusted()) > 15:
        return False
    if seconds > 10**11:  # milliseconds
        seconds /= 1000
    return abs(Decimal(time.time()) - seconds) <= window


class WireId(fields.Field[str]):
    """An id sent as a JSON integer (any size, digits kept exactly) or one line of 1..MAX_ID
    printable characters (wallet/fields.py one_line)."""

    #: Its OpenAPI type (wallet/operator/openapi.py asks the field, so it names no provider).
    openapi: ClassVar[dict[str, Any]] = {
        "oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1, "maxLength": MAX_ID}]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, Token):
            if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID:
                raise ValidationError("must be a whole number")
            return str(value)
        if isinstance(value, str) and one_line(value, MAX_ID):
            return value
        raise ValidationError(f"must be an integer or 1-{MAX_ID} printable characters on one line")


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE

    player = WireId(data_key="playerId", required=True)


class _Round(_Base):
    tx = WireId(data_key="transactionId", required=True)
    round = WireId(data_key="roundId", required=True)
    game = WireId(data_key="gameCode", load_default="")


class _Bet(_Round):
    currency = Currency(required=True)
    amount = ExactAmount(required=True)
    bonus = WireId(data_key="bonusId", load_default=None, allow_none=True)  # ties a free-spin bet to its grant


class _Win(_Round):
    amount = ExactAmount(required=True)


class _BetWin(_Round):
    bet = ExactAmount(data_key="betAmount", required=True)
    win = ExactAmount(data_key="winAmount", required=True)


class _Cancel(_Round):
    reference = WireId(data_key="referenceId", load_default="")


def _move(d: dict[str, Any], a: _Account, **amounts: Decimal) -> Move:
    """The movement in minor units at the account currency's decimals (an account of any
    currency: at the decimals the amounts need, at least 2); _Refused when they have more."""
    exp = a.exp if a.exp is not None else max(2, *(decimals(v) for v in amounts.values()))
    try:
        minor = {name: parse_amount(value, exp) for name, value in amounts.items()}
    except AmountError as exc:
        raise _Refused(UNKNOWN) from exc
    bet, win = minor.get("bet", 0), minor.get("win", 0)
    return Move(PROVIDER, d["player"], d["tx"], bet, win, d["round"], d["game"], currency=a.accept, exp=exp)


def _balance(w: Wallet, d: dict[str, Any], a: _Account) -> Result:
    result = w.player(d["player"], need_session=True)
    if a.config.currency and result.currency not in (None, a.config.currency):
        return Result(Outcome.CURRENCY)  # never another account's player's balance
    return result


def _bet(w: Wallet, d: dict[str, Any], a: _Account) -> Result:
    if a.config.currency and d["currency"] != a.config.currency:
        raise _Refused(_STATUS[Outcome.CURRENCY])
    bonus = "" if d["bonus"] in (None, "") else str(d["bonus"])
    move = _move(d, a, bet=d["amount"])
    return w.debit(replace(move, currency=d["currency"], need_session=True, index_round=True, bonus=bonus))


def _win(w: Wallet, d: dict[str, Any], a: _Account) -> Result:
    return w.credit(_move(d, a, win=d["amount"]))


def _bet_win(w: Wallet, d: dict[str, Any], a: _Account) -> Result:
    return w.bet_win(replace(_move(d, a, bet=d["bet"], win=d["win"]), need_session=True))


def _cancel(w: Wallet, d: dict[str, Any], a: _Account) -> Result:
    """Refund the bet named by referenceId, or every unrefunded bet of the round ('' reference);
    a round without bets yet is remembered, so its late bets are refused; a win is never refunded."""
    return w.rollback(
        PROVIDER,
        d["player"],
        d["reference"],
        own_tx=d["tx"],
        kind="cancel",
        round_id=d["round"],
        currency=a.accept,
        bets_only=True,
    )


def _claimed(wallet: Wallet, body: dict[str, Any]) -> bool:
    """False when this signature was accepted before with another body (values moved between
    keys sign the same: wallet/core/signs.py)."""
    signature = request.headers.get("X-Request-Signature", "")
    return wallet.claim(PROVIDER, signature, signs.body_text(str(body["command"]), body)) is not Outcome.CONFLICT


_Apply = Callable[[Wallet, dict[str, Any], _Account], Result]
_Command = tuple[Schema, Loader, _Apply]


def _command(schema: Schema, apply: _Apply) -> _Command:
    return schema, compile_loader(schema), apply


_COMMANDS: dict[str, _Command] = {
    "balance": _command(_Base(), _balance),
    "bet": _command(_Bet(), _bet),
    "win": _command(_Win(), _win),
    "betwin": _command(_BetWin(), _bet_win),
    "cancel": _command(_Cancel(), _cancel),
}


def init_app(app: Flask, configs: tuple[IGamingAce, ...], wallet: Wallet) -> None:
    """Serve each account's callbacks: /igamingace/<name>, or /igamingace for the single account."""
    for config in configs:
        path = f"/igamingace/{config.name}" if config.name else "/igamingace"
        endpoint = f"igamingace.callback.{config.name}" if config.name else "igamingace.callback"
        app.add_url_rule(path, endpoint, _callback(_Account(config), wallet), methods=["POST"])


def _reply(obs: observe.Observation, status: str, balance: int | None = None, unit: int = 2) -> Response:
    """The answer; the balance with the decimals the player's amounts are kept in."""
    obs.outcome = status
    return wire.json_response({"balance": wire.money(balance or 0, unit), "statusCode": status})


def _callback(account: _Account, wallet: Wallet) -> Callable[[], Response]:
    """The view: account and wallet bound once, so a callback looks up no app globals."""

    def callback() -> Response:
        obs = observe.current()
        obs.describe(PROVIDER, "unknown")
        if (refusal := access.refused(account.config.sources)) is not None:
            return refusal
        try:
            if not request.is_json:
                raise _Refused(UNKNOWN)
            body = parse_flat(request.get_data())
            account.verify(body, request.headers.get("X-Request-Signature", ""))
            _one_reading(body)
            command = _COMMANDS.get(body.get("command"))  # type: ignore[arg-type]
            if command is None:
                raise _Refused(UNKNOWN)
            schema, lean_load, apply = command
            obs.describe(PROVIDER, str(body["command"]), body.get("playerId"), body.get("transactionId"))
            data = lean_load(body)
            if data is None:
                data = schema.load(body)
            if apply is not _balance and not _claimed(wallet, body):
                raise _Refused(INTEGRITY)
            result = apply(wallet, data, account)
        except _Refused as refused:
            return _reply(obs, refused.status)
        except ValidationError:
            return _reply(obs, UNKNOWN)
        foreign = result.outcome is Outcome.CURRENCY and account.config.currency  # another account's player
        shown = None if foreign else result.balance
        return _reply(obs, _STATUS.get(result.outcome, UNKNOWN), shown, result.unit)

    return callback
