"""The Redis the wallet runs on: refuse an eviction policy that could drop money, and watch memory.

An ``allkeys-*`` policy lets Redis evict any key at maxmemory (balances, transaction records):
money lost silently and retries applied twice. ``noeviction`` (refuse writes: callbacks answer
503) and ``volatile-*`` (only keys with a TTL go: sessions, caches, round indexes) are safe.
The policy is read at start-up on every master (refused: one line naming it) and again at most
every CHECK_SECONDS while running (healthz 503, a gauge and a log line when it turns bad).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from redis.cluster import RedisCluster

from wallet.errors import ConfigError, StoreUnavailable

log = logging.getLogger("wallet.guard")
CHECK_SECONDS = 30.0
FIX = "set it to noeviction, or to a volatile-* policy (only keys with a TTL, never balances or records, may then go)"


def masters(client: redis.Redis, call: Callable[[redis.Redis, Any], Any]) -> list[Any]:
    """``call(client, target_nodes)`` on every master (target_nodes None for a single Redis)."""
    if isinstance(client, RedisCluster):
        return [call(client, node) for node in client.get_primaries()]
    return [call(client, None)]


def _config(client: Any, node: Any) -> str:
    options = {} if node is None else {"target_nodes": node}
    return str(client.config_get("maxmemory-policy", **options).get("maxmemory-policy", ""))


def policies(client: redis.Redis) -> list[str] | None:
    """The maxmemory-policy of every master; None where CONFIG GET is not allowed."""
    try:
        return masters(client, _config)
    except redis.ResponseError:
        return None


def problem(found: list[str] | None) -> str | None:
    """The line refusing an evicting policy, or None when every master is safe (or unknown)."""
    bad = [p for p in found or () if p.startswith("allkeys-")]
    if not bad:
        return None
    return f"maxmemory-policy: Redis is set to {bad[0]}, which may evict balances and transaction records; {FIX}"


_told_unknown = False


def refuse_evicting(client: redis.Redis) -> None:
    """At start-up: ConfigError on an allkeys-* policy; one line (once) where it cannot be read."""
    global _told_unknown
    found = policies(client)
    if found is None and not _told_unknown:
        _told_unknown = True
        log.warning("maxmemory-policy: CONFIG GET is not allowed on this Redis, so it is not checked; %s", FIX)
    line = problem(found)
    if line:
        raise ConfigError(line)


@dataclass
class Watch:
    """The eviction policy as last read, read again when older than CHECK_SECONDS."""

    client: redis.Redis
    found: list[str] | None = None
    read_at: float = float("-inf")

    def problem(self) -> str | None:
        if time.monotonic() - self.read_at >= CHECK_SECONDS:
            before = problem(self.found)
            try:
                self.found = policies(self.client)
            except redis.RedisError:  # unreachable: healthz says so on its own
                return before
            self.read_at = time.monotonic()
            now = problem(self.found)
            if now and now != before:
                log.error("%s", now)
            elif before and not now:
                log.warning("maxmemory-policy: safe again (%s)", ", ".join(self.found or ()))
        return problem(self.found)


def _memory(client: Any, node: Any) -> tuple[int, int]:
    info = client.info("memory", **({} if node is None else {"target_nodes": node}))
    return int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))


def memory(client: redis.Redis) -> tuple[int, int] | None:
    """(used, max) bytes summed over the masters (max 0 = no limit); None where INFO is not allowed."""
    try:
        figures = masters(client, _memory)
    except redis.ResponseError:
        return None
    return sum(u for u, _ in figures), sum(m for _, m in figures)


@dataclass(frozen=True)
class MemoryReport:
    """Redis memory as operators watch it: used and max, the policy, bytes per transaction kept."""

    used: int | None  # None where INFO is not allowed
    max: int | None  # 0: no limit
    policies: list[str] | None  # None where CONFIG GET is not allowed
    problem: str | None
    live_record_bytes: float | None  # per record kept in full (sampled)
    aged_bytes: int  # the aged-id filter's bitmaps
    aged_ids: int

    @property
    def aged_id_bytes(self) -> float | None:
        return self.aged_bytes / self.aged_ids if self.aged_ids else None


def report(store: Any, watch: Watch) -> MemoryReport:
    """Read everything in the report now (raises StoreUnavailable when Redis is down)."""
    from wallet.core.store import UNAVAILABLE

    try:
        figures = memory(store.client)
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"redis: {exc.__class__.__name__}") from exc
    problem = watch.problem()
    aged_bytes, aged_ids = store.aged_footprint()
    return MemoryReport(
        used=None if figures is None else figures[0],
        max=None if figures is None else figures[1],
        policies=watch.found,
        problem=problem,
        live_record_bytes=store.live_record_bytes(),
        aged_bytes=aged_bytes,
        aged_ids=aged_ids,
    )
