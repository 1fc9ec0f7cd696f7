"""The Redis the wallet runs on: refuse an eviction policy that could drop money, and watch memory.

Memory is bounded at every moment by two rules (docs/deploying.md: "Redis memory is bounded at every moment"):
- money writes stop at a soft limit, SOFT_LIMIT of maxmemory on the fullest master (MemoryGate:
  callbacks answer 503 with Retry-After before touching Redis), so the snapshot worker, whose
  scripts declare allow-oom, always has room to drain, prune and rotate, and a full Redis
  recovers by itself;
- the worker's one allocation, a new aged-id generation, is sized from the headroom left below
  the soft limit (headroom()), never from the traffic alone.

An ``allkeys-*`` policy lets Redis evict any key at maxmemory (balances, transaction records):
money lost silently and retries applied twice. ``noeviction`` (refuse writes: callbacks answer
503) and ``volatile-*`` (only keys with a TTL go: sessions, caches, round indexes) are safe.
The policy is read at start-up on every master (refused: one line naming it) and again at most
every CHECK_SECONDS while running (healthz 503, a gauge and a log line when it turns bad).
"""

from __future__ import annotations

import logging
import threading
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


def _room(client: Any, node: Any) -> tuple[int, int]:
    """(used, the limit to keep under): maxmemory, or the machine's RAM where none is set."""
    info = client.info("memory", **({} if node is None else {"target_nodes": node}))
    limit = int(info.get("maxmemory", 0)) or int(info.get("total_system_memory", 0))
    return int(info.get("used_memory", 0)), limit


SOFT_LIMIT = 0.8  # of maxmemory: money writes stop here (WALLET_REDIS_SOFT_LIMIT)
GATE_SECONDS = 0.5  # a process reads INFO memory at most this often for the gate


def headroom(client: redis.Redis, soft: float = SOFT_LIMIT) -> int | None:
    """Bytes left below the soft limit on the fullest master (negative past it); None where INFO
    is not allowed (fakeredis, some managed plans): nothing to size from."""
    try:
        figures = masters(client, _room)
    except redis.ResponseError:
        return None
    room = [int(limit * soft) - used for used, limit in figures if limit]
    return min(room) if room else None


class MemoryGate:
    """Closed while the fullest master is past the soft limit: money scripts are then refused
    (StoreFull: 503 + Retry-After) before they run. INFO memory is read at most every
    GATE_SECONDS per process, by one request thread at a time (the others read the last answer),
    so the gate costs one round trip per half second, not one per callback."""

    def __init__(self, client: redis.Redis, soft: float = SOFT_LIMIT) -> None:
        self.client, self.soft = client, soft
        self.is_closed, self.why = False, ""
        self._read_at, self._every = float("-inf"), GATE_SECONDS
        self._lock = threading.Lock()

    def closed(self) -> bool:
        if time.monotonic() - self._read_at >= self._every and self._lock.acquire(blocking=False):
            try:
                self._read()
            finally:
                self._lock.release()
        return self.is_closed

    def _read(self) -> None:
        self._read_at = time.monotonic()
        try:
            room = headroom(self.client, self.soft)
        except redis.RedisError:  # unreachable: the script call itself answers 503
            return
        if room is None:  # INFO not allowed: Redis's own OOM refusal is the only limit; ask rarely
            self._every, self.is_closed = CHECK_SECONDS, False
            return
        was, self.is_closed = self.is_closed, room < 0
        if self.is_closed:
            self.why = (
                f"redis: used memory is past the soft limit ({self.soft:.0%} of maxmemory); money writes "
                "wait until the snapshot worker frees room (nothing applied)"
            )
        if was != self.is_closed:  # each refusal is a warning line of its own (wallet/__init__.py)
            log.info("redis memory: %s the soft limit", "past" if self.is_closed else "back under")


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
