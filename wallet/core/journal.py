"""Ledger stream entries: the caller's metadata travels pre-joined, as one field ``meta``.

A money script takes the entry's metadata (who, where, the money really bet and won) as one
JSON array in one argument instead of a field/value pair each: fewer arguments to pack and send,
and no loop in Lua. ``expand`` turns an entry back into flat fields for the snapshot job and
reconciliation; entries written before this format (one field each) pass through unchanged.
"""

from __future__ import annotations

import json

#: The positions of ``meta``'s array (a reversal sends only the first three). ``bet`` and ``win``
#: are sent empty since the scripts journal them as fields of their own, in the player's unit
#: (entries of earlier versions carry them here, at the caller's decimals). ``audit``: the audit
#: row of a cashier movement as JSON (wallet/operator/audit.py pending), written to SQL by the
#: snapshot job with the entry itself, so a movement and its audit row are one atomic step.
FIELDS = ("provider", "player", "round", "game", "bet", "win", "bonus", "audit")

_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def meta(*values: str | int) -> str:
    """The metadata argument of a money script: ``values`` in the order of FIELDS."""
    return _ENCODE(values)


def expand(entry: dict[str, str]) -> dict[str, str]:
    """The entry with ``meta`` unfolded into its fields (empty ones left out, as before)."""
    raw = entry.get("meta")
    if raw is None:
        return entry
    flat = {key: value for key, value in entry.items() if key != "meta"}
    for name, value in zip(FIELDS, json.loads(raw), strict=False):
        if value != "":
            flat[name] = str(value)
    return flat
