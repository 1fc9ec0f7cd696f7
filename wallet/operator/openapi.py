"""The OpenAPI 3 document of every HTTP surface, generated once from the marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from wallet import providers
from wallet.config import Settings
from wallet.core.money import known_currencies
from wallet.fields import Amount, Currency
from wallet.ledger import history
from wallet.openapi_parts import ERROR, json_reply
from wallet.operator import api as operator_api
from wallet.operator import audit, games, protection


class Error(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)


class Player(Schema):
    id = fields.String(required=True)
    currency = fields.String(required=True)
    balance = fields.String(required=True, metadata={"example": "12.30"})
    status = fields.String(required=True, metadata={"enum": ["active", "blocked"]})
    country = fields.String(metadata={"description": "ISO 3166-1 alpha-2, where set"})
    birth_date = fields.Date(metadata={"description": "where set"})


def _amount(converter: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    """Our custom fields as OpenAPI types (bound to the converter by apispec)."""
    if isinstance(field, Amount):
        if field.strings_only:  # the operator's cashier amounts: positive decimal strings
            pattern = r"^(?!0+(\.0{1,8})?$)[0-9]{1,14}(\.[0-9]{1,8})?$"
            description = "in the player's currency, with at most its decimals (422 otherwise)"
            return {"type": "string", "pattern": pattern, "example": "100.00", "description": description}
        return {"oneOf": [{"type": "string", "pattern": r"^[0-9]{1,14}(\.[0-9]{1,2})?$"}, {"type": "number"}]}
    if isinstance(field, Currency) and field.known:  # a player's: its decimals must be known
        return {"type": "string", "enum": known_currencies(), "example": "EUR"}
    if isinstance(field, Currency):
        return {"type": "string", "pattern": "^[A-Z][A-Z0-9]{2,9}$", "example": "EUR"}
    return dict(getattr(field, "openapi", {}))  # a provider's own field type describes itself


def build(settings: Settings) -> dict[str, Any]:
    """The document for this deployment (callback paths only for the configured providers)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        "Seamless wallet",
        "1.0.0",
        "3.0.3",
        plugins=[plugin],
        info={"description": "Provider callbacks and the operator API."},
        components={"securitySchemes": {"operatorKey": {"type": "http", "scheme": "bearer"}}},
    )
    plugin.converter.add_attribute_function(_amount)  # type: ignore[union-attr]
    spec.components.schema("Error", schema=Error)
    spec.components.schema("Player", schema=Player)
    _operator_paths(spec)
    for provider in providers.registry():
        if accounts := provider.accounts(settings):
            provider.openapi(spec, accounts)
    spec.path("/healthz", operations={"get": {"responses": {**json_reply({"type": "object"}), "503": ERROR}}})
    return spec.to_dict()


def body(schema: object) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _operator_paths(spec: APISpec) -> None:
    secured: dict[str, Any] = {"security": [{"operatorKey": []}]}
    # 403: the key's role is below the operation's; 429: too many failed keys from this address
    errors = {code: ERROR for code in ("400", "401", "403", "404", "409", "415", "422", "429", "503")}
    player_ref = {"$ref": "#/components/schemas/Player"}
    player_id = [{"in": "path", "name": "player", "required": True, "schema": {"type": "string"}}]
    key_schema = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"}
    key = [{"in": "header", "name": "Idempotency-Key", "required": True, "schema": key_schema}]
    spec.path(
        "/api/v1/players",
        operations={
            "post": {
                **secured,
                "requestBody": body(operator_api.PlayerCreate),
                "responses": {**json_reply(player_ref, "201"), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/players/{player}",
        parameters=player_id,
        operations={
            "get": {**secured, "responses": {**json_reply(player_ref), **errors}},
            "patch": {
                **secured,
                "requestBody": body(operator_api.PlayerUpdate),
                "responses": {**json_reply(player_ref), **errors},
            },
        },
    )
    for movement, schema in (
        ("deposits", operator_api.CashierMovement),
        ("withdrawals", operator_api.CashierMovement),
        ("adjustments", operator_api.Adjustment),
    ):
        spec.path(
            f"/api/v1/players/{{player}}/{movement}",
            parameters=player_id + key,
            operations={
                "post": {
                    **secured,
                    "requestBody": body(schema),
                    "responses": {**json_reply({"type": "object"}, "201"), **errors},
                }
            },
        )
    spec.path(
        "/api/v1/players/{player}/sessions",
        parameters=player_id,
        operations={
            "post": {**secured, "responses": {**json_reply({"type": "object"}, "201"), **errors, "502": ERROR}},
            "delete": {**secured, "responses": {"204": {"description": "closed"}, **errors}},
        },
    )
    spec.path(
        "/api/v1/players/{player}/transactions",
        parameters=player_id,
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": history.TransactionQuery}],
                "responses": {**json_reply({"type": "object"}), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/reports/ggr",
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": history.ReportQuery}],
                "responses": {**json_reply({"type": "object"}), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/audit",
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": audit.AuditQuery}],
                "responses": {**json_reply({"type": "object"}), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/players/{player}/limits",
        parameters=player_id,
        operations={
            "get": {**secured, "responses": {**json_reply({"type": "object"}), **errors}},
            "patch": {
                **secured,
                "requestBody": body(protection.LimitsBody),
                "responses": {**json_reply({"type": "object"}), **errors},
            },
        },
    )
    spec.path(
        "/api/v1/players/{player}/exclusions",
        parameters=player_id,
        operations={
            "post": {
                **secured,
                "requestBody": body(protection.ExclusionBody),
                "responses": {**json_reply({"type": "object"}, "201"), **errors},
            }
        },
    )
    platform_errors = {**errors, "502": ERROR, "504": ERROR}
    spec.path(
        "/api/v1/players/{player}/launch",
        parameters=player_id,
        operations={
            "post": {
                **secured,
                "requestBody": body(games.Launch),
                "responses": {**json_reply({"type": "object"}), **platform_errors},
            }
        },
    )
    spec.path(
        "/api/v1/games",
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": games.CatalogQuery}],
                "responses": {**json_reply({"type": "object"}), **platform_errors},
            }
        },
    )
    spec.path(
        "/api/v1/players/{player}/free-spins",
        parameters=player_id,
        operations={
            "post": {
                **secured,
                "requestBody": body(games.Grant),
                "responses": {**json_reply({"type": "object"}, "201"), **platform_errors},
            },
            "get": {**secured, "responses": {**json_reply({"type": "object"}), **platform_errors}},
        },
    )
