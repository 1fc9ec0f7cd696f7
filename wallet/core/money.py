"""Money at the edges: decimal strings or JSON numbers in, integer minor units inside, two decimals out."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: Largest amount accepted in one request, in minor units (100 billion major units). Keeps every
#: balance far below 2**53, where Lua's numbers stop being exact.
MAX_MINOR = 10**13

_AMOUNT_TEXT = re.compile(r"\d{1,11}(\.\d{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class AmountError(ValueError):
    """The value is not a valid amount (the message says why)."""


def parse_amount(value: object) -> int:
    """Minor units of an amount given as a decimal string or a JSON number (int or Decimal).

    Floats and booleans are refused: parse JSON with ``parse_float=Decimal``.
    """
    if isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value):
            raise AmountError("must be a decimal string with at most 2 decimals, like 12.30")
        number = Decimal(value)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise AmountError("must be a decimal string or a number")
    try:
        minor = number.scaleb(2)
        if not minor.is_finite() or minor != minor.to_integral_value():
            raise AmountError("must have at most 2 decimals")
    except InvalidOperation as exc:
        raise AmountError("must be a number") from exc
    if minor < 0:
        raise AmountError("must not be negative")
    if minor > MAX_MINOR:
        raise AmountError("is too large")
    return int(minor)


def format_amount(minor: int) -> str:
    """Two-decimal string of an amount in minor units: 1230 -> '12.30', -5 -> '-0.05'."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def is_currency(code: object) -> bool:
    """True for a three-letter upper-case ISO 4217 style code."""
    return isinstance(code, str) and _CURRENCY.fullmatch(code) is not None
