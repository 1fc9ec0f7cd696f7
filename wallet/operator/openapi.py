"""The OpenAPI 3 document of every HTTP surface, generated once from the marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from wallet.core.money import known_currencies
from wallet.fields import Amount, Currency
from wallet.ledger import history
from wallet.operator import api as operator_api
from wallet.operator import games
from wallet.providers.gitslotpark import schemas as gitslotpark_schemas
from wallet.providers.igamingace import callbacks as igamingace

_ERROR = {
    "description": "JSON error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


class Error(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)


class Player(Schema):
    id = fields.String(required=True)
    currency = fields.String(required=True)
    balance = fields.String(required=True, metadata={"example": "12.30"})
    status = fields.String(required=True, metadata={"enum": ["active", "blocked"]})


def _amount(converter: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    """Our custom fields as OpenAPI types (bound to the converter by apispec)."""
    if isinstance(field, Amount):
        if field.strings_only:  # the operator's cashier amounts: positive decimal strings
            pattern = r"^(?!0+(\.0{1,8})?$)\d{1,11}(\.\d{1,8})?$"
            description = "in the player's currency, with at most its decimals (422 otherwise)"
            return {"type": "string", "pattern": pattern, "example": "100.00", "description": description}
        return {"oneOf": [{"type": "string", "pattern": r"^\d{1,11}(\.\d{1,2})?$"}, {"type": "number"}]}
    if isinstance(field, Currency) and field.known:  # a player's: its decimals must be known
        return {"type": "string", "enum": known_currencies(), "example": "EUR"}
    if isinstance(field, Currency):
        return {"type": "string", "pattern": "^[A-Z][A-Z0-9]{2,9}$", "example": "EUR"}
    if isinstance(field, igamingace.WireId):
        return {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1, "maxLength": 128}]}
    return {}


def _json(schema: object, status: str = "200", description: str = "OK") -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def build(has_gitslotpark: bool, has_igamingace: bool) -> dict[str, Any]:
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
    if has_gitslotpark:
        _gitslotpark_paths(spec)
    if has_igamingace:
        spec.path(
            "/igamingace",
            operations={
                "post": {
                    "summary": "iGamingAce command callback (balance, bet, win, betwin, cancel)",
                    "parameters": [
                        {"in": "header", "name": "X-Request-Signature", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        **_json(
                            {
                                "type": "object",
                                "properties": {"balance": {"type": "number"}, "statusCode": {"type": "string"}},
                            }
                        ),
                        "413": _ERROR,
                        "503": _ERROR,
                    },
                }
            },
        )
    spec.path("/healthz", operations={"get": {"responses": {**_json({"type": "object"}), "503": _ERROR}}})
    return spec.to_dict()


def _gitslotpark_paths(spec: APISpec) -> None:
    bodies = {
        "GetBalance": gitslotpark_schemas.Base,
        "Withdraw": gitslotpark_schemas.Money,
        "Deposit": gitslotpark_schemas.Money,
        "BetWin": gitslotpark_schemas.BetWin,
        "RollbackTransaction": gitslotpark_schemas.Rollback,
    }
    reply = {
        "type": "object",
        "required": ["result", "message"],
        "properties": {
            "result": {"type": "integer"},
            "message": {"type": "string"},
            "balance": {"type": "number"},
            "currency": {"type": "string"},
            "transactionID": {"type": "string"},
        },
    }
    for name, schema in bodies.items():
        spec.path(
            f"/gitslotpark/{name}",
            operations={
                "post": {
                    "summary": f"GitSlotPark {name} callback (every business outcome is HTTP 200 with a result code)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
                    "responses": {**_json(reply), "413": _ERROR, "503": _ERROR},
                }
            },
        )


def body(schema: object) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _operator_paths(spec: APISpec) -> None:
    secured: dict[str, Any] = {"security": [{"operatorKey": []}]}
    errors = {code: _ERROR for code in ("400", "401", "404", "409", "415", "422", "503")}
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
                "responses": {**_json(player_ref, "201"), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/players/{player}",
        parameters=player_id,
        operations={
            "get": {**secured, "responses": {**_json(player_ref), **errors}},
            "patch": {
                **secured,
                "requestBody": body(operator_api.PlayerUpdate),
                "responses": {**_json(player_ref), **errors},
            },
        },
    )
    for movement in ("deposits", "withdrawals"):
        spec.path(
            f"/api/v1/players/{{player}}/{movement}",
            parameters=player_id + key,
            operations={
                "post": {
                    **secured,
                    "requestBody": body(operator_api.CashierMovement),
                    "responses": {**_json({"type": "object"}, "201"), **errors},
                }
            },
        )
    spec.path(
        "/api/v1/players/{player}/sessions",
        parameters=player_id,
        operations={
            "post": {**secured, "responses": {**_json({"type": "object"}, "201"), **errors, "502": _ERROR}},
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
                "responses": {**_json({"type": "object"}), **errors},
            }
        },
    )
    spec.path(
        "/api/v1/reports/ggr",
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": history.ReportQuery}],
                "responses": {**_json({"type": "object"}), **errors},
            }
        },
    )
    platform_errors = {**errors, "502": _ERROR, "504": _ERROR}
    spec.path(
        "/api/v1/players/{player}/launch",
        parameters=player_id,
        operations={
            "post": {
                **secured,
                "requestBody": body(games.Launch),
                "responses": {**_json({"type": "object"}), **platform_errors},
            }
        },
    )
    spec.path(
        "/api/v1/games",
        operations={
            "get": {
                **secured,
                "parameters": [{"in": "query", "schema": games.CatalogQuery}],
                "responses": {**_json({"type": "object"}), **platform_errors},
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
                "responses": {**_json({"type": "object"}, "201"), **platform_errors},
            },
            "get": {**secured, "responses": {**_json({"type": "object"}), **platform_errors}},
        },
    )
