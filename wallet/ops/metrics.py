"""Prometheus metrics: callbacks, latency, money moved, store failures, and the snapshot job's lag.

Correct under several gunicorn workers: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a
directory shared by the workers, and /metrics merges their files. The snapshot lag is read from
Redis at scrape time (the worker may run on another machine), so every web process reports it.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CALLBACKS = Counter(
    "wallet_callbacks_total",
    "Provider callbacks answered, by provider, operation and outcome.",
    ["provider", "operation", "outcome"],
)
LATENCY = Histogram(
    "wallet_callback_seconds",
    "Time to answer a provider callback.",
    ["provider", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0),
)
MONEY = Counter(
    "wallet_money_minor_total",
    "Money moved by callbacks and the cashier, in minor units (cents).",
    ["provider", "currency", "kind"],
)
REPLAYS = Counter(
    "wallet_replays_total",
    "Transaction ids seen again: duplicate (same request) or conflict (other parameters).",
    ["provider", "kind"],
)
UNAVAILABLE = Counter(
    "wallet_store_unavailable_total", "Requests answered 503 because Redis was unreachable.", ["surface"]
)
REDIS_FULL = Counter(
    "wallet_redis_full_total", "Requests answered 503 because Redis refused a write at maxmemory.", ["surface"]
)
PROTECTION_REFUSALS = Counter(
    "wallet_protection_refusals_total",
    "Bets and deposits refused by a player's limit or exclusion, by kind (stake, loss, deposit, cool-off, "
    "self-exclusion).",
    ["kind"],
)
PROTECTION_CHANGES = Counter(
    "wallet_protection_changes_total",
    "Limit and exclusion changes, by kind (stake, loss, deposit, cool-off, self-exclusion) and when they took "
    "effect (now, or pending a cooling-off).",
    ["kind", "effect"],
)
AGED_LOOKUPS = Counter(
    "wallet_aged_lookups_total",
    "Ids found in the aged-id filter and looked up in SQL: found, or false_positive (a new id).",
    ["result"],
)


def money(provider: str, currency: str, kind: str, minor: int) -> None:
    """Count ``minor`` (>= 0) units of ``kind`` (bet, win, rollback, deposit, withdrawal)."""
    if minor > 0:
        _money(provider, currency, kind).inc(minor)


@functools.cache
def _money(provider: str, currency: str, kind: str) -> Any:
    """The counter child of one label set, looked up once (label sets are few)."""
    return MONEY.labels(provider, currency, kind)


class SnapshotCollector(Collector):
    """Scrape-time gauges from Redis: the age of the oldest entry the snapshot job has not drained,
    and the last batch the job recorded."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            oldest_ms, last = self.store.oldest_undrained_ms(), self.store.snapshot_report()
        except Exception:  # a scrape must not fail because Redis is down: the 503 counter says it
            return
        lag = GaugeMetricFamily("wallet_snapshot_lag_seconds", "Age of the oldest ledger entry not yet in SQL.")
        lag.add_metric([], 0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000))
        yield lag
        if last:
            batch = GaugeMetricFamily("wallet_snapshot_last_batch_entries", "Entries in the worker's last batch.")
            batch.add_metric([], float(last["entries"]))
            yield batch
            at = GaugeMetricFamily("wallet_snapshot_last_run_timestamp_seconds", "When the worker last drained.")
            at.add_metric([], float(last["at"]))
            yield at
            aside = GaugeMetricFamily(
                "wallet_ledger_quarantined", "Ledger entries SQL refused, set aside (wallet quarantine list)."
            )
            aside.add_metric([], float(last.get("quarantined", 0)))
            yield aside


class RedisCollector(Collector):
    """Scrape-time gauges of the Redis the wallet runs on: memory, eviction policy, aged-id filter."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from wallet.ops import guard

        try:
            found = guard.report(self.services.store, self.services.redis_watch)
        except Exception:  # a scrape must not fail because Redis is down: the 503 counter says it
            return
        if found.used is not None and found.max is not None:
            yield _gauge("wallet_redis_used_memory_bytes", "Redis used_memory, summed over masters.", found.used)
            yield _gauge("wallet_redis_max_memory_bytes", "Redis maxmemory, summed over masters (0: none).", found.max)
        if found.policies is not None:
            policy = GaugeMetricFamily(
                "wallet_redis_eviction_policy_safe",
                "1 when no master may evict balances or records (maxmemory-policy not allkeys-*).",
                labels=["policy"],
            )
            policy.add_metric([",".join(sorted(set(found.policies)))], 0.0 if found.problem else 1.0)
            yield policy
        if found.live_record_bytes is not None:
            yield _gauge(
                "wallet_redis_live_record_bytes",
                "Redis bytes per record kept in full (sampled).",
                found.live_record_bytes,
            )
        yield _gauge("wallet_aged_filter_bytes", "Redis bytes of the aged-id filter's bitmaps.", found.aged_bytes)
        yield _gauge("wallet_aged_filter_ids", "Transaction ids remembered by the aged-id filter.", found.aged_ids)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], float(value))
    return gauge


def exposition(services: Any) -> bytes:
    """The text exposition of every worker's metrics plus the snapshot and Redis gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    output = generate_latest(registry)
    scraped = CollectorRegistry()
    scraped.register(SnapshotCollector(services.store))
    scraped.register(RedisCollector(services))
    return output + generate_latest(scraped)
