"""JSON on the wire: bodies parsed without floats, money rendered as exact numbers, one error body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Response

from wallet.core.money import format_amount


class Number(str):
    """A JSON number token written out exactly as given (e.g. ``12.30``, which floats can't keep)."""


class BadJSON(ValueError):
    """The body is not valid JSON (NaN and Infinity included)."""


def money(minor: int, exp: int = 2) -> Number:
    """An amount in minor units as a JSON number with ``exp`` decimals."""
    return Number(format_amount(minor, exp))


def loads(body: bytes) -> Any:
    """Parse a JSON body keeping decimals exact (Decimal, never float)."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadJSON(str(exc)) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_ENCODE = json.JSONEncoder().encode


def dumps(obj: Mapping[str, Any]) -> str:
    """Serialise a flat object; Number values go out verbatim."""
    fields = (f"{_ENCODE(key)}:{value if isinstance(value, Number) else _ENCODE(value)}" for key, value in obj.items())
    return "{" + ",".join(fields) + "}"


def json_response(obj: Mapping[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(dumps(obj), status=status, mimetype="application/json", headers=headers)


def error_response(status: int, code: str, message: str, **headers: str) -> Response:
    """The one error body of the service: ``{"error": code, "message": message}``."""
    return json_response({"error": code, "message": message}, status, **headers)
