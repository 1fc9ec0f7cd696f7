"""Operator API reads from the durable ledger in SQL: a player's transactions and the GGR report.

SQL holds what the snapshot job has drained: these answers lag the live balance by at most
one snapshot interval (5 s with the Procfile's worker).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response
from marshmallow import EXCLUDE, Schema, fields, validate

from wallet import wire
from wallet.context import services
from wallet.core.money import LEGACY_UNIT, exponent, format_amount, shown
from wallet.core.wallet import Outcome
from wallet.fields import matchable
from wallet.ledger.db import balances
from wallet.ledger.db import ledger_entries as le
from wallet.ledger.snapshot import MONEY_KINDS
from wallet.operator import api as operator_api

bp = Blueprint("history", __name__)  # nested under /api/v1 by create_app, behind the operator key

MAX_DAYS = 366
MAX_SEQ = 2**63 - 1  # ledger_entries.seq is a BIGINT: a cursor past it is refused (API) or ignored (back office)


class TransactionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.Integer(load_default=None, validate=validate.Range(1, MAX_SEQ))  # a BIGINT
    provider = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(sorted(MONEY_KINDS)))
    round = fields.String(load_default=None)
    since = fields.DateTime(data_key="from", load_default=None)
    until = fields.DateTime(data_key="to", load_default=None)


class ReportQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.Date(data_key="from", required=True)
    until = fields.Date(data_key="to", required=True)
    provider = fields.String(load_default=None)


_transactions, _report = TransactionQuery(), ReportQuery()


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken as UTC): SQLite compares times as written, so a
    time given with another offset must be converted, not just labelled."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@bp.get("/players/<player>/transactions")
def player_transactions(player: str) -> Response:
    """The player's balance changes, newest first; ``next_cursor`` pages further back."""
    q = operator_api.load_query(_transactions)
    live = services().wallet.player(player)
    if live.outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    items, next_cursor = ledger_page(player, unit=live.unit, **q)
    return wire.json_response({"items": items, "next_cursor": next_cursor})


def ledger_page(
    player: str,
    limit: int = 50,
    cursor: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: int = LEGACY_UNIT,
    **equal: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the player's ledger, newest first, and the cursor of the next page (or None).
    ``unit``: the player's (its amounts' decimals); ``equal``: provider, kind or round the entries
    must have (None: any); one no row can hold (NUL, a line break) matches nothing."""
    if not matchable(*equal.values()):
        return [], None
    query = sa.select(le).where(le.c.player == player).order_by(le.c.seq.desc()).limit(limit + 1)
    for column, value in equal.items():
        if value:
            query = query.where(le.c[column] == value)
    if cursor:
        query = query.where(le.c.seq < cursor)
    if since:
        query = query.where(le.c.at >= _utc(since))
    if until:
        query = query.where(le.c.at < _utc(until))
    with services().db.connect() as conn:
        rows = conn.execute(query).mappings().all()
    page = rows[:limit]
    return [_item(r, unit) for r in page], (str(page[-1]["seq"]) if len(rows) > limit else None)


def _item(row: Any, unit: int) -> dict[str, Any]:
    return {
        "transaction_id": row["tx"],
        "reference": f"{row['shard']}-{row['entry_id']}",
        "provider": row["provider"],
        "kind": row["kind"],
        "amount": shown(row["amount"], unit, row["currency"]),
        "balance_after": shown(row["balance_after"], unit, row["currency"]),
        "currency": row["currency"],
        "round": row["round"],
        "game": row["game"],
        "reverses": row["target"] or None,
        "at": _utc(row["at"]).isoformat(timespec="microseconds"),  # fixed width: sorts as text
    }


def _sum_when(kinds: tuple[str, ...], column: sa.Column[Any]) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((le.c.kind.in_(kinds), column), else_=0)), 0)


@bp.get("/reports/ggr")
def ggr_report() -> Response:
    """Per day, provider, game and currency: bets, wins, rollbacks, GGR, rounds and players."""
    q = operator_api.load_query(_report)
    since, until = q["since"], q["until"]
    if until < since or until - since > timedelta(days=MAX_DAYS):
        raise operator_api.ApiError(422, "invalid_query", f"'to' must be on or after 'from', within {MAX_DAYS} days")
    rows = ggr_rows(since, until, q["provider"])
    return wire.json_response({"from": since.isoformat(), "to": until.isoformat(), "rows": rows})


def ggr_rows(since: date, until: date, provider: str | None = None) -> list[dict[str, Any]]:
    """GGR figures per day, provider, game and currency (decimal strings), cashier excluded.

    Amounts are summed per unit (players of earlier versions are kept in hundredths) and then
    added up exactly; a round shared by players of two units counts once in each."""
    if not matchable(provider):
        return []
    key = (le.c.day, le.c.provider, le.c.game, le.c.currency)
    unit = sa.func.coalesce(balances.c.unit, LEGACY_UNIT).label("unit")
    query = (
        sa.select(
            *key,
            unit,
            _sum_when(("bet", "betwin"), le.c.bet).label("bets"),
            _sum_when(("win", "betwin"), le.c.win).label("wins"),
            _sum_when(("rollback", "cancel"), le.c.amount).label("rollbacks"),
            sa.func.count(sa.distinct(sa.case((le.c.round != "", le.c.round)))).label("rounds"),
            sa.func.count(sa.distinct(le.c.player)).label("players"),
        )
        .select_from(le.outerjoin(balances, balances.c.player == le.c.player))
        .where(le.c.provider != operator_api.CASHIER, le.c.day >= since, le.c.day <= until)
        .group_by(*key, unit)
        .order_by(*key)
    )
    if provider:
        query = query.where(le.c.provider == provider)
    with services().db.connect() as conn:
        groups = conn.execute(query).mappings().all()
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group in groups:
        row = merged.setdefault(tuple(group[c.name] for c in key), dict.fromkeys(_FIGURES, 0))
        for name in _FIGURES:
            scale = Decimal(1) if name in _COUNTS else Decimal(10) ** -int(group["unit"])
            row[name] += int(group[name]) * scale
    return [_report_row(k, figures) for k, figures in merged.items()]


_COUNTS = ("rounds", "players")
_FIGURES = ("bets", "wins", "rollbacks", *_COUNTS)


def _report_row(key: tuple[Any, ...], figures: dict[str, Any]) -> dict[str, Any]:
    day, provider, game, currency = key
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    bets, wins, rollbacks = figures["bets"], figures["wins"], figures["rollbacks"]
    return {
        "day": day.isoformat(),
        "provider": provider,
        "game": game,
        "currency": currency,
        "bets": _major(bets, currency),
        "wins": _major(wins, currency),
        "rollbacks": _major(rollbacks, currency),
        "ggr": _major(bets - wins - rollbacks, currency),
        "rounds": int(figures["rounds"]),
        "players": int(figures["players"]),
    }


def _major(amount: Decimal | int, currency: str) -> str:
    """An exact amount in major units, written with the currency's decimals (more if it has them)."""
    own = exponent(currency)
    exp = max(LEGACY_UNIT if own is None else own, -int(Decimal(amount).normalize().as_tuple().exponent), 0)
    return format_amount(int(Decimal(amount).scaleb(exp)), exp)
