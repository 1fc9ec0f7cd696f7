"""Operator API for player protection: limits (deposit, loss, stake) and exclusions (cool-off,
self-exclusion). The bet scripts enforce them (wallet/core/limits.py); this is how they are set
and read, each change audited with its actor in the same atomic step (lua/limits.lua)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from wallet import wire
from wallet.context import services
from wallet.core import limits
from wallet.core.money import rescale, shown
from wallet.core.wallet import Outcome
from wallet.fields import ExactAmount, describe
from wallet.ledger import recovery
from wallet.operator import api as operator_api
from wallet.operator import audit, staff
from wallet.ops import metrics

bp = Blueprint("protection", __name__)  # nested under /api/v1 by create_app, behind the operator key

#: The shortest and longest cool-off, the shortest self-exclusion (UKGC and AGCO practice:
#: a break of 24 hours to 6 weeks; self-exclusion of at least 6 months, or indefinite).
COOL_OFF = (timedelta(hours=24), timedelta(weeks=6))
SELF_EXCLUSION = timedelta(days=183)


def _limit() -> ExactAmount:
    return ExactAmount(allow_none=True, strings_only=True, validate=validate.Range(min=0, error="must be zero or more"))


class _Periods(operator_api.Strict):
    day = _limit()
    week = _limit()
    month = _limit()


class LimitsBody(operator_api.Strict):
    deposit = fields.Nested(_Periods)
    loss = fields.Nested(_Periods)
    stake = _limit()


class ExclusionBody(operator_api.Strict):
    kind = fields.String(required=True, validate=validate.OneOf(limits.EXCLUSIONS))
    until = fields.AwareDateTime(required=True, allow_none=True, default_timezone=UTC)

    @validates_schema
    def _length(self, data: dict[str, Any], **kwargs: Any) -> None:
        until, now = data.get("until"), datetime.now(UTC)
        if data.get("kind") == "cool-off":
            shortest, longest = COOL_OFF
            if until is None or not now + shortest <= until <= now + longest:
                raise ValidationError("a cool-off ends between 24 hours and 6 weeks from now", "until")
        elif until is not None and until < now + SELF_EXCLUSION:
            raise ValidationError("a self-exclusion lasts at least 6 months (183 days), or null: indefinite", "until")


_limits_body, _exclusion_body = LimitsBody(), ExclusionBody()
limits_schema, exclusion_schema = _limits_body, _exclusion_body


@bp.get("/players/<player>/limits")
def get_limits(player: str) -> Response:
    return wire.json_response(view(player))


@bp.patch("/players/<player>/limits")
def set_limits(player: str) -> Response:
    """Lower or add a limit: at once. Raise or remove one (null): after WALLET_LIMIT_COOLING."""
    return wire.json_response(change_limits(player, operator_api.load_body(_limits_body)))


@bp.post("/players/<player>/exclusions")
def exclude(player: str) -> Response:
    """Start a cool-off or a self-exclusion (or lengthen the current one): never shortened."""
    return wire.json_response(start_exclusion(player, operator_api.load_body(_exclusion_body)), 201)


def view(player: str) -> dict[str, Any]:
    """The player's limits as GET /limits shows them; ApiError 404 for no such player."""
    return _view(player, _account(player), services().wallet.protection(player))


def change_limits(player: str, data: dict[str, Any], actor: staff.Actor | None = None) -> dict[str, Any]:
    """Apply a LimitsBody (validated): the one path of the API, the back office and the CLI."""
    account = _account(player)
    flat = _flat(data)
    changes = {name: _minor(player, value, account.unit) for name, value in flat.items()}
    detail = ", ".join(f"{name} {'removed' if v is None else v}" for name, v in flat.items()) or "no change"
    return _change(player, account, "limits_change", detail, changes, actor=actor)


def start_exclusion(player: str, data: dict[str, Any], actor: staff.Actor | None = None) -> dict[str, Any]:
    """Apply an ExclusionBody (validated); the exclusion as it now stands."""
    account = _account(player)
    until = 0 if data["until"] is None else int(data["until"].timestamp() * 1000)
    detail = f"{data['kind']} until {data['until'].isoformat() if data['until'] else 'indefinite'}"
    found = _change(player, account, "exclusion_start", detail, {}, (data["kind"], until), actor)
    return found["exclusion"]  # type: ignore[no-any-return]


def load(schema: Schema, body: dict[str, Any]) -> dict[str, Any]:
    """A body from a form or the command line, validated as the API validates JSON (422 ApiError)."""
    try:
        return schema.load(body)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise operator_api.ApiError(422, "invalid_fields", describe(exc)) from exc


def _change(
    player: str,
    account: Any,
    action: str,
    detail: str,
    changes: dict[str, int | None],
    exclusion: tuple[str, int] | None = None,
    actor: staff.Actor | None = None,
) -> dict[str, Any]:
    """Apply a change with its audit row journalled in the same step; 409 for a shortened exclusion."""
    before = services().wallet.protection(player)
    note = audit.pending(action, actor=actor, player=player, detail=detail)
    settings, seeds = services().settings, None
    if not services().store.limits(player):  # the first limits: count the periods' play so far
        with services().db.connect() as conn:
            seeds = recovery.counters(conn, player, services().store.clock(), settings.limit_zone)
    outcome, after = services().wallet.set_limits(player, changes, exclusion, settings.limit_cooling, note, seeds)
    if outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    if outcome is Outcome.EXCLUDED or after is None:
        refused = f"{detail}: would shorten the current exclusion"
        audit.record(action, "refused", actor=actor, player=player, detail=refused)
        raise operator_api.ApiError(409, "exclusion_active", "an exclusion can be lengthened, never shortened")
    for name in changes:
        effect = "pending" if name in after.pending else "now"
        metrics.PROTECTION_CHANGES.labels(name.split(":")[0], effect).inc()
    if exclusion is not None and after.exclusion != before.exclusion:
        metrics.PROTECTION_CHANGES.labels(exclusion[0], "now").inc()
    return _view(player, account, after)


def _flat(data: dict[str, Any]) -> dict[str, Decimal | None]:
    """{'deposit': {'day': x}, 'stake': y} as {'deposit:day': x, 'stake': y} (given keys only)."""
    flat: dict[str, Decimal | None] = {}
    for kind in limits.KINDS:
        for period, value in (data.get(kind) or {}).items():
            flat[f"{kind}:{period}"] = value
    if "stake" in data:
        flat["stake"] = data["stake"]
    return flat


def _account(player: str) -> Any:
    account = services().wallet.player(player)
    if account.outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    return account


def _minor(player: str, value: Decimal | None, unit: int) -> int | None:
    """A limit in minor units of the player's unit; 422 for more decimals than the currency has."""
    if value is None:
        return None
    minor, exp, currency = operator_api.in_currency(player, value)
    scaled = rescale(minor, exp, unit)
    if scaled is None:
        raise operator_api.ApiError(422, "invalid_fields", f"limit: more decimals than {currency} has")
    return scaled


def _view(player: str, account: Any, found: limits.Protection) -> dict[str, Any]:
    """Each limit with what its period used and has left, pending changes, the exclusion."""
    currency, unit = str(account.currency), account.unit

    def money(minor: int) -> str:
        return shown(minor, unit, currency)

    def entry(name: str, counted: bool) -> dict[str, Any] | None:
        limit, pending = found.limits.get(name), found.pending.get(name)
        if limit is None and pending is None:
            return None
        item: dict[str, Any] = {"limit": None if limit is None else money(limit)}
        if counted:
            item["used"] = money(found.used[name])
            item["left"] = None if limit is None else money(max(0, limit - found.used[name]))
        if pending is not None:
            value, at = pending
            item["pending"] = {"limit": None if value is None else money(value), "effective_at": _time(at)}
        return item

    body: dict[str, Any] = {"player": player, "currency": currency, "timezone": str(services().settings.limit_zone)}
    for kind in limits.KINDS:
        body[kind] = {period: entry(f"{kind}:{period}", True) for period in limits.PERIODS}
    body["stake"] = entry("stake", False)
    exclusion = found.exclusion
    body["exclusion"] = (
        None if exclusion is None else {"kind": exclusion[0], "until": _time(exclusion[1]) if exclusion[1] else None}
    )
    return body


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="microseconds")


def set_facts(player: str, facts: dict[str, Any], actor: staff.Actor | None = None) -> dict[str, str]:
    """Set a player's country and/or birth date (None removes one); a birth date brings the stake
    cap of each age band WALLET_AGE_STAKE_CAPS names for the player's currency. Audited."""
    account = _account(player)
    settings = services().settings
    fields = {name: "" if value is None else str(value) for name, value in facts.items()}
    if "birth_date" in facts:
        bands = [
            (young, old, _minor(player, cap, account.unit) or 0)
            for young, old, cap in settings.age_caps.get(str(account.currency), [])
        ]
        fields["agecap"] = (
            limits.age_bands(facts["birth_date"], bands, settings.limit_zone) if facts["birth_date"] else ""
        )
    detail = ", ".join(f"{name} {value or 'removed'}" for name, value in fields.items() if name != "agecap")
    note = audit.pending("player_facts", actor=actor, player=player, detail=detail)
    outcome, after = services().wallet.set_limits(player, {}, None, settings.limit_cooling, note, None, fields)
    if outcome is Outcome.NO_PLAYER or after is None:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    return after.facts
