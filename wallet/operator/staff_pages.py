"""The back office's audit and staff pages: the audit trail for everyone; users and API keys for
admins (every change audited, secrets shown once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from wallet.context import services
from wallet.operator import audit, staff
from wallet.operator.backoffice import Page, allowed

bp = Blueprint("staff", __name__)  # nested in the back office's blueprint by create_app (its hooks apply)


@bp.get("/audit")
@allowed("viewer")
def audit_trail() -> Page:
    """The audit trail, newest first, filtered by player, actor and action."""
    filters = {k: request.args.get(k, "").strip() or None for k in ("player", "actor", "action")}
    rows, next_cursor = audit.page(filters, 50, request.args.get("cursor", type=int))
    return render_template("backoffice/audit.html", rows=rows, filters=filters, next_cursor=next_cursor)


@bp.get("/staff")
@allowed("admin")
def staff_page() -> Page:
    db = services().db
    return render_template("backoffice/staff.html", users=staff.users(db), keys=staff.keys(db), roles=staff.ROLES)


def _staff_change(action: str, subject: str, apply: Callable[[], Any], done: str) -> Any:
    """Apply and audit a user or key change; a refusal is flashed. Returns what ``apply`` gave."""
    try:
        result = audit.change(action, subject, apply)
    except staff.StaffError as exc:
        flash(f"Not done: {exc}.", "error")
        return None
    flash(done, "ok")
    return result


@bp.post("/staff/users")
@allowed("admin")
def add_user() -> Page:
    name, role = request.form.get("name", "").strip().lower(), request.form.get("role", "")
    password = request.form.get("password", "")
    add = lambda: staff.add_user(services().db, name, role, password)  # noqa: E731
    _staff_change("user_add", f"{name} as {role}", add, f"{name} added as {role}.")
    return redirect(url_for("backoffice.staff.staff_page"))


@bp.post("/staff/users/<name>")
@allowed("admin")
def change_user(name: str) -> Page:
    """disable, enable, role (with role=), 2fa (a new secret, shown once) or no2fa."""
    db, change = services().db, request.form.get("change", "")
    if change == "2fa":
        made = _staff_change("user_2fa_on", name, lambda: staff.enable_2fa(db, name), f"New second factor for {name}.")
        if made:
            return render_template(
                "backoffice/secret.html", title=f"Second factor of {name}", secret=made[0], uri=made[1]
            )
    elif change in ("disable", "enable"):
        apply = lambda: staff.set_disabled(db, name, change == "disable")  # noqa: E731
        _staff_change(f"user_{change}", name, apply, f"{name}: {change}d.")
    elif change == "role":
        role = request.form.get("role", "")
        _staff_change("user_role", f"{name} to {role}", lambda: staff.set_role(db, name, role), f"{name} is {role}.")
    elif change == "no2fa":
        _staff_change("user_2fa_off", name, lambda: staff.disable_2fa(db, name), f"{name}: second factor removed.")
    else:
        abort(400, "change must be disable, enable, role, 2fa or no2fa")
    return redirect(url_for("backoffice.staff.staff_page"))


@bp.post("/staff/keys")
@allowed("admin")
def add_key() -> Page:
    name, role = request.form.get("name", "").strip().lower(), request.form.get("role", "")
    made = _staff_change(
        "key_add", f"{name} as {role}", lambda: staff.add_key(services().db, name, role), "Key created."
    )
    if made is None:
        return redirect(url_for("backoffice.staff.staff_page"))
    return render_template("backoffice/secret.html", title=f"API key {name}", secret=made, uri=None)


@bp.post("/staff/keys/<name>/revoke")
@allowed("admin")
def revoke_key(name: str) -> Page:
    _staff_change("key_revoke", name, lambda: staff.revoke_key(services().db, name), f"Key {name} revoked.")
    return redirect(url_for("backoffice.staff.staff_page"))
