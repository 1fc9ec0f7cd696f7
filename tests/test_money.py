"""Amount parsing and formatting at the edges: exact decimals in, integer minor units inside."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wallet.core.money import MAX_REQUEST, AmountError, format_amount, parse_amount, reduced


@pytest.mark.parametrize(
    ("given", "minor"),
    [
        ("12.30", 1230),
        ("12.3", 1230),
        ("0", 0),
        ("0.00", 0),
        ("7", 700),
        (5, 500),
        (Decimal("0.01"), 1),
        (Decimal("19.99"), 1999),
        (Decimal("1E+2"), 10000),
    ],
)
def test_parse_valid_amounts(given: object, minor: int) -> None:
    """Strings and JSON numbers with at most two decimals become exact minor units."""
    assert parse_amount(given) == minor


@pytest.mark.parametrize(
    "given",
    [
        "12.345",
        "-1.00",
        "abc",
        "",
        " 1.00",
        "1e2",
        "NaN",
        "Infinity",
        "+5",
        "1,00",
        "100000000000000",
        Decimal("12.345"),
        Decimal("-0.01"),
        Decimal("NaN"),
        Decimal("Infinity"),
        -1,
        10**14,
        True,
        1.5,
        None,
        [],
        {},
    ],
)
def test_parse_refuses_bad_amounts(given: object) -> None:
    """Three decimals, negatives, non-numbers, floats, booleans and huge values are refused."""
    with pytest.raises(AmountError):
        parse_amount(given)


def test_largest_amount_is_accepted() -> None:
    """The edge takes up to MAX_REQUEST whole units at any exponent (10 trillion JPY, 100 billion
    EUR in the scripts' unit); one unit, or one hundredth, more is refused."""
    assert parse_amount(str(MAX_REQUEST), 0) == MAX_REQUEST
    assert parse_amount(str(MAX_REQUEST), 2) == MAX_REQUEST * 100
    assert parse_amount("150000.00", 2) == 15_000_000
    for over in (str(MAX_REQUEST + 1), f"{MAX_REQUEST}.01"):
        with pytest.raises(AmountError, match="too large"):
            parse_amount(over, 2)


@pytest.mark.parametrize(
    "given",
    [
        "\uff11\uff12",
        "\u0661\u0662.\u0665\u0660",
        "12.3\u0660",
        Decimal("1e999999"),
        Decimal("1e-999999999"),
        Decimal("-1e-999999999"),
        Decimal("1." + "0" * 40 + "1"),
        "12.300000001",
    ],
)
def test_hostile_amounts_are_refused_before_arithmetic(given: object) -> None:
    """Non-ASCII digits, huge exponents either way and digits past 8 decimals are refused with
    AmountError (never decimal.Overflow, never rounded to zero)."""
    with pytest.raises(AmountError):
        parse_amount(given, 8)


def test_reduced_keeps_amounts_exact() -> None:
    """Trailing zeros move into the exponent; a digit is never dropped."""
    assert reduced((1500, 0), 2) == ((15, 0), 0)
    assert reduced((12_345_600_000_000,), 8) == ((123_456,), 0)
    assert reduced((1205, 10), 2) == ((1205, 10), 2)


@pytest.mark.parametrize(
    ("minor", "text"),
    [(1230, "12.30"), (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (-1230, "-12.30"), (10**13, "100000000000.00")],
)
def test_format_two_decimals(minor: int, text: str) -> None:
    """Minor units always come out with exactly two decimals, negatives included."""
    assert format_amount(minor) == text
