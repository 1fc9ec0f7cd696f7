"""Operator API reads from the durable ledger in SQL: a player's transactions and the GGR report.

SQL holds what the snapshot job has drained: these answers lag the live balance by at most
one snapshot interval (5 s with the Procfile's worker).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response
from marshmallow import EXCLUDE, Schema, fields, validate

from wallet import wire
from wallet.context import services
from wallet.core.money import format_amount
from wallet.core.wallet import Outcome
from wallet.ledger.db import ledger_entries as le
from wallet.ledger.snapshot import MONEY_KINDS
from wallet.operator import api as operator_api

bp = Blueprint("history", __name__)
operator_api.bp.register_blueprint(bp)  # under /api/v1, behind the operator key

MAX_DAYS = 366


class TransactionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.Integer(load_default=None, validate=validate.Range(1, 2**63 - 1))  # a BIGINT
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
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@bp.get("/players/<player>/transactions")
def player_transactions(player: str) -> Response:
    """The player's balance changes, newest first; ``next_cursor`` pages further back."""
    q = operator_api.load_query(_transactions)
    if services().wallet.player(player).outcome is Outcome.NO_PLAYER:
        raise operator_api.ApiError(404, "player_not_found", f"no player {player!r}")
    items, next_cursor = ledger_page(player, **q)
    return wire.json_response({"items": items, "next_cursor": next_cursor})


def ledger_page(
    player: str,
    limit: int = 50,
    cursor: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    **equal: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the player's ledger, newest first, and the cursor of the next page (or None).
    ``equal``: provider, kind or round the entries must have (None: any)."""
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
    return [_item(r) for r in page], (str(page[-1]["seq"]) if len(rows) > limit else None)


def _item(row: Any) -> dict[str, Any]:
    return {
        "transaction_id": row["tx"],
        "reference": f"{row['shard']}-{row['entry_id']}",
        "provider": row["provider"],
        "kind": row["kind"],
        "amount": format_amount(row["amount"]),
        "balance_after": format_amount(row["balance_after"]),
        "currency": row["currency"],
        "round": row["round"],
        "game": row["game"],
        "reverses": row["target"] or None,
        "at": _utc(row["at"]).isoformat(),
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
    """GGR figures per day, provider, game and currency (decimal strings), cashier excluded."""
    key = (le.c.day, le.c.provider, le.c.game, le.c.currency)
    query = (
        sa.select(
            *key,
            _sum_when(("bet", "betwin"), le.c.bet).label("bets"),
            _sum_when(("win", "betwin"), le.c.win).label("wins"),
            _sum_when(("rollback", "cancel"), le.c.amount).label("rollbacks"),
            sa.func.count(sa.distinct(sa.case((le.c.round != "", le.c.round)))).label("rounds"),
            sa.func.count(sa.distinct(le.c.player)).label("players"),
        )
        .where(le.c.provider != operator_api.CASHIER, le.c.day >= since, le.c.day <= until)
        .group_by(*key)
        .order_by(*key)
    )
    if provider:
        query = query.where(le.c.provider == provider)
    with services().db.connect() as conn:
        return [_report_row(r) for r in conn.execute(query).mappings().all()]


def _report_row(row: Any) -> dict[str, Any]:
    bets, wins, rollbacks = int(row["bets"]), int(row["wins"]), int(row["rollbacks"])
    day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(str(row["day"]))
    return {
        "day": day.isoformat(),
        "provider": row["provider"],
        "game": row["game"],
        "currency": row["currency"],
        "bets": format_amount(bets),
        "wins": format_amount(wins),
        "rollbacks": format_amount(rollbacks),
        "ggr": format_amount(bets - wins - rollbacks),
        "rounds": int(row["rounds"]),
        "players": int(row["players"]),
    }
