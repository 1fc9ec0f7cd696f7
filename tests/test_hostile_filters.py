"""Operator-API and back-office filters take any input (NUL, huge cursors, time offsets, CR/LF in a
redirect target) and answer 422 or the right rows, never a 5xx; the "Older" link pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from flask import Flask

from tests.conftest import OPERATOR_KEY, Operator, Provider, csrf_of
from wallet.ledger.snapshot import drain_once

HEADERS = {"Authorization": f"Bearer {OPERATOR_KEY}"}


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        ("/api/v1/players/p1/transactions?provider=%00", "items"),
        ("/api/v1/players/p1/transactions?round=%00", "items"),
        ("/api/v1/players/p1/transactions?round=a%0Ab", "items"),
        ("/api/v1/reports/ggr?from=2026-01-01&to=2026-01-02&provider=%00", "rows"),
        ("/api/v1/audit?actor=%00", "items"),
        ("/api/v1/audit?player=%00", "items"),
        ("/api/v1/audit?action=a%0D%0Ab", "items"),
    ],
)
def test_api_filters_match_nothing_no_row_holds(operator: Operator, path: str, listed: str) -> None:
    """A filter with NUL or CR/LF answers the right rows, none (PostgreSQL is never asked: it would
    refuse NUL with an error, a 503 before)."""
    operator.create("p1")
    answer = operator.client.get(path, headers=HEADERS)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()[listed] == []


def test_cursor_past_the_bigint_range_is_422(operator: Operator) -> None:
    """A cursor past 2^63 - 1 is a 422 naming it, not a database error."""
    operator.create("p1")
    answer = operator.client.get("/api/v1/players/p1/transactions?cursor=99999999999999999999", headers=HEADERS)
    assert answer.status_code == 422 and "cursor" in answer.get_json()["message"]


def test_time_filters_honour_their_offset(app: Flask, operator: Operator, gsp: Provider) -> None:
    """`from` written with +02:00 finds what happened after that instant, on SQLite as on PostgreSQL."""
    operator.create("p1", balance="10.00")
    gsp.withdraw("p1", "1.00", "t1")
    drain_once(app.extensions["wallet"].store, app.extensions["wallet"].db)
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    in_paris = earlier.astimezone(timezone(timedelta(hours=2))).isoformat()
    found = operator.client.get(f"/api/v1/players/p1/transactions?from={quote(in_paris)}", headers=HEADERS)
    assert [i["transaction_id"] for i in found.get_json()["items"]] == ["t1", "seed-p1"]
    audit = operator.client.get(f"/api/v1/audit?since={quote(in_paris)}", headers=HEADERS).get_json()["items"]
    assert sorted(r["action"] for r in audit) == ["deposit", "player_create"]


def test_back_office_takes_any_input(app: Flask, operator: Operator, gsp: Provider) -> None:
    """A cursor past 2^63, NUL in a search or a filter, CR/LF in the sign-in's `next`: the page or a
    safe redirect, never a 5xx; the "Older" link moves to the next page instead of repeating one."""
    operator.create("p1", balance="100.00")
    for i in range(30):
        gsp.withdraw("p1", "1.00", f"t{i}")
    drain_once(app.extensions["wallet"].store, app.extensions["wallet"].db)
    office = app.test_client()
    form = {"name": "", "password": OPERATOR_KEY, "code": "", "csrf_token": csrf_of(office)}
    signed = office.post("/backoffice/login?next=/backoffice/%0D%0ASet-Cookie:x=1", data=form)
    assert signed.status_code == 302 and "\r" not in signed.headers["Location"]
    assert office.get("/backoffice/players/p1?cursor=99999999999999999999").status_code == 200
    assert office.get("/backoffice/?q=%00").status_code == 200
    assert office.get("/backoffice/audit?actor=%00").status_code == 200
    first = office.get("/backoffice/players/p1?provider=gitslotpark").get_data(as_text=True)
    older = first.split('<a href="?')[1].split('"')[0].replace("&amp;", "&")
    assert older.count("cursor=") == 1 and "provider=gitslotpark" in older
    second = office.get(f"/backoffice/players/p1?{older}").get_data(as_text=True)
    assert "t4<" in second and "t29<" not in second and "t4<" not in first
