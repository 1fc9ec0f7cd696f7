"""Marshmallow fields for the wallet's domain scalars, shared by every schema."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from wallet.core.money import MAX_EXPONENT, AmountError, exponent, is_currency, parse_amount
from wallet.wire import Number

#: Longest transaction, round, game or player id accepted from a provider (the SQL columns' size).
MAX_ID = 128
#: Longest free text (an adjustment's reason) accepted from a person.
MAX_REASON = 500


def one_line(text: str, most: int) -> bool:
    """True for 1..``most`` characters of printable text: no control or format characters (NUL,
    CR/LF, ESC, U+202E), no lone surrogates; what fits every SQL column, Redis key and log line."""
    return 0 < len(text) <= most and text.isprintable()


def ascii_text(value: object, most: int | None = None) -> str:
    """``value`` as ASCII-only text that fits any column and log line: NUL, CR/LF, ESC, U+202E and
    lone surrogates written as JSON escapes (\\u0000), cut to ``most`` characters."""
    text = json.dumps(str(value), ensure_ascii=True)[1:-1]
    return text if most is None else text[:most]


def matchable(*filters: str | None) -> bool:
    """True when every filter given could equal a stored value (None: no filter). A value with NUL,
    a line break or a lone surrogate matches no row, and SQL must never be asked (PostgreSQL
    refuses NUL with an error)."""
    return all(value is None or one_line(value, 1000) for value in filters)


class OneLine(validate.Validator):
    """Validator: 1..``most`` characters of printable text on one line (see one_line)."""

    def __init__(self, most: int) -> None:
        self.most = most

    def __call__(self, value: str) -> str:
        if not one_line(value, self.most):
            raise ValidationError(f"must be 1-{self.most} printable characters on one line")
        return value


class Amount(fields.Field[int]):
    """A money amount (decimal string or JSON number, at most ``exp`` decimals) loaded as minor units.

    ``strings_only`` refuses JSON numbers (the operator API takes decimal strings only).
    """

    def __init__(self, *, strings_only: bool = False, exp: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strings_only, self.exp = strings_only, exp

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if self.strings_only and (isinstance(value, Number) or not isinstance(value, str)):
            raise ValidationError('amount must be a decimal string, like "12.30"')
        if isinstance(value, Number):  # a JSON number token as written (JavaScript writes 1e-8)
            value = Decimal(value)
        try:
            return parse_amount(value, self.exp)
        except AmountError as exc:
            raise ValidationError(f"amount {exc}") from exc


class ExactAmount(Amount):
    """An amount kept as an exact Decimal (up to MAX_EXPONENT decimals), for a caller that turns it
    into minor units once it knows the currency; ``signed`` also takes "-2.50"."""

    def __init__(self, *, signed: bool = False, **kwargs: Any) -> None:
        super().__init__(exp=MAX_EXPONENT, **kwargs)
        self.signed = signed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:  # type: ignore[override]
        negative = self.signed and isinstance(value, str) and value.startswith("-")
        value = value[1:] if negative else value
        super()._deserialize(value, attr, data, **kwargs)  # the checks
        return -Decimal(value) if negative else Decimal(value)  # exact, from a string, a token or a Decimal


class Currency(fields.String):
    """A currency code: ISO 4217's three letters, or an operator's (USDT); ``known`` also asks
    that its decimals be known (ISO 4217 or WALLET_CURRENCIES)."""

    def __init__(self, *, known: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.known = known

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_currency(text):
            raise ValidationError("must be a currency code, like EUR")
        if self.known and exponent(text) is None:
            raise ValidationError(f"unknown currency {text}: not in ISO 4217 nor in WALLET_CURRENCIES")
        return text


def wire_id(data_key: str, **kwargs: Any) -> fields.String:
    """A required provider id: one line of 1..MAX_ID printable characters."""
    kwargs.setdefault("required", True)
    return fields.String(data_key=data_key, validate=OneLine(MAX_ID), **kwargs)


def strict_bool(data_key: str, default: bool = False) -> fields.Boolean:
    """A JSON true/false only (no "yes", 1 or "true" strings)."""
    return fields.Boolean(data_key=data_key, load_default=default, truthy={True}, falsy={False})


def describe(exc: ValidationError) -> str:
    """One line naming each wrong field, for error messages."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"body": exc.messages}
    return "; ".join(f"{name}: {' '.join(map(str, why))}" for name, why in sorted(messages.items()))
