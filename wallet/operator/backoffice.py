"""The back office: server-rendered pages for staff (players, cashier, reports, health, audit, staff).

Staff sign in with name, password and, when they have one, a TOTP code (wallet/operator/staff.py);
the bootstrap operator key still signs in as admin unless WALLET_REQUIRE_2FA is set. A signed
session cookie follows (Secure over HTTPS, ended after WALLET_BACKOFFICE_IDLE without activity);
every form, the login's included, carries a CSRF token (flask-wtf); failed sign-ins are throttled
per address and per name; every page gets a strict CSP and anti-framing headers. Each page needs a
role, and every action goes through the operator API's own code (cashier(), set_status, audit), so
idempotency, validation and the audit trail are the same as over HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Request, abort, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.wrappers import Response as BaseResponse
from wtforms.validators import ValidationError

from wallet import providers
from wallet.config import Settings
from wallet.context import services
from wallet.core import limits
from wallet.core.money import format_amount, shown
from wallet.core.wallet import Outcome
from wallet.errors import StoreUnavailable
from wallet.fields import ascii_text, one_line
from wallet.ledger import history, recovery
from wallet.ledger.db import balances
from wallet.operator import api as operator_api
from wallet.operator import audit, protection, staff, throttle
from wallet.ops import guard

ANONYMOUS = staff.Actor("anonymous", "none", "anonymous")  # who a refused sign-in is, in the audit trail
PREFIX = "/backoffice"  # its pages, and the only path its session cookie is read or sent on
bp = Blueprint("backoffice", __name__, url_prefix=PREFIX, template_folder="templates", static_folder="static")
Page = str | BaseResponse
Answer = Page | tuple[str, int] | tuple[str, int, dict[str, str]]

#: Headers of every back-office response: no inline script or style, no framing, no sniffing.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # same-origin: flask-wtf checks the Referer over HTTPS
    "Cache-Control": "no-store",
}


class _BackOfficeSessions(SecureCookieSessionInterface):
    """Session cookies for the back office only: callbacks and the API never pay for reading one."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure whenever the request came over HTTPS (X-Forwarded-Proto only from TRUSTED_PROXIES)."""
        return request.is_secure


def init_app(app: Flask, settings: Settings) -> None:
    """Sessions are signed with a key derived from the operator key (rotating it logs everyone out)."""
    key = settings.operator_api_key.encode()
    app.secret_key = hmac.new(key, b"wallet backoffice session", hashlib.sha256).hexdigest()
    app.session_interface = _BackOfficeSessions()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH=PREFIX,
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session (which has an idle limit)
    )


# The hooks below are the blueprint's, not the app's: a callback pays for none of them.


@bp.after_request
def _harden(response: BaseResponse) -> BaseResponse:
    response.headers.update(HEADERS)
    return response


@bp.context_processor
def _csrf_token() -> dict[str, Any]:
    return {"csrf_token": generate_csrf}


@bp.before_request
def _check_form() -> None:
    """A form posted without this session's CSRF token (flask-wtf's) is a 400 before any view runs."""
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            abort(400, f"{exc.args[0]} Reload the page and send it again.")


def _actor() -> staff.Actor | None:
    """The signed-in actor, as the database has it now: idle, disabled, signed out elsewhere, or
    changed since the session began (password, role, second factor): signed out."""
    stored = session.get("actor")
    if not stored:
        return None
    if time.time() - session.get("seen", 0) > services().settings.backoffice_idle:
        session.clear()
        flash("Signed out after a period without activity.", "error")
        return None
    name, role, kind = stored
    now = _generation(name, kind)
    if now is None or now[1] != session.get("gen"):
        session.clear()
        return None
    session["seen"] = time.time()
    return staff.Actor(name, now[0] if kind == "user" else role, kind)


def _generation(name: str, kind: str) -> tuple[str, int] | None:
    """(role, session generation) of a user as the database has it now, or None; for the
    operator key, its generation in Redis."""
    if kind == "user":
        return staff.live(services().db, name)
    return "admin", services().store.bootstrap_generation()


def allowed(role: str = "viewer") -> Callable[[Callable[..., Answer]], Callable[..., Answer]]:
    """A page for actors of at least ``role`` (others: to the login, or 403)."""

    def wrap(view: Callable[..., Answer]) -> Callable[..., Answer]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Answer:
            actor = _actor()
            if actor is None:
                return redirect(url_for("backoffice.login", next=request.path))
            if not actor.may(role):
                abort(403, f"this needs the {role} role; you are {actor.role}")
            g.actor = actor
            return view(*args, **kwargs)

        return guarded

    return wrap


login_required = allowed("viewer")


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
def login() -> Answer:
    if request.method == "GET":
        return render_template("backoffice/login.html", name="")
    name = request.form.get("name", "").strip().lower()[:64]  # no longer name exists (nor throttle key)
    subject = throttle.Subject("backoffice", request.remote_addr or "unknown", name or staff.BOOTSTRAP)
    wait = throttle.reserve(subject)  # counted before any secret is checked
    if wait is not None:
        flash(f"Too many failed sign-ins: try again in {wait // 60 + 1} minutes.", "error")
        return render_template("backoffice/login.html", name=name), 429, {"Retry-After": str(wait)}
    settings = services().settings
    password, code = request.form.get("password", ""), request.form.get("code", "").strip()
    if not name:
        bootstrap = hmac.compare_digest(password.encode(), settings.operator_api_key.encode())
        outcome = staff.Login(staff.Actor(staff.BOOTSTRAP, "admin", "bootstrap")) if bootstrap else staff.Login()
        if bootstrap and settings.require_2fa:
            outcome = staff.Login(setup_2fa=True)
    else:
        once = functools.partial(services().store.totp_once, name)
        outcome = staff.sign_in(services().db, name, password, code, settings.require_2fa, once)
    return _signed_in(outcome, subject) if outcome.actor else _refused(outcome, subject, name)


def _signed_in(outcome: staff.Login, subject: throttle.Subject) -> Page:
    assert outcome.actor is not None
    throttle.succeeded(subject)
    session.clear()
    now = _generation(outcome.actor.name, outcome.actor.kind)
    session.update(
        actor=[outcome.actor.name, outcome.actor.role, outcome.actor.kind],
        seen=time.time(),
        gen=None if now is None else now[1],
    )
    audit.record("login", actor=outcome.actor)
    target = request.args.get("next", "")
    safe = target.startswith(f"{PREFIX}/") and target.isprintable() and target.isascii()  # no CR/LF, no escapes
    return redirect(target if safe else url_for("backoffice.players"))


def _refused(outcome: staff.Login, subject: throttle.Subject, name: str) -> tuple[str, int]:
    """A refused sign-in: the actor is never the name typed (anyone may type any name), only
    ``anonymous``; the name tried is a separate, escaped detail."""
    tried = f"name tried: {ascii_text(name or staff.BOOTSTRAP, 64)}"
    if outcome.setup_2fa:
        audit.record("login", "second_factor_required", actor=ANONYMOUS, detail=tried)
        flash("Admins need a second factor here (WALLET_REQUIRE_2FA): `wallet user 2fa NAME` sets one up.", "error")
        return render_template("backoffice/login.html", name=name), 403
    throttle.failed(subject)
    audit.record("login", "refused", actor=ANONYMOUS, detail=tried)
    flash("Wrong name, password or code.", "error")
    return render_template("backoffice/login.html", name=name), 401


@bp.post("/logout")
@login_required
def logout() -> Page:
    """Sign out every session of this user (or of the operator key), not only this browser's."""
    audit.record("logout")
    actor = g.actor
    if actor.kind == "user":
        staff.end_sessions(services().db, actor.name)
    else:
        services().store.bootstrap_generation(end=True)
    session.clear()
    return redirect(url_for("backoffice.login"))


@bp.get("/")
@login_required
def players() -> Page:
    """Players whose id starts with the search text (from SQL), with their live balance."""
    q = request.args.get("q", "").strip()
    if q and not one_line(q, 64):  # no player id holds NUL or a line break, nor is past 64 characters
        return render_template("backoffice/players.html", q=q, rows=[])
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
    filters = {k: (request.args.get(k) or "")[:32] or None for k in ("provider", "kind")}
    cursor = request.args.get("cursor", type=int)
    cursor = cursor if cursor is not None and 0 < cursor <= history.MAX_SEQ else None  # else: the first page
    items, next_cursor = history.ledger_page(
        player, 25, cursor, unit=live.unit, provider=filters["provider"], kind=filters["kind"]
    )
    return render_template(
        "backoffice/player.html",
        player=player,
        live=live,
        items=items,
        filters=filters,
        providers=[*providers.names(), "cashier"],
        next_cursor=next_cursor,
        idempotency_key=uuid.uuid4().hex,
        protection=protection.view(player),
        limit_names=limits.NAMES,
    )


@bp.post("/players/<player>/limits")
@allowed("cashier")
def set_limit(player: str) -> Page:
    """One limit from the player page: an amount, or empty to remove it (the API's rules)."""
    name, value = request.form.get("limit", ""), request.form.get("amount", "").strip() or None
    if name not in limits.NAMES:
        abort(400, "unknown limit")
    kind, _, period = name.partition(":")
    body: dict[str, Any] = {"stake": value} if name == "stake" else {kind: {period: value}}
    return _protected(player, lambda: protection.change_limits(player, protection.load(protection.limits_schema, body)))


@bp.post("/players/<player>/exclusions")
@allowed("cashier")
def exclude(player: str) -> Page:
    """A cool-off or self-exclusion from the player page (never shortened)."""
    until = request.form.get("until", "").strip()
    body = {"kind": request.form.get("kind", ""), "until": None if until in ("", "never") else until}
    return _protected(
        player, lambda: protection.start_exclusion(player, protection.load(protection.exclusion_schema, body))
    )


def _protected(player: str, change: Callable[[], Any]) -> Page:
    try:
        change()
    except operator_api.ApiError as exc:
        flash(f"Not done: {exc.message}.", "error")
    else:
        flash("Player protection updated.", "ok")
    return redirect(url_for("backoffice.player", player=player))


@bp.post("/players/<player>/status")
@allowed("admin")
def set_status(player: str) -> Page:
    status = request.form.get("status")
    if status not in ("active", "blocked"):
        abort(400, "status must be active or blocked")
    result = services().wallet.set_status(player, status)
    operator_api.audited(result, "block" if status == "blocked" else "unblock", player)
    if result.outcome is Outcome.NO_PLAYER:
        abort(404, f"no player {player!r}")
    flash(f"{player} is now {status}.", "ok")
    return redirect(url_for("backoffice.player", player=player))


@bp.post("/players/<player>/cashier")
@allowed("cashier")
def cashier(player: str) -> Page:
    """First step: validate and ask for confirmation; with confirm=yes, apply (idempotently).
    An adjustment is signed and needs a reason."""
    kind, key = request.form.get("kind", ""), request.form.get("idempotency_key", "")
    reason = request.form.get("reason", "").strip() or None
    if kind not in ("deposit", "withdrawal", "adjustment"):
        abort(400, "kind must be deposit, withdrawal or adjustment")
    try:
        amount = operator_api.amount_of(request.form.get("amount", ""), signed=kind == "adjustment", reason=reason)
        operator_api.in_currency(player, abs(amount))  # refused here, before asking to confirm
        if request.form.get("confirm") != "yes":
            page = render_template(
                "backoffice/confirm.html", player=player, kind=kind, amount=amount, key=key, reason=reason
            )
            return page
        body, replayed = operator_api.cashier(player, kind, amount, key, reason)
    except operator_api.ApiError as exc:
        flash(f"Not done: {exc.message}.", "error")
        return redirect(url_for("backoffice.player", player=player))
    note = " (already done earlier with this form: nothing repeated)" if replayed else ""
    flash(f"{kind.capitalize()} of {body['amount']} done; balance {body['balance']}{note}.", "ok")
    return redirect(url_for("backoffice.player", player=player))


@bp.get("/reports")
@allowed("viewer")
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
@allowed("viewer")
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
@allowed("admin")
def reconcile() -> Page:
    players, mismatches = recovery.check(services().store, services().db)
    audit.record(
        "reconcile", "ok" if not mismatches else "mismatches", detail=f"{players} players, {len(mismatches)} mismatches"
    )
    session["check"] = {
        "players": players,
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "mismatches": [m.__dict__ for m in mismatches][:50],
    }
    return redirect(url_for("backoffice.health"))
