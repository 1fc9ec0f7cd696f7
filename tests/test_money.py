"""Amount parsing and formatting at the edges: exact decimals in, integer minor units inside."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wallet.core.money import MAX_MINOR, AmountError, format_amount, parse_amount


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
        "100000000000.00",
        Decimal("12.345"),
        Decimal("-0.01"),
        Decimal("NaN"),
        Decimal("Infinity"),
        -1,
        10**12,
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
    """The documented maximum itself is valid; one cent more is not."""
    assert parse_amount(Decimal(MAX_MINOR) / 100) == MAX_MINOR
    with pytest.raises(AmountError):
        parse_amount(Decimal(MAX_MINOR + 1) / 100)


@pytest.mark.parametrize(
    ("minor", "text"),
    [(1230, "12.30"), (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (-1230, "-12.30"), (10**13, "100000000000.00")],
)
def test_format_two_decimals(minor: int, text: str) -> None:
    """Minor units always come out with exactly two decimals, negatives included."""
    assert format_amount(minor) == text
