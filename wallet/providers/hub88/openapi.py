"""Hub88's callbacks in the OpenAPI document: five paths per account."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from wallet.openapi_parts import ERROR, json_reply
from wallet.providers.hub88.callbacks import ROUTES, base_path

_REPLY = {
    "type": "object",
    "properties": {
        "user": {"type": "string"},
        "status": {"type": "string", "pattern": "^RS_"},
        "request_uuid": {"type": "string"},
        "currency": {"type": "string"},
        "balance": {"type": "integer", "description": "1/100000 of the currency's major unit"},
    },
}


def paths(spec: APISpec, accounts: tuple[Any, ...]) -> None:
    for account in accounts:
        for path, (operation, _, _) in ROUTES.items():
            spec.path(
                base_path(account) + path,
                operations={
                    "post": {
                        "summary": f"Hub88 Wallet API: {operation}",
                        "parameters": [
                            {
                                "in": "header",
                                "name": "X-Hub88-Signature",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "responses": {**json_reply(_REPLY), "413": ERROR, "503": ERROR},
                    }
                },
            )
