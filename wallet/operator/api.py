"""Operator API: players, cashier movements and player status, behind the operator's bearer key."""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError, fields, validate

from wallet import wire
from wallet.context import services
from wallet.core.money import AmountError, exponent, format_amount, parse_amount, shown
from wallet.core.wallet import Move, Outcome, Result
from wallet.fields import Currency, ExactAmount, describe
from wallet.providers.platform import PlatformBusy, PlatformError, PlatformRejected, PlatformTimeout

bp = Blueprint("operator_api", __name__, url_prefix="/api/v1")

PLAYER_ID = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
CASHIER = "cashier"


class ApiError(Exception):
    """An operator API failure with its HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Strict(Schema):
    """A request body schema that refuses unknown fields."""

    class Meta:
        unknown = "raise"


class PlayerCreate(Strict):
    id = fields.String(required=True, validate=validate.Regexp(f"^{PLAYER_ID}$"))
    currency = Currency(required=True, known=True)


class PlayerUpdate(Strict):
    status = fields.String(required=True, validate=validate.OneOf(["active", "blocked"]))


class CashierMovement(Strict):
    amount = ExactAmount(
        required=True,
        strings_only=True,
        validate=validate.Range(min=0, min_inclusive=False, error="must be greater than zero"),
    )


_create, _update, _cashier = PlayerCreate(), PlayerUpdate(), CashierMovement()


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return wire.error_response(exc.status, exc.code, exc.message)


@bp.errorhandler(PlatformError)
def _platform_error(exc: PlatformError) -> Response:
    if isinstance(exc, PlatformTimeout):
        return wire.error_response(504, "provider_timeout", str(exc))
    if isinstance(exc, PlatformBusy):
        return wire.error_response(503, "provider_busy", str(exc), **{"Retry-After": "1"})
    code = "provider_rejected" if isinstance(exc, PlatformRejected) else "provider_error"
    return wire.error_response(502, code, str(exc))


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string loaded by ``schema``; 422 naming the bad parameters."""
    try:
        return schema.load(request.args)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise ApiError(422, "invalid_query", describe(exc)) from exc


@bp.before_request
def _authenticate() -> Response | None:
    expected = services().settings.operator_api_key.encode()
    given = request.headers.get("Authorization", "").encode()
    if hmac.compare_digest(given, b"Bearer " + expected):
        return None
    return wire.error_response(
        401,
        "unauthorized",
        "Authorization: Bearer <OPERATOR_API_KEY> required",
        **{"WWW-Authenticate": "Bearer"},
    )


def load_body(schema: Schema) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        body = wire.loads(request.get_data())
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_body", "body must be a JSON object")
        return schema.load(body)  # type: ignore[no-any-return]
    except wire.BadJSON as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        raise ApiError(422, "invalid_fields", describe(exc)) from exc


def _player_body(player: str, result: Result) -> dict[str, Any]:
    assert result.balance is not None
    return {
        "id": player,
        "currency": result.currency,
        "balance": shown(result.balance, result.unit, str(result.currency)),
        "status": result.status,
    }


def _found(player: str, result: Result) -> Response:
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    return wire.json_response(_player_body(player, result))


@bp.post("/players")
def create_player() -> Response:
    data = load_body(_create)
    result = services().wallet.create_player(data["id"], data["currency"])
    if result.outcome is Outcome.EXISTS:
        raise ApiError(409, "player_exists", f"player {data['id']!r} already exists")
    return wire.json_response(_player_body(data["id"], result), 201)


@bp.get("/players/<player>")
def get_player(player: str) -> Response:
    return _found(player, services().wallet.player(player))


@bp.patch("/players/<player>")
def update_player(player: str) -> Response:
    data = load_body(_update)
    return _found(player, services().wallet.set_status(player, data["status"]))


@bp.post("/players/<player>/sessions")
def open_session(player: str) -> Response:
    """The player signed in: open (or renew) their game session."""
    result = services().wallet.player(player)
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    accounts = services().platforms.get("igamingace", {})
    linker = accounts.get(result.currency, accounts.get(None))  # the account of the player's currency
    if linker is not None:
        linker.link_player(player, result.currency)  # their sign-in hook; a failure opens no session
    seconds = services().settings.session_seconds
    expiry = services().wallet.open_session(player, seconds)
    if expiry is None:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    return wire.json_response({"player": player, "expires_in": seconds, "expires_at_ms": expiry}, 201)


@bp.delete("/players/<player>/sessions")
def close_session(player: str) -> Response:
    """The player signed out: bets and balance reads are refused until the next sign-in."""
    if not services().wallet.close_session(player):
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    return Response(status=204)


@bp.post("/players/<player>/deposits")
def deposit(player: str) -> Response:
    return _cashier_movement(player, "deposit")


@bp.post("/players/<player>/withdrawals")
def withdraw(player: str) -> Response:
    return _cashier_movement(player, "withdrawal")


def _cashier_movement(player: str, kind: str) -> Response:
    key = request.headers.get("Idempotency-Key", "")
    body, replayed = cashier(player, kind, load_body(_cashier)["amount"], key)
    return wire.json_response(body, 201, **{"Idempotent-Replayed": "true" if replayed else "false"})


def cashier(player: str, kind: str, amount: Decimal, key: str) -> tuple[dict[str, Any], bool]:
    """A deposit or withdrawal (the operator API's and the back office's one path): the movement's
    answer, and whether it replays an earlier one with the same Idempotency-Key. ApiError otherwise.

    The amount is taken in the player's currency, with at most its decimals (never rounded)."""
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise ApiError(400, "idempotency_key_required", "Idempotency-Key header (1-128 characters) required")
    wallet = services().wallet
    minor, exp, currency = in_currency(player, amount)
    if kind == "deposit":
        result = wallet.credit(Move(CASHIER, player, key, win=minor, exp=exp), kind="deposit")
    else:
        move = Move(CASHIER, player, key, bet=minor, exp=exp, check_blocked=False)
        result = wallet.debit(move, kind="withdrawal")
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    if result.outcome is Outcome.CONFLICT:
        raise ApiError(409, "idempotency_conflict", "Idempotency-Key already used for another request")
    if result.outcome is Outcome.NO_FUNDS:
        raise ApiError(409, "insufficient_funds", "the balance does not cover this withdrawal")
    if result.outcome is Outcome.BAD_AMOUNT:
        message = f"amount: more decimals than this player's balance is kept in ({currency}, hundredths)"
        raise ApiError(422, "invalid_fields", message)
    assert result.balance_after is not None
    body = {
        "transaction_id": result.reference,
        "idempotency_key": key,
        "kind": kind,
        "amount": format_amount(minor, exp),
        "balance": shown(result.balance_after, result.unit, currency),
    }
    return body, result.outcome is Outcome.DUPLICATE


def in_currency(player: str, amount: Decimal) -> tuple[int, int, str]:
    """The amount in minor units of the player's currency, those decimals and the currency: 404 for
    no such player, 422 for more decimals than the currency has (never rounded)."""
    account = services().wallet.player(player)
    if account.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    currency = str(account.currency)
    exp = exponent(currency)
    exp = account.unit if exp is None else exp
    try:
        return parse_amount(amount, exp), exp, currency
    except AmountError as exc:
        raise ApiError(422, "invalid_fields", f"amount: {exc} ({currency})") from exc


def amount_of(text: str) -> Decimal:
    """A cashier amount typed by a person: the operator API's rules (decimal string, > 0)."""
    try:
        return Decimal(_cashier.load({"amount": text})["amount"])
    except ValidationError as exc:
        raise ApiError(422, "invalid_fields", describe(exc)) from exc
