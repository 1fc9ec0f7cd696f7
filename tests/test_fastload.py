"""The callbacks' lean validation path accepts, refuses and loads exactly what marshmallow does."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from wallet import wire
from wallet.fastload import Loader, compile_loader
from wallet.fields import Amount, Currency, ExactAmount
from wallet.providers.gitslotpark import callbacks as gitslotpark
from wallet.providers.igamingace import callbacks as igamingace

pytestmark = pytest.mark.once  # pure Python, no store: the first pass only (conftest)

# Every callback the views serve: (name, schema of record, the lean loader the view uses, parser).
CALLBACKS: list[tuple[str, Schema, Loader, Callable[[bytes], Any]]] = [
    *(
        (f"gitslotpark {dialect} {name}", op.schema, op.lean_load, wire.loads)
        for dialect, table in (("classic", gitslotpark.CLASSIC), ("agent", gitslotpark.AGENT))
        for name, op in table.items()
    ),
    *(
        (f"igamingace {name}", schema, lean, igamingace.parse_flat)
        for name, (schema, lean, _) in igamingace._COMMANDS.items()
    ),
]

_texts = st.one_of(
    st.text(max_size=3),
    st.text(min_size=126, max_size=130),
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    st.sampled_from(["EUR", "eur", "EURO", "12.30", "1.255", "-1.00", "1e3", "0", " 5", "٣"]),
)
_numbers = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.from_regex(r"-?[0-9]{1,14}\.[0-9]{1,3}", fullmatch=True),
    st.sampled_from(["1e2", "1E-2", "0.10", "-0", "12.300"]),
)
# One JSON value as it is written on the wire.
_literals = st.one_of(
    _texts.map(json.dumps),
    _numbers,
    st.sampled_from(["true", "false", "null", "[]", '["a"]', "{}", '{"a": 1}']),
)


_ids = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True).map(json.dumps)
_amounts = st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,2})?", fullmatch=True)
_exact = st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,9})?", fullmatch=True)  # up to 8 decimals fit (BTC)
# A value that fits the field most of the time, so that many bodies are accepted.
_FITTING: dict[type, st.SearchStrategy[str]] = {
    Amount: st.one_of(_amounts, _amounts.map(json.dumps)),
    ExactAmount: st.one_of(_exact, _exact.map(json.dumps)),
    Currency: st.just('"EUR"'),
    igamingace.WireId: st.one_of(_ids, st.integers(0, 10**30).map(str)),
    fields.Boolean: st.sampled_from(["true", "false"]),
    fields.Integer: st.integers(0, 10**6).map(str),
    fields.String: _ids,
    fields.Raw: _ids,
}


def _fitting(schema: Schema) -> st.SearchStrategy[dict[str, str]]:
    """Bodies using the schema's own keys (each present or not) plus an unknown one."""
    required, optional = {}, {"extra": _literals}
    for name, field in schema.load_fields.items():
        value = st.one_of(_FITTING[type(field)], _FITTING[type(field)], _literals)
        (required if field.required else optional)[field.data_key or name] = value
    return st.fixed_dictionaries(required, optional=optional).flatmap(_maybe_dropping)


def _maybe_dropping(body: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """Half the time one key (perhaps a required one) goes missing."""
    if not body:
        return st.just(body)
    drops = [{k: v for k, v in body.items() if k != gone} for gone in body]
    return st.one_of(st.just(body), st.sampled_from(drops))


@pytest.mark.parametrize(("name", "schema", "lean", "parse"), CALLBACKS, ids=[c[0] for c in CALLBACKS])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_lean_path_matches_marshmallow(
    name: str, schema: Schema, lean: Loader, parse: Callable[[bytes], Any], data: st.DataObject
) -> None:
    """On generated wire bodies the lean loader answers None exactly where marshmallow refuses,
    and otherwise the same fields with the same values of the same types."""
    literals = data.draw(_fitting(schema))
    raw = ("{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in literals.items()) + "}").encode()
    try:
        body = parse(raw)
    except (wire.BadJSON, igamingace._Refused):  # refused before validation, as in the views
        return
    try:
        expected: dict[str, Any] | None = schema.load(body)
    except ValidationError:
        expected = None
    got = lean(body)
    assert got == expected
    if got is not None and expected is not None:
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}


def test_valid_bodies_take_the_lean_path() -> None:
    """A well-formed Withdraw and bet load without marshmallow (the lean path is really used)."""
    withdraw = wire.loads(b'{"agentID":"a","userID":"p1","amount":"1.25","transactionID":"t","roundID":"r","sign":"S"}')
    assert gitslotpark.CLASSIC["Withdraw"].lean_load(withdraw) == {
        "agent_id": "a",
        "user_id": "p1",
        "amount": 125,
        "transaction_id": "t",
        "round_id": "r",
        "sign": "S",
        "free_spin": False,
    }
    bet = igamingace.parse_flat(b'{"playerId":7,"transactionId":8,"roundId":9,"currency":"EUR","amount":1.5}')
    assert igamingace._COMMANDS["bet"][1](bet) == {
        "player": "7",
        "tx": "8",
        "round": "9",
        "game": "",
        "currency": "EUR",
        "amount": Decimal("1.5"),  # exact: minor units once the account's currency is known
        "bonus": None,
    }


def test_schemas_it_cannot_mirror_are_refused_at_import() -> None:
    """A schema with hooks, or one that keeps unknown keys, cannot be compiled (no silent drift)."""

    class Strict(Schema):
        name = fields.String()

    with pytest.raises(TypeError):
        compile_loader(Strict())  # unknown = RAISE
