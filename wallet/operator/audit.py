"""The audit trail: one append-only SQL row per state-changing action of a person or an API key.

``record()`` is the only writer (an INSERT; no code path updates or deletes a row). The row names
the actor and its role, the action, the player, amount and currency where there is one, the
reason, the client address, the request id, the time and the outcome. ``GET /api/v1/audit``
and the back office read it, newest first.

A money movement's row is not written here but carried by the movement itself: ``pending()``
makes the row, the money script journals it in the same atomic step as the balance change, and
the snapshot job inserts it with the ledger entry (wallet/ledger/snapshot.py), exactly once. So
no money moves without its row, whatever SQL is doing at that moment; the row appears in the
trail once the worker drains (seconds), timed at the movement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, Response, g, has_request_context, request
from marshmallow import Schema, ValidationError, fields, validate

from wallet import wire
from wallet.context import services
from wallet.fields import describe, matchable
from wallet.ledger.db import audit_log
from wallet.operator.staff import Actor, StaffError
from wallet.ops import observe

bp = Blueprint("audit", __name__)  # nested under /api/v1 by create_app

MAX_ID = 2**63 - 1  # audit_log.id is a BIGINT
SYSTEM = Actor("system", "admin", "cli")  # the command line: whoever runs it on the server
T = TypeVar("T")


def _context_fields(actor: Actor | None) -> dict[str, Any]:
    """The row's fields that come from the request: who, from where, which request."""
    who = actor or (g.get("actor") if has_request_context() else None) or SYSTEM
    return {
        "actor": who.name,
        "actor_kind": who.kind,
        "role": who.role,
        "client": request.remote_addr if has_request_context() else None,
        "request_id": observe.current().request_id if has_request_context() else None,
    }


def pending(action: str, *, actor: Actor | None = None, **values: str | None) -> str:
    """The audit row of a money movement about to be made, as the JSON its journal entry carries
    (player, amount, currency, reason, detail in ``values``); outcome ok, time the movement's."""
    return json.dumps({**_context_fields(actor), "action": action, **values}, separators=(",", ":"))


def record(
    action: str,
    outcome: str = "ok",
    *,
    actor: Actor | None = None,
    player: str | None = None,
    amount: str | None = None,
    currency: str | None = None,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one row; the actor, client address and request id come from the request."""
    row = {
        "at": datetime.now(UTC),
        **_context_fields(actor),
        "action": action,
        "player": player,
        "amount": amount,
        "currency": currency,
        "reason": reason,
        "detail": detail,
        "outcome": outcome,
    }
    with services().db.begin() as conn:
        conn.execute(audit_log.insert().values(**row))


def change(action: str, subject: str, apply: Callable[[], T], actor: Actor | None = None) -> T:
    """Make a user or key change and record it: ok, or refused with the StaffError's reason."""
    try:
        result = apply()
    except StaffError as exc:
        record(action, "refused", actor=actor, detail=f"{subject}: {exc}")
        raise
    record(action, actor=actor, detail=subject)
    return result


class AuditQuery(Schema):
    player = fields.String(load_default=None)
    actor = fields.String(load_default=None)
    action = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    until = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID))


_query = AuditQuery()


def page(filters: dict[str, Any], limit: int, cursor: int | None) -> tuple[list[dict[str, Any]], str | None]:
    """Rows matching ``filters`` (player, actor, action, since, until), newest first, and the
    cursor of the next page (None at the end). A filter no row can hold (NUL, a line break)
    matches nothing."""
    if not matchable(*(filters.get(name) for name in ("player", "actor", "action"))):
        return [], None
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
    for name in ("player", "actor", "action"):
        if filters.get(name):
            query = query.where(audit_log.c[name] == filters[name])
    if filters.get("since"):
        query = query.where(audit_log.c.at >= filters["since"].astimezone(UTC))  # SQLite compares as written
    if filters.get("until"):
        query = query.where(audit_log.c.at < filters["until"].astimezone(UTC))
    if cursor and 0 < cursor <= MAX_ID:
        query = query.where(audit_log.c.id < cursor)
    with services().db.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)  # sqlite keeps no zone
        row["at"] = at.isoformat(timespec="microseconds").replace("+00:00", "Z")  # fixed width: sorts as text
    return rows, (str(rows[-1]["id"]) if more else None)


@bp.get("/audit")
def list_audit() -> Response:
    """The audit trail, newest first: ?player= &actor= &action= &since= &until= &limit= &cursor=."""
    try:
        query = _query.load(request.args)
    except ValidationError as exc:
        return wire.error_response(422, "invalid_query", describe(exc))
    items, next_cursor = page(query, query["limit"], query["cursor"])
    return wire.json_response({"items": items, "next_cursor": next_cursor})
