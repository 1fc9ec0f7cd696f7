"""OpenAPI fragments shared by the operator document and the providers' callback paths (a leaf
module: the providers import it, and it imports none of them)."""

from __future__ import annotations

from typing import Any

#: A JSON error body (``{"error", "message"}``), the answer of every refusal that is not a business outcome.
ERROR = {
    "description": "JSON error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def json_reply(schema: object, status: str = "200", description: str = "OK") -> dict[str, Any]:
    """A response entry whose body is ``schema`` as JSON."""
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}
