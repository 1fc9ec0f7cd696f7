"""iGamingAce's callbacks in the OpenAPI document: one path per account."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from wallet.openapi_parts import ERROR, json_reply


def paths(spec: APISpec, accounts: tuple[Any, ...]) -> None:

    for account in accounts:
        path = f"/igamingace/{account.name}" if account.name else "/igamingace"
        spec.path(
            path,
            operations={
                "post": {
                    "summary": "iGamingAce command callback (balance, bet, win, betwin, cancel)",
                    "parameters": [
                        {"in": "header", "name": "X-Request-Signature", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        **json_reply(
                            {
                                "type": "object",
                                "properties": {"balance": {"type": "number"}, "statusCode": {"type": "string"}},
                            }
                        ),
                        "413": ERROR,
                        "503": ERROR,
                    },
                }
            },
        )
