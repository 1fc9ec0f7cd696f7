"""Money at the edges: decimal strings or JSON numbers in, integer minor units inside, each
currency's own decimals out.

A currency's decimals (its exponent) come from ISO 4217 (the ``iso4217`` package) or from the
operator's WALLET_CURRENCIES (crypto: ``BTC:8,USDT:6``). A player's balance is kept in minor
units of its *unit*: the exponent it was created with (players created before per-currency
units were kept in hundredths, unit 2, whatever their currency).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from iso4217 import Currency

#: Largest amount of one request, in minor units of the player's unit (checked by the scripts):
#: 100 billion EUR, 10 trillion JPY, 100,000 BTC. The edge refuses more than this many whole units
#: before any arithmetic (no currency could take more).
MAX_REQUEST = 10**13
#: Largest balance, in minor units: Lua's numbers are exact integers up to here; a move that
#: would pass it is refused (TOO_LARGE), so no balance is ever silently rounded.
MAX_BALANCE = 2**53 - 1
#: Most decimals a currency may have (WALLET_CURRENCIES); 8 is what BTC and ETH wallets show.
MAX_EXPONENT = 8
#: The unit of players created before per-currency units: hundredths.
LEGACY_UNIT = 2

_AMOUNT_TEXT = re.compile(r"[0-9]{1,14}(\.[0-9]{1,8})?")  # ASCII digits only
_CURRENCY = re.compile(r"[A-Z][A-Z0-9]{2,9}")
_operator_defined: dict[str, int] = {}


class AmountError(ValueError):
    """The value is not a valid amount (the message says why)."""


def configure(currencies: Mapping[str, int]) -> None:
    """Add the operator-defined currencies (WALLET_CURRENCIES); they take precedence over ISO 4217."""
    _operator_defined.update(currencies)


def exponent(code: str) -> int | None:
    """Decimals of a currency: operator-defined, else ISO 4217; None for an unknown one (or one
    without minor units, such as XAU)."""
    if code in _operator_defined:
        return _operator_defined[code]
    try:
        return Currency(code).exponent
    except ValueError:
        return None


def known_currencies() -> list[str]:
    """Every currency a player may hold: ISO 4217's with minor units, and the operator's."""
    iso = (c.code for c in Currency if c.exponent is not None)
    return sorted({*iso, *_operator_defined})


def decimals(value: object) -> int:
    """How many decimals an amount needs (trailing zeros do not count): '12.30' -> 1, 5 -> 0."""
    return _decimals(_number(value))


def reduced(amounts: tuple[int, ...], exp: int) -> tuple[tuple[int, ...], int]:
    """The same amounts at the fewest decimals that keep them exact: ((1500, 0), 2) -> ((15, 0), 0).
    The scripts then scale them up to the player's unit, never down past a digit."""
    while exp > 0 and all(a % 10 == 0 for a in amounts):
        amounts, exp = tuple(a // 10 for a in amounts), exp - 1
    return amounts, exp


def parse_amount(value: object, exp: int = 2) -> int:
    """Minor units (at ``exp`` decimals) of an amount given as a decimal string or a JSON number.

    Floats and booleans are refused: parse JSON with ``parse_float=Decimal``. More decimals than
    ``exp`` are refused, never rounded.
    """
    number = _number(value)
    if decimals(number) > exp:
        raise AmountError(f"must have at most {exp} decimals")
    return int(number.scaleb(exp))  # exact: at most MAX_REQUEST whole units, at most exp decimals


def _number(value: object) -> Decimal:
    """The amount as a Decimal of at most MAX_EXPONENT decimals and MAX_REQUEST whole units,
    checked before any arithmetic (1e999999 or 1e-999999999 never reach one)."""
    if isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value):
            raise AmountError("must be a decimal string, like 12.30")
        number = Decimal(value)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
        if not number.is_finite():
            raise AmountError("must be a number")
    else:
        raise AmountError("must be a decimal string or a number")
    if number.is_signed() and number != 0:
        raise AmountError("must not be negative")
    if number > MAX_REQUEST:  # compared without expanding the exponent
        raise AmountError(f"is too large (at most {MAX_REQUEST} per request)")
    if _decimals(number) > MAX_EXPONENT:
        raise AmountError(f"must have at most {MAX_EXPONENT} decimals")
    return number


def _decimals(number: Decimal) -> int:
    """Decimals of a finite Decimal, trailing zeros not counted (no context rounding, unlike normalize)."""
    _, digits, exp = number.as_tuple()
    assert isinstance(exp, int)
    end = len(digits)
    while exp < 0 and end > 1 and digits[end - 1] == 0:
        end, exp = end - 1, exp + 1
    return 0 if not any(digits) else max(0, -exp)


def format_amount(minor: int, exp: int = 2) -> str:
    """An amount in minor units with exactly ``exp`` decimals: 1230 -> '12.30', -5 -> '-0.05'."""
    sign = "-" if minor < 0 else ""
    if exp == 0:
        return f"{sign}{abs(minor)}"
    whole, fraction = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{fraction:0{exp}d}"


def rescale(minor: int, unit: int, exp: int) -> int | None:
    """``minor`` (at ``unit`` decimals) at ``exp`` decimals; None when that would lose a digit."""
    factor: int = 10 ** abs(exp - unit)
    if exp >= unit:
        return minor * factor
    whole, rest = divmod(minor, factor)
    return None if rest else whole


def shown(minor: int, unit: int, currency: str) -> str:
    """A balance kept at ``unit`` decimals, written with the currency's own decimals (or the
    unit's, when an old hundredths balance has a fraction the currency does not)."""
    exp = exponent(currency)
    scaled = None if exp is None else rescale(minor, unit, exp)
    return format_amount(minor, unit) if scaled is None or exp is None else format_amount(scaled, exp)


def is_currency(code: object) -> bool:
    """True for a currency code shape: ISO 4217's three letters, or an operator's (USDT)."""
    return isinstance(code, str) and _CURRENCY.fullmatch(code) is not None
