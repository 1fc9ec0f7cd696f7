"""The back office: server-rendered pages for the operator (players, cashier, reports, health).

Login with the operator key (a signed session cookie follows); every form carries a CSRF token;
every action goes through the operator API's own code (cashier(), amount_of(), set_status), so
idempotency and validation are the same as over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Request, abort, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.wrappers import Response as BaseResponse

from wallet.context import services
from wallet.core.money import format_amount, shown
from wallet.core.wallet import Outcome
from wallet.errors import StoreUnavailable
from wallet.ledger import history, recovery
from wallet.ledger.db import balances
from wallet.operator import api as operator_api
from wallet.ops import guard

PREFIX = "/backoffice"  # its pages, and the only path its session cookie is read or sent on
bp = Blueprint("backoffice", __name__, url_prefix=PREFIX, template_folder="templates")
Page = str | BaseResponse


class _BackOfficeSessions(SecureCookieSessionInterface):
    """Session cookies for the back office only: callbacks and the API never pay for reading one."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask, operator_key: str) -> None:
    """Sessions are signed with a key derived from the operator key (rotating it logs everyone out)."""
    app.secret_key = hmac.new(operator_key.encode(), b"wallet backoffice session", hashlib.sha256).hexdigest()
    app.session_interface = _BackOfficeSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_PATH=PREFIX)
    app.register_blueprint(bp)


def login_required(view: Any) -> Any:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not session.get("operator"):
            return redirect(url_for("backoffice.login", next=request.path))
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), session["csrf"]):
            abort(400, "the form is stale: reload the page")
        return view(*args, **kwargs)

    return guarded


@bp.app_template_global()
def money(minor: int | None, unit: int = 2, currency: str | None = None) -> str:
    """An amount kept at ``unit`` decimals, in the currency's own decimals when one is given."""
    if minor is None:
        return ""
    return format_amount(minor, unit) if currency is None else shown(minor, unit, currency)


@bp.app_template_global()
def now_seconds() -> float:
    return time.time()


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    if request.method == "POST":
        given = request.form.get("key", "").encode()
        if hmac.compare_digest(given, services().settings.operator_api_key.encode()):
            session.clear()
            session.update(operator=True, csrf=secrets.token_urlsafe(24))
            target = request.args.get("next", "")
            return redirect(target if target.startswith(f"{PREFIX}/") else url_for("backoffice.players"))
        flash("That is not the operator key.", "error")
    return render_template("backoffice/login.html")


@bp.post("/logout")
@login_required
def logout() -> Page:
    session.clear()
    return redirect(url_for("backoffice.login"))


@bp.get("/")
@login_required
def players() -> Page:
    """Players whose id starts with the search text (from SQL), with their live balance."""
    q = request.args.get("q", "").strip()
    query = sa.select(balances.c.player).order_by(balances.c.player).limit(50)
    if q:
        query = query.where(balances.c.player.startswith(q, autoescape=True))
    with services().db.connect() as conn:
        ids = list(conn.execute(query).scalars())
    if q and q not in ids:
        ids.insert(0, q)  # a player created seconds ago is in Redis before SQL
    rows = [(player, services().wallet.player(player)) for player in ids]
    rows = [(player, r) for player, r in rows if r.outcome is not Outcome.NO_PLAYER]
    return render_template("backoffice/players.html", q=q, rows=rows)


@bp.get("/players/<player>")
@login_required
def player(player: str) -> Page:
    live = services().wallet.player(player)
    if live.outcome is Outcome.NO_PLAYER:
        abort(404, f"no player {player!r}")
    filters = {k: request.args.get(k) or None for k in ("provider", "kind")}
    cursor = request.args.get("cursor", type=int)
    items, next_cursor = history.ledger_page(
        player, 25, cursor, unit=live.unit, provider=filters["provider"], kind=filters["kind"]
    )
    return render_template(
        "backoffice/player.html",
        player=player,
        live=live,
        items=items,
        filters=filters,
        next_cursor=next_cursor,
        idempotency_key=uuid.uuid4().hex,
    )


@bp.post("/players/<player>/status")
@login_required
def set_status(player: str) -> Page:
    status = request.form.get("status")
    if status not in ("active", "blocked"):
        abort(400, "status must be active or blocked")
    if services().wallet.set_status(player, status).outcome is Outcome.NO_PLAYER:
        abort(404, f"no player {player!r}")
    flash(f"{player} is now {status}.", "ok")
    return redirect(url_for("backoffice.player", player=player))


@bp.post("/players/<player>/cashier")
@login_required
def cashier(player: str) -> Page:
    """First step: validate and ask for confirmation; with confirm=yes, apply (idempotently)."""
    kind, key = request.form.get("kind", ""), request.form.get("idempotency_key", "")
    if kind not in ("deposit", "withdrawal"):
        abort(400, "kind must be deposit or withdrawal")
    try:
        amount = operator_api.amount_of(request.form.get("amount", ""))
        operator_api.in_currency(player, amount)  # refused here, before asking to confirm
        if request.form.get("confirm") != "yes":
            return render_template("backoffice/confirm.html", player=player, kind=kind, amount=amount, key=key)
        body, replayed = operator_api.cashier(player, kind, amount, key)
    except operator_api.ApiError as exc:
        flash(f"Not done: {exc.message}.", "error")
        return redirect(url_for("backoffice.player", player=player))
    note = " (already done earlier with this form: nothing repeated)" if replayed else ""
    flash(f"{kind.capitalize()} of {body['amount']} done; balance {body['balance']}{note}.", "ok")
    return redirect(url_for("backoffice.player", player=player))


@bp.get("/reports")
@login_required
def reports() -> Page:
    today = datetime.now(UTC).date()
    since = _date(request.args.get("from"), today - timedelta(days=6))
    until = _date(request.args.get("to"), today)
    if until < since or until - since > timedelta(days=history.MAX_DAYS):
        since, until = today - timedelta(days=6), today
        flash(f"Dates reset: 'to' must follow 'from', within {history.MAX_DAYS} days.", "error")
    rows = history.ggr_rows(since, until)
    return render_template("backoffice/reports.html", rows=rows, since=since, until=until, chart=_chart(rows))


def _date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _chart(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of GGR per day and currency, scaled to the largest magnitude (for an inline SVG)."""
    totals: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["day"], row["currency"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(row["ggr"])
    peak = max((abs(v) for v in totals.values()), default=Decimal(0)) or Decimal(1)
    return [
        {"day": d, "currency": c, "ggr": str(v), "height": round(abs(v) * 120 / peak), "negative": v < 0}
        for (d, c), v in sorted(totals.items())
    ]


@bp.get("/health")
@login_required
def health() -> Page:
    store = services().store
    try:
        oldest, last, redis_ok = store.oldest_undrained_ms(), store.snapshot_report(), True
        memory = guard.report(store, services().redis_watch)
    except StoreUnavailable:
        oldest, last, redis_ok, memory = None, None, False, None
    lag = None if oldest is None else max(0.0, time.time() - oldest / 1000)
    return render_template(
        "backoffice/health.html",
        redis_ok=redis_ok,
        lag=lag,
        last=last,
        memory=memory,
        check=session.pop("check", None),
    )


@bp.post("/health/reconcile")
@login_required
def reconcile() -> Page:
    players, mismatches = recovery.check(services().store, services().db)
    session["check"] = {
        "players": players,
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "mismatches": [m.__dict__ for m in mismatches][:50],
    }
    return redirect(url_for("backoffice.health"))
