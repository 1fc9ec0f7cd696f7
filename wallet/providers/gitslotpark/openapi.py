"""GitSlotPark's callbacks in the OpenAPI document: one URL per operation (agentID selects the account)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from wallet.openapi_parts import ERROR, json_reply
from wallet.providers.gitslotpark import schemas


def paths(spec: APISpec, accounts: tuple[Any, ...]) -> None:

    bodies = {
        "GetBalance": schemas.Base,
        "Withdraw": schemas.Money,
        "Deposit": schemas.Money,
        "BetWin": schemas.BetWin,
        "RollbackTransaction": schemas.Rollback,
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
                    "responses": {**json_reply(reply), "413": ERROR, "503": ERROR},
                }
            },
        )
