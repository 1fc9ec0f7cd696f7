"""Marshmallow fields for the wallet's domain scalars, shared by every schema."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from wallet.core.money import AmountError, is_currency, parse_amount

#: Longest transaction, round, game or player id accepted from a provider.
MAX_ID = 128


class Amount(fields.Field[int]):
    """A money amount (decimal string or JSON number, at most 2 decimals) loaded as minor units.

    ``strings_only`` refuses JSON numbers (the operator API takes decimal strings only).
    """

    def __init__(self, *, strings_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strings_only = strings_only

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if self.strings_only and not isinstance(value, str):
            raise ValidationError('amount must be a decimal string, like "12.30"')
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValidationError(f"amount {exc}") from exc


class Currency(fields.String):
    """An ISO 4217 style code: three upper-case letters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_currency(text):
            raise ValidationError("must be a three-letter ISO 4217 code, like EUR")
        return text


def wire_id(data_key: str, **kwargs: Any) -> fields.String:
    """A required provider id string of 1..MAX_ID characters."""
    kwargs.setdefault("required", True)
    return fields.String(data_key=data_key, validate=validate.Length(1, MAX_ID), **kwargs)


def strict_bool(data_key: str, default: bool = False) -> fields.Boolean:
    """A JSON true/false only (no "yes", 1 or "true" strings)."""
    return fields.Boolean(data_key=data_key, load_default=default, truthy={True}, falsy={False})


def describe(exc: ValidationError) -> str:
    """One line naming each wrong field, for error messages."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"body": exc.messages}
    return "; ".join(f"{name}: {' '.join(map(str, why))}" for name, why in sorted(messages.items()))
