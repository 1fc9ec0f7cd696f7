"""The callbacks' lean validation path: a marshmallow schema's fields applied without the schema.

marshmallow stays the schema of record (OpenAPI, error messages). ``compile_loader(schema)`` reads
the schema's fields once and returns ``load(body)``: the dict ``schema.load(body)`` would give, or
None where marshmallow would raise. Each field is checked by marshmallow's own field code
(plain strings with a length inline); what it skips is the schema machinery around the fields.
Callbacks call ``schema.load`` only when ``load`` answers None, so a refusal still carries
marshmallow's message. tests/test_fastload.py checks the equivalence on generated bodies of
every callback of both providers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, validate

from wallet.fields import OneLine, one_line

Loader = Callable[[Any], dict[str, Any] | None]
Check = Callable[[Any], Any]


class _Refused(Exception):
    """A field's value is not valid (the caller answers None)."""


def compile_loader(schema: Schema) -> Loader:
    """The lean ``load`` of ``schema``; TypeError when the schema does what it cannot mirror."""
    if schema.unknown != EXCLUDE or schema._hooks or schema.partial or schema.many:
        raise TypeError(f"{type(schema).__name__}: only plain schemas that exclude unknown keys")
    steps = [
        (field.data_key or name, name, _check(field), field.required, field.load_default, field.allow_none)
        for name, field in schema.load_fields.items()
    ]

    def load(body: Any) -> dict[str, Any] | None:
        if type(body) is not dict:
            return None
        out: dict[str, Any] = {}
        try:
            for key, name, check, required, default, allow_none in steps:
                value = body.get(key, missing)
                if value is missing:
                    if required:
                        return None
                    if default is not missing:
                        out[name] = default() if callable(default) else default
                elif value is None:
                    if not allow_none:
                        return None
                    out[name] = None
                else:
                    out[name] = check(value)
        except (_Refused, ValidationError):
            return None
        return out

    return load


def _check(field: fields.Field[Any]) -> Check:
    """The field's value check: plain bounded strings inline, anything else by the field itself."""
    if field.pre_load or field.post_load:
        raise TypeError(f"{field!r}: field-level load hooks are not mirrored")
    lengths = [v for v in field.validators if isinstance(v, validate.Length) and v.equal is None]
    if type(field) is fields.String and len(lengths) == len(field.validators):
        low = max([v.min or 0 for v in lengths], default=0)
        high = min([v.max for v in lengths if v.max is not None], default=None)
        return _bounded_string(low, high)
    if type(field) is fields.String and [type(v) for v in field.validators] == [OneLine]:
        return _one_line(field.validators[0].most)  # type: ignore[attr-defined]
    if type(field) is fields.Raw and not field.validators:
        return _same
    return _by_field(field)


def _bounded_string(low: int, high: int | None) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Refused
        text = value if type(value) is str else str(value)
        if len(text) < low or (high is not None and len(text) > high):
            raise _Refused
        return text

    return check


def _one_line(most: int) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Refused
        text = value if type(value) is str else str(value)
        if not one_line(text, most):
            raise _Refused
        return text

    return check


def _same(value: Any) -> Any:
    return value


def _by_field(field: fields.Field[Any]) -> Check:
    deserialize, validators = field._deserialize, field._validate

    def check(value: Any) -> Any:
        output = deserialize(value, None, None)
        validators(output)
        return output

    return check
