"""Calling the providers' platform APIs: one pooled HTTP session, timeouts, and one error hierarchy.

    PlatformError            the provider could not do what we asked (operator API: 502)
    ├── PlatformTimeout      no answer within PLATFORM_API_TIMEOUT (504)
    ├── PlatformBusy         the provider (or our share of its call limit) is saturated (503)
    └── PlatformRejected     the provider answered with an error code (502, code in the message)

Only calls that are safe to repeat are retried; a call that may have been applied (a launch, a
free-spin grant) is never sent twice, except after an explicit "busy" answer, which means it
was not processed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from wallet.errors import WalletError

#: How often a "busy" answer is retried, and the first pause (doubled each time, with jitter).
BUSY_RETRIES, BUSY_PAUSE = 3, 0.2


class PlatformError(WalletError):
    """A platform API call failed; ``provider`` says whose."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class BadLaunch(ValueError):
    """A launch field this provider needs is missing or not one it takes (the message names it)."""


class PlatformTimeout(PlatformError):
    """No answer in time."""


class PlatformBusy(PlatformError):
    """Too many calls in flight; try again shortly."""


class PlatformRejected(PlatformError):
    """The provider answered with an error code."""

    def __init__(self, provider: str, code: object, message: str) -> None:
        super().__init__(provider, f"error {code}: {message}")
        self.code = code


def session() -> requests.Session:
    """A pooled session (keep-alive, up to 50 connections per host); no automatic retries."""
    s = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=50, max_retries=0)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def call_json(provider: str, send: Callable[[], requests.Response], safe_to_repeat: bool = False) -> Any:
    """Send a request and return its JSON body; transport failures become PlatformErrors.

    ``safe_to_repeat``: a read-only call, retried once after a connection failure.
    """
    attempts = 2 if safe_to_repeat else 1
    for attempt in range(attempts):
        try:
            response = send()
        except requests.Timeout as exc:
            raise PlatformTimeout(provider, "no answer in time") from exc
        except requests.ConnectionError as exc:
            if attempt + 1 < attempts:
                continue
            raise PlatformError(provider, "unreachable") from exc
        break
    if response.status_code == 429:
        raise PlatformBusy(provider, "HTTP 429")
    if response.status_code >= 500:
        raise PlatformError(provider, f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise PlatformError(provider, f"malformed reply (HTTP {response.status_code})") from exc


def backing_off(call: Callable[[], Any]) -> Any:
    """Run ``call``; after PlatformBusy wait (0.2 s, 0.4 s, 0.8 s, with jitter) and try again."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            return call()
        except PlatformBusy:
            if attempt == BUSY_RETRIES:
                raise
            time.sleep(BUSY_PAUSE * 2**attempt * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")
