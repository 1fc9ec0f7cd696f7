"""Game-session tokens: unguessable strings the wallet issues when a player's session opens.

A provider that authenticates its calls by session (Hub88) gets one at launch and sends it back;
the session sign-in answers one too. Redis keeps only a digest of each (lua/session.lua,
lua/token.lua), so a copy of the store holds no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

#: Tokens kept per player (the newest): a launch or sign-in issues one; older ones are forgotten.
KEPT = 32
#: How long after its session ends a token is still recognised, and answered "expired".
GRACE_SECONDS = 24 * 3600
#: Longest token a caller may present (ours are 32 characters; Hub88 allows 255).
MAX_LENGTH = 255


def new() -> str:
    """A fresh token: 192 random bits, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


def digest(token: str) -> str:
    """What Redis keeps of a token: 128 bits of its BLAKE2b digest, in hex."""
    return hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
