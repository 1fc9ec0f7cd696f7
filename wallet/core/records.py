"""Transaction records in Redis, seen from Python: request fingerprints and the compact record form."""

from __future__ import annotations

import hashlib
from typing import Any


def fingerprint(text: str) -> str:
    """A 12-hex-digit digest of a request's defining fields: equal for replays, different otherwise."""
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def compact(row: Any) -> str:
    """The Redis record 's|r|d|b|f|o' (lua/_shared.lua) of a ``transactions`` row."""
    fp = row["fingerprint"] or ""
    if "|" in fp:  # older versions journaled the fingerprint's full text
        fp = fingerprint(fp)
    values = (row["state"], row["entry_id"], row["delta"], row["balance_after"], fp, row["outcome"])
    return "|".join("" if v is None else str(v) for v in values)
