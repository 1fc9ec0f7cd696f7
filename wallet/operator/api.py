"""Operator API: players, cashier movements and player status, behind bearer keys with roles.

A key is the bootstrap admin key (OPERATOR_API_KEY) or a named key (wallet/operator/staff.py).
GETs need the viewer role; the cashier role adds players, sessions and money movements; every
other change needs admin (ROLE_OF). Failed keys are throttled per client address, and every
state-changing call leaves an audit row (wallet/operator/audit.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, g, request
from marshmallow import Schema, ValidationError, fields, validate

from wallet import wire
from wallet.context import services
from wallet.core import tokens
from wallet.core.money import MAX_BALANCE, AmountError, exponent, format_amount, parse_amount, shown
from wallet.core.wallet import Move, Outcome, Result
from wallet.fields import MAX_REASON, Currency, ExactAmount, OneLine, describe, one_line
from wallet.operator import audit, staff, throttle
from wallet.providers.platform import PlatformBusy, PlatformError, PlatformRejected, PlatformTimeout

bp = Blueprint("operator_api", __name__, url_prefix="/api/v1")  # audit, games and history nest in it (create_app)

#: The role each state-changing endpoint needs; other GETs need viewer, other changes admin.
ROLE_OF = {
    "operator_api.create_player": "cashier",
    "operator_api.open_session": "cashier",
    "operator_api.close_session": "cashier",
    "operator_api.deposit": "cashier",
    "operator_api.withdraw": "cashier",
    "operator_api.adjust": "cashier",
    "operator_api.games.launch": "cashier",
    "operator_api.games.grant_free_spins": "cashier",
    "operator_api.protection.set_limits": "cashier",
    "operator_api.protection.exclude": "cashier",
    "operator_api.update_player": "admin",
}

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


class _Facts(Strict):
    """What a player may carry for the protection rules (docs/player-protection.md)."""

    country = fields.String(  # ISO 3166-1 alpha-2; the length check stops the final "\n" '$' lets through
        allow_none=True, validate=[validate.Regexp(r"^[A-Z]{2}$"), validate.Length(equal=2)]
    )
    birth_date = fields.Date(allow_none=True)


class PlayerCreate(_Facts):
    id = fields.String(
        required=True, validate=[validate.Regexp(f"^{PLAYER_ID}$"), OneLine(64)]
    )  # '$' alone lets a final "\n" through
    currency = Currency(required=True, known=True)


class PlayerUpdate(_Facts):
    status = fields.String(validate=validate.OneOf(["active", "blocked"]))  # any field may be left out


class CashierMovement(Strict):
    amount = ExactAmount(
        required=True,
        strings_only=True,
        validate=validate.Range(min=0, min_inclusive=False, error="must be greater than zero"),
    )


class Adjustment(Strict):
    """A manual correction: a signed amount, and why (required; it goes to the audit trail)."""

    amount = ExactAmount(
        required=True, strings_only=True, signed=True, validate=validate.NoneOf([0], error="must not be zero")
    )
    reason = fields.String(required=True, validate=[validate.Length(3, MAX_REASON), OneLine(MAX_REASON)])


_create, _update, _cashier, _adjust = PlayerCreate(), PlayerUpdate(), CashierMovement(), Adjustment()


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
    """The bearer key's actor in g.actor, or 401 (no such key), 429 (too many wrong keys from this
    address: counted atomically, the API's own counter) or 403 (role). A valid key is always taken."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    actor = None
    if scheme == "Bearer" and given:
        actor = staff.key_actor(services().db, services().settings.operator_api_key, given)
    if actor is None:
        subject = throttle.Subject("api", request.remote_addr or "unknown")
        wait = throttle.reserve(subject) if given else None  # no header at all guesses nothing
        if wait is not None:
            message = f"too many failed keys from this address: retry in {wait} s"
            return wire.error_response(429, "too_many_failures", message, **{"Retry-After": str(wait)})
        if given:
            throttle.failed(subject)
        message = "Authorization: Bearer <key> required (OPERATOR_API_KEY or a named key)"
        return wire.error_response(401, "unauthorized", message, **{"WWW-Authenticate": "Bearer"})
    needed = required_role(request.endpoint or "", request.method)
    if not actor.may(needed):
        return wire.error_response(
            403, "forbidden", f"this needs the {needed} role; the key {actor.name!r} is {actor.role}"
        )
    g.actor = actor
    return None


def required_role(endpoint: str, method: str) -> str:
    return ROLE_OF.get(endpoint) or ("viewer" if method in ("GET", "HEAD") else "admin")


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
    outcome = "player_exists" if result.outcome is Outcome.EXISTS else "ok"
    audit.record("player_create", outcome, player=data["id"], currency=data["currency"])
    if result.outcome is Outcome.EXISTS:
        raise ApiError(409, "player_exists", f"player {data['id']!r} already exists")
    facts = _facts(data["id"], data)
    return wire.json_response({**_player_body(data["id"], result), **facts}, 201)


@bp.get("/players/<player>")
def get_player(player: str) -> Response:
    result = services().wallet.player(player)
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    return wire.json_response({**_player_body(player, result), **services().wallet.protection(player).facts})


@bp.patch("/players/<player>")
def update_player(player: str) -> Response:
    """Block or unblock (admin), and/or set the player's country and birth date."""
    data = load_body(_update)
    if "status" in data:
        result = services().wallet.set_status(player, data["status"])
        audited(result, "block" if data["status"] == "blocked" else "unblock", player)
    _facts(player, data)
    return get_player(player)


def _facts(player: str, data: dict[str, Any]) -> dict[str, str]:
    """Set the facts ``data`` names (wallet/operator/protection.py); the player's facts after."""
    from wallet.operator import protection  # late: it builds on this module

    given: dict[str, Any] = {name: data[name] for name in ("country", "birth_date") if name in data}
    return protection.set_facts(player, given) if given else {}


def audited(result: Result, action: str, player: str) -> Result:
    """Record ``action`` on ``player`` with its outcome (no such player: player_not_found)."""
    audit.record(action, "player_not_found" if result.outcome is Outcome.NO_PLAYER else "ok", player=player)
    return result


@bp.post("/players/<player>/sessions")
def open_session(player: str) -> Response:
    """The player signed in: open (or renew) their game session."""
    result = services().wallet.player(player)
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    for accounts in services().platforms.values():  # each provider's sign-in hook, if it has one
        client = accounts.get(result.currency, accounts.get(None))  # the account of the player's currency
        if client is not None:
            client.link_player(player, result.currency)  # a failure opens no session
    seconds, token = services().settings.session_seconds, tokens.new()
    expiry = services().wallet.open_session(player, seconds, token)
    audit.record("session_open", "ok" if expiry else "player_not_found", player=player)
    if expiry is None:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    reply = {"player": player, "expires_in": seconds, "expires_at_ms": expiry, "token": token}
    return wire.json_response(reply, 201)


@bp.delete("/players/<player>/sessions")
def close_session(player: str) -> Response:
    """The player signed out: bets and balance reads are refused until the next sign-in."""
    closed = services().wallet.close_session(player)
    audit.record("session_close", "ok" if closed else "player_not_found", player=player)
    if not closed:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    return Response(status=204)


@bp.post("/players/<player>/deposits")
def deposit(player: str) -> Response:
    return _cashier_movement(player, "deposit")


@bp.post("/players/<player>/withdrawals")
def withdraw(player: str) -> Response:
    return _cashier_movement(player, "withdrawal")


@bp.post("/players/<player>/adjustments")
def adjust(player: str) -> Response:
    """A manual correction, up or down (never below zero), with a reason."""
    data = load_body(_adjust)
    return _cashier_movement(player, "adjustment", data["amount"], data["reason"])


def _cashier_movement(player: str, kind: str, amount: Decimal | None = None, reason: str | None = None) -> Response:
    key = request.headers.get("Idempotency-Key", "")
    amount = load_body(_cashier)["amount"] if amount is None else amount
    body, replayed = cashier(player, kind, amount, key, reason)
    return wire.json_response(body, 201, **{"Idempotent-Replayed": "true" if replayed else "false"})


def cashier(
    player: str, kind: str, amount: Decimal, key: str, reason: str | None = None, actor: staff.Actor | None = None
) -> tuple[dict[str, Any], bool]:
    """A deposit, withdrawal or adjustment (the one path of the operator API, the back office and
    the command line): the movement's answer, and whether it replays an earlier one with the same
    Idempotency-Key. ApiError otherwise. Either way one audit row records it: a movement's is
    journalled with it (audit.pending), a replay's or a refusal's written here.

    The amount is taken in the player's currency, with at most its decimals (never rounded); an
    adjustment's is signed. ``actor``: who acts outside a request (the command line)."""
    try:
        body, replayed = _move_money(player, kind, amount, key, reason or "", actor)
    except ApiError as exc:
        detail = f"key {key}"
        audit.record(kind, exc.code, actor=actor, player=player, amount=str(amount), reason=reason, detail=detail)
        raise
    if replayed:
        detail = f"key {key}, replay of transaction {body['transaction_id']}"
        audit.record(
            kind, "replayed", actor=actor, player=player, amount=body["amount"], currency=body["currency"],
            reason=reason, detail=detail,
        )  # fmt: skip
    return body, replayed


def _move_money(
    player: str, kind: str, amount: Decimal, key: str, reason: str, actor: staff.Actor | None
) -> tuple[dict[str, Any], bool]:
    if not one_line(key, 128):
        raise ApiError(400, "idempotency_key_required", "Idempotency-Key header (1-128 characters) required")
    wallet = services().wallet
    minor, exp, currency = in_currency(player, abs(amount))
    shown_amount = format_amount(-minor if amount < 0 else minor, exp)
    note = audit.pending(
        kind, actor=actor, player=player, amount=shown_amount, currency=currency, reason=reason or None,
        detail=f"key {key}",
    )  # fmt: skip
    if kind == "deposit" or (kind == "adjustment" and amount > 0):
        move = Move(CASHIER, player, key, win=minor, exp=exp, reason=reason, audit=note)
        result = wallet.credit(move, kind=kind)
    else:
        move = Move(CASHIER, player, key, bet=minor, exp=exp, check_blocked=False, reason=reason, audit=note)
        result = wallet.debit(move, kind=kind)
    if result.outcome is Outcome.NO_PLAYER:
        raise ApiError(404, "player_not_found", f"no player {player!r}")
    if result.outcome is Outcome.CONFLICT:
        raise ApiError(409, "idempotency_conflict", "Idempotency-Key already used for another request")
    if result.outcome is Outcome.NO_FUNDS:
        raise ApiError(409, "insufficient_funds", f"the balance does not cover this {kind}")
    if result.outcome is Outcome.BAD_AMOUNT:
        message = f"amount: more decimals than this player's balance is kept in ({currency}, hundredths)"
        raise ApiError(422, "invalid_fields", message)
    if result.outcome is Outcome.TOO_LARGE:
        message = f"amount: past the per-request limit, or the balance would pass {MAX_BALANCE} minor units"
        raise ApiError(422, "amount_too_large", message)
    if result.outcome is Outcome.EXCLUDED:
        raise ApiError(422, "player_excluded", f"the player is in a {result.limit}: no deposits until it ends")
    if result.outcome is Outcome.LIMIT:
        left = shown(result.left or 0, result.unit, currency)
        period = str(result.limit).split(":")[-1]
        raise ApiError(422, "limit_reached", f"past the player's deposit limit per {period}: {left} {currency} left")
    assert result.balance_after is not None
    body = {
        "transaction_id": result.reference,
        "idempotency_key": key,
        "kind": kind,
        "amount": shown_amount,
        "currency": currency,
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


def amount_of(text: str, signed: bool = False, reason: str | None = None) -> Decimal:
    """A cashier amount typed by a person: the operator API's rules (decimal string, > 0; an
    adjustment's signed, with a reason)."""
    try:
        if signed:
            return Decimal(_adjust.load({"amount": text, "reason": reason or ""})["amount"])
        return Decimal(_cashier.load({"amount": text})["amount"])
    except ValidationError as exc:
        raise ApiError(422, "invalid_fields", describe(exc)) from exc
