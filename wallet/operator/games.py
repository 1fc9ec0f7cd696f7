"""Operator API towards the providers' platforms: game launch, game catalogs and free spins."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response
from marshmallow import Schema, fields, validate

from wallet import wire
from wallet.context import services
from wallet.core import tokens
from wallet.core.wallet import Outcome
from wallet.fields import Currency, ascii_text
from wallet.ledger.db import ledger_entries as le
from wallet.operator import api as operator_api
from wallet.operator import audit
from wallet.providers import find, names, registry
from wallet.providers.platform import BadLaunch, PlatformError

bp = Blueprint("games", __name__)  # nested under /api/v1 by create_app, behind the operator key

PROVIDERS = names()


class _LaunchBase(operator_api.Strict):
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    game_id = fields.String(data_key="gameId", required=True, validate=validate.Length(1, 128))
    language = fields.String(load_default="en", validate=validate.Length(2, 5))
    return_url = fields.Url(data_key="returnUrl", load_default="", require_tld=False)


def _launch_schema() -> type[Schema]:
    """The launch body: the common fields and each provider's own (Provider.launch_fields)."""
    declared: dict[str, Any] = {}
    for provider in registry():
        for name, field in provider.launch_fields.items():
            assert name not in declared and name not in _LaunchBase._declared_fields, f"launch field {name} twice"
            declared[name] = field
    return type("Launch", (_LaunchBase,), declared)


Launch = _launch_schema()


class Grant(operator_api.Strict):
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    game_id = fields.String(data_key="gameId", required=True, validate=validate.Length(1, 128))
    spins = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1000))


class CatalogQuery(Schema):
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    currency = Currency(load_default=None)  # the account of this currency (default: the first configured)


_launch, _grant, _catalog = Launch(), Grant(), CatalogQuery()


def client(provider: str, currency: str | None) -> Any:
    """The platform client of the provider's account for ``currency`` (its single account of any
    currency otherwise; None: the first configured), or 422 when there is none."""
    account = _account(provider, currency)  # 422 first when there is none
    return services().platforms[provider][account]


def _account(provider: str, currency: str | None) -> str | None:
    """The configured account serving ``currency`` (its key: a currency, or None for the single
    account of any currency); 422 when there is none. Only configured accounts are ever named."""
    accounts = services().platforms.get(provider, {})
    key = next(iter(accounts), None) if currency is None else (currency if currency in accounts else None)
    if key not in accounts:
        which = f" for {currency}" if currency else ""
        raise operator_api.ApiError(
            422, "provider_not_configured", f"{provider}'s platform API is not configured{which}"
        )
    return key


def _active_player(player: str) -> str:
    """The player's currency; 404 for no such player, 409 for a blocked one."""
    result = services().wallet.player(player)
    if result.outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    if result.status == "blocked":
        raise operator_api.ApiError(409, "player_blocked", f"player {player!r} is blocked")
    return str(result.currency)


def _audited(action: str, player: str, detail: str, call: Any) -> Any:
    """Make a provider call that acts for a player (a launch, a grant) and record it in the audit
    trail, refused or not."""
    try:
        result = call()
    except (BadLaunch, PlatformError) as exc:
        audit.record(action, type(exc).__name__, player=player, detail=f"{detail}: {ascii_text(exc, 200)}")
        raise
    audit.record(action, player=player, detail=detail)
    return result


@bp.post("/players/<player>/launch")
def launch(player: str) -> Response:
    """A fresh launch URL; the game session opens only once the provider gave one (never half-open)."""
    data = operator_api.load_body(_launch)
    currency = _active_player(player)
    detail = f"{data['provider']} game {ascii_text(data['game_id'], 128)}"
    data = {**data, "token": tokens.new(), "currency": currency}  # the session's token, valid once it opens
    try:
        url = _audited("launch", player, detail, lambda: client(data["provider"], currency).open_game(player, data))
    except BadLaunch as exc:
        raise operator_api.ApiError(422, "invalid_fields", str(exc)) from exc
    seconds = services().settings.session_seconds
    services().wallet.open_session(player, seconds, data["token"])
    return wire.json_response({"url": url, "provider": data["provider"], "session_expires_in": seconds})


def _public(catalog: dict[str, Any]) -> dict[str, Any]:
    """The cached catalog without its exact fetch time (kept only to judge freshness)."""
    return {key: value for key, value in catalog.items() if key != "fetched"}


@bp.get("/games")
def games() -> Response:
    """The provider's catalog, cached in Redis for GAME_CATALOG_REFRESH seconds; a stale copy is
    served (``"stale": true``) while the provider cannot be reached."""
    query = operator_api.load_query(_catalog)
    provider, currency = query["provider"], query["currency"]
    account = _account(provider, currency)  # the cache keys are the configured accounts', never the query's
    name = f"catalog:{provider}:{account}" if account else f"catalog:{provider}"
    cached = services().store.cache_get(name)
    catalog = json.loads(cached) if cached else None
    fresh_for = services().settings.catalog_refresh
    if catalog is None or time.time() - catalog["fetched"] > fresh_for:
        try:
            items = services().platforms[provider][account].catalog()
        except PlatformError:
            if catalog is None:
                raise
            return wire.json_response({**_public(catalog), "stale": True})
        now = time.time()
        catalog = {"provider": provider, "fetched": now, "fetched_at": int(now), "items": items}
        services().store.cache_set(name, json.dumps(catalog), ttl=fresh_for * 24)
    return wire.json_response({**_public(catalog), "stale": False})


@bp.post("/players/<player>/free-spins")
def grant_free_spins(player: str) -> Response:
    """Grant free spins through the provider and record the grant with the player."""
    data = operator_api.load_body(_grant)
    currency = _active_player(player)
    detail = f"{data['provider']} game {ascii_text(data['game_id'], 128)}, {data['spins']} spins"
    platform = client(data["provider"], currency)
    grant = _audited(
        "free_spins_grant", player, detail, lambda: platform.grant_free_spins(player, data["game_id"], data["spins"])
    )
    record = {
        "id": grant,
        "provider": data["provider"],
        "game": data["game_id"],
        "spins": data["spins"],
        "granted_at": int(time.time()),
    }
    services().store.record_grant(player, grant, json.dumps(record))
    return wire.json_response(record, 201)


@bp.get("/players/<player>/free-spins")
def list_free_spins(player: str) -> Response:
    """The player's grants, each with the provider's live status and the free-spin callbacks seen."""
    found = services().wallet.player(player)
    if found.outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    grants = [json.loads(g) for g in services().store.grants(player)]
    items = []
    for grant in sorted(grants, key=lambda g: (g["granted_at"], g["provider"], g["id"])):
        try:
            status: dict[str, Any] = client(grant["provider"], found.currency).free_spin_status(grant["id"])
        except (PlatformError, operator_api.ApiError) as exc:
            status = {"error": str(exc)}
        items.append({**grant, "status": status, "callbacks": _free_spin_callbacks(player, grant)})
    return wire.json_response({"items": items})


def _free_spin_callbacks(player: str, grant: dict[str, Any]) -> int:
    """Free-spin callbacks in the ledger tied to this grant: where the provider names the grant
    (iGamingAce's bonusId) those; else (GitSlotPark) the player's free spins since the grant."""
    query = sa.select(sa.func.count()).where(le.c.player == player, le.c.provider == grant["provider"])
    if find(grant["provider"]).names_grants:
        query = query.where(le.c.bonus == grant["id"])
    else:
        since = datetime.fromtimestamp(grant["granted_at"], tz=UTC)
        query = query.where(le.c.bonus == "free-spin", le.c.at >= since)
    with services().db.connect() as conn:
        return int(conn.execute(query).scalar_one())
