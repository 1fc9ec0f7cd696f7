"""Redis access: connection, key layout and the registered Lua scripts (the only module that talks to Redis).

Key layout. Every key of a player carries the hash tag of the player's ledger shard, so one
script call touches one Redis Cluster slot and the player's ledger stream lives beside them:

    <prefix>:{s<N>}:player:<player>            hash: balance (minor units), currency, status
    <prefix>:{s<N>}:tx:<provider>:<player>     hash: transaction id -> record (lua/_shared.lua),
                                               for the retention; then the record leaves
    <prefix>:{s<N>}:aged                       string: the aged-id directory (wallet/core/aged.py)
    <prefix>:{s<N>}:aged:<generation>          bitmap: one generation of the aged-id filter
    <prefix>:aged:meta, <prefix>:aged:count    hashes: generation -> plan and times, ids written
    <prefix>:snapshot:lease                    string with a TTL: the snapshot worker draining now
    <prefix>:{s<N>}:session:<player>           string with a TTL: the open game session
    <prefix>:{s<N>}:tokens:<player>            sorted set with a TTL: its session tokens (newest kept)
    <prefix>:{s<N>}:limits:<player>            hash: its limits, exclusion and period counters (if any)
    <prefix>:{s<N>}:round:<provider>:<player>:<round>   set with a TTL: bet ids of a round
    <prefix>:{s<N>}:freespins:<player>         hash: free-spin grant id -> grant (JSON)
    <prefix>:cache:<name>, <prefix>:platform:<provider>:slots   catalogs, platform call slots
    <prefix>:{s<N>}:ledger                     stream: one entry per balance change

N = crc32(player id) mod SHARDS. SHARDS is part of the data layout: changing it moves players
to other shards, so it is a constant, not a setting.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from wallet.core import aged, journal
from wallet.errors import StoreFull, StoreUnavailable
from wallet.ops import guard

SHARDS = 64
#: The scripts ship inside the package (wallet/lua links to the top-level lua/), so a built wheel
#: has them wherever it is installed.
LUA_DIR = resources.files("wallet") / "lua"
SCRIPT_NAMES = tuple(
    sorted(p.name[:-4] for p in LUA_DIR.iterdir() if p.name.endswith(".lua") and not p.name.startswith("_"))
)
#: Scripts that may grow Redis: refused past the soft memory limit (MemoryGate), so that the
#: worker, whose own scripts declare allow-oom, always has room to drain, prune and rotate.
GROWING = frozenset({"betwin", "claim", "create_player", "credit", "debit", "limits", "rollback", "session"})


#: Scripts that read a player's account, and the claim (run the way money scripts are): their
#: reply starts with the account's unit (lua/_shared.lua; '' for none read), added by the wrapper
#: below so that no return site can forget it.
ACCOUNT_SCRIPTS = frozenset(
    {"balance", "betwin", "claim", "create_player", "credit", "debit", "limits", "rollback", "set_status"}
)
_UNIT_FIRST = "local function main()\n{}\nend\nlocal reply = main()\ntable.insert(reply, 1, UNIT)\nreturn reply\n"


def _read_scripts() -> dict[str, str]:
    """Each script's full source: its flags line first (``#!lua flags=allow-oom``), then
    lua/_shared.lua, then its body (wrapped to answer the unit first when it reads an account)."""
    shared = (LUA_DIR / "_shared.lua").read_text()
    sources = {}
    for name in SCRIPT_NAMES:
        body = (LUA_DIR / f"{name}.lua").read_text()
        flags, body = body.split("\n", 1) if body.startswith("#!") else ("", body)
        body = _UNIT_FIRST.format(body) if name in ACCOUNT_SCRIPTS else body
        sources[name] = (flags + "\n" if flags else "") + shared + body
    return sources


_SOURCES = _read_scripts()


def _sources_for(client: redis.Redis) -> dict[str, str]:
    """The scripts as ``client``'s server takes them: fakeredis runs a script's text as Lua, where
    a '#!' flags line is not valid, so it gets them without (it has no maxmemory to allow past)."""
    if not type(client).__module__.startswith("fakeredis"):
        return _SOURCES
    return {name: src.split("\n", 1)[1] if src.startswith("#!") else src for name, src in _SOURCES.items()}


@dataclass(frozen=True, slots=True)
class PlayerKeys:
    """The Redis keys of one player (all in one hash slot)."""

    prefix: str
    shard: int
    player: str

    @property
    def tag(self) -> str:
        return f"{self.prefix}:{{s{self.shard}}}"

    @property
    def account(self) -> str:
        return f"{self.tag}:player:{self.player}"

    @property
    def session(self) -> str:
        return f"{self.tag}:session:{self.player}"

    @property
    def limits(self) -> str:
        return f"{self.tag}:limits:{self.player}"

    @property
    def tokens(self) -> str:
        return f"{self.tag}:tokens:{self.player}"

    @property
    def ledger(self) -> str:
        return f"{self.tag}:ledger"

    def txs(self, provider: str) -> str:
        return f"{self.tag}:tx:{provider}:{self.player}"

    @property
    def free_spins(self) -> str:
        return f"{self.tag}:freespins:{self.player}"

    def round(self, provider: str, round_id: str) -> str:
        return f"{self.tag}:round:{provider}:{self.player}:{round_id}"


def shard_of(player: str) -> int:
    """The ledger shard of a player: stable across processes and versions."""
    return zlib.crc32(player.encode()) % SHARDS


def connect(url: str | None) -> redis.Redis:
    """A client for ``url``, or an in-process fakeredis server when ``url`` is None.

    A Redis Cluster is recognised from the server (INFO cluster) and gets a cluster client,
    which follows MOVED/ASK redirections; every script touches one slot, so nothing else changes.
    """
    if url is None:
        import fakeredis

        return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    options: dict[str, Any] = {"decode_responses": True, "socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    client = redis.Redis.from_url(
        url, retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), retries=1), health_check_interval=30, **options
    )
    if _is_cluster(client):
        client.close()
        cluster_retry = Retry(ExponentialBackoff(cap=0.1, base=0.01), retries=1)
        return RedisCluster.from_url(url, retry=cluster_retry, **options)  # type: ignore[return-value]
    return client


def close(client: redis.Redis) -> None:
    """Close a client and every socket it opened. A cluster client made from a URL gives its node
    clients pools they do not own, so redis-py's close() leaves those open: disconnect them here."""
    if isinstance(client, RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()
    client.close()


def _is_cluster(client: redis.Redis) -> bool:
    try:
        return bool(client.info("cluster").get("cluster_enabled"))
    except redis.RedisError:  # unreachable now: it is taken as a single Redis (healthz shows it)
        return False


#: Redis failures that mean "not now" (unreachable, stalled, cluster without a master for the
#: slot, loading): callbacks answer 503 and the provider retries or cancels.
UNAVAILABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterError,
    redis.exceptions.TryAgainError,
    redis.exceptions.RedisClusterException,
)


@contextmanager
def _unavailable() -> Iterator[None]:
    """Turn Redis connection failures, timeouts and cluster outages into StoreUnavailable, and a
    write refused at maxmemory into StoreFull (Redis refuses a script at its first write, so
    nothing was half-applied)."""
    try:
        yield
    except (*UNAVAILABLE, redis.ResponseError) as exc:
        raise _translated(exc) from exc


def _translated(exc: Exception) -> Exception:
    """The wallet's error for a Redis failure (the ResponseError itself when it is not about memory)."""
    if isinstance(exc, UNAVAILABLE):
        return StoreUnavailable(f"redis: {exc.__class__.__name__}")
    if isinstance(exc, redis.exceptions.OutOfMemoryError) or str(exc).startswith("OOM"):
        return StoreFull("redis: used memory is at maxmemory, writes are refused (nothing applied)")
    return exc


class Store:
    """The wallet's view of Redis: key names plus one method per script call."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "wallet",
        aged_horizon: timedelta = timedelta(days=30),
        soft_limit: float = guard.SOFT_LIMIT,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.horizon = aged_horizon.total_seconds()  # an aged id is recognised at least this long
        self.clock = time.time  # tests move it
        self._views: dict[int, tuple[str, list[str]]] = {}  # shard -> aged-id directory, script KEYS
        self._sources = _sources_for(client)
        self._shas = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in self._sources.items()}
        self._local = threading.local()
        self.gate = guard.MemoryGate(client, soft_limit)

    def keys(self, player: str) -> PlayerKeys:
        return PlayerKeys(self.prefix, shard_of(player), player)

    def ledger_key(self, shard: int) -> str:
        return f"{self.prefix}:{{s{shard}}}:ledger"

    def aged_view(self, shard: int) -> tuple[str, list[str]]:
        """The aged-id directory of a shard as this process knows it, and the KEYS a money script
        takes for it (the directory key, then its generations)."""
        view = self._views.get(shard)
        if view is None:
            view = self.learn(shard, "")
        return view

    def learn(self, shard: int, known: str) -> tuple[str, list[str]]:
        """Take ``known`` as the shard's aged-id directory (a script answered STALE with it)."""
        tag = f"{self.prefix}:{{s{shard}}}"
        view = known, [f"{tag}:aged", *(f"{tag}:aged:{g}" for g in aged.generation_ids(known))]
        self._views[shard] = view
        return view

    def generations(self) -> list[aged.Generation]:
        """The aged-id filter's live generations, newest first (the job's bookkeeping)."""
        with _unavailable():
            meta: dict[str, str] = self.client.hgetall(f"{self.prefix}:aged:meta")  # type: ignore[assignment]
            counts: dict[str, str] = self.client.hgetall(f"{self.prefix}:aged:count")  # type: ignore[assignment]
        found = []
        for gen, text in meta.items():
            bits, planned, created, closed = text.split(":")
            found.append(
                aged.Generation(int(gen), int(bits), int(planned), float(created), float(closed) if closed else None)
            )
            found[-1].count = int(counts.get(gen, 0))
        return sorted(found, key=lambda g: -g.id)

    def save_generations(self, live: list[aged.Generation], dropped: list[aged.Generation]) -> None:
        """Record the generations and publish the directory to every shard; then delete the
        dropped generations' bitmaps (a script holding the old directory is answered STALE)."""
        text = aged.directory(live)
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for g in live:
                closed = "" if g.closed is None else repr(g.closed)
                pipe.hset(f"{self.prefix}:aged:meta", str(g.id), f"{g.bits}:{g.planned}:{g.created!r}:{closed}")
            for shard in range(SHARDS):
                pipe.set(f"{self.prefix}:{{s{shard}}}:aged", text)
            pipe.execute()
            if dropped:
                pipe = self.client.pipeline(transaction=False)
                for g in dropped:
                    for shard in range(SHARDS):
                        pipe.delete(f"{self.prefix}:{{s{shard}}}:aged:{g.id}")
                pipe.hdel(f"{self.prefix}:aged:meta", *(str(g.id) for g in dropped))
                pipe.hdel(f"{self.prefix}:aged:count", *(str(g.id) for g in dropped))
                pipe.execute()

    def age(
        self, provider: str, player: str, items: Sequence[tuple[str, str, bool]], into: aged.Generation
    ) -> list[str]:
        """Move records (transaction id, state SQL holds, still within the aged-id horizon) out of
        the tx hash, and the ids within the horizon into the generation ``into`` of the aged-id
        filter (published in the directory before); returns the ids moved."""
        keys = [self.keys(player).txs(provider), f"{self.prefix}:{{s{shard_of(player)}}}:aged:{into.id}"]
        args: list[Any] = [into.bits]
        for tx, state, remembered in items:
            args += [tx, state, aged.probe(provider, player, tx) if remembered else ""]
        done = self.run("prune", keys, args)
        if done:
            with _unavailable():
                into.count = int(self.client.hincrby(f"{self.prefix}:aged:count", str(into.id), len(done)))
        return [str(tx) for tx in done]

    def headroom(self) -> int | None:
        """Bytes left below the soft memory limit on the fullest master (None: not readable)."""
        with _unavailable():
            return guard.headroom(self.client, self.gate.soft)

    def aged_footprint(self) -> tuple[int, int]:
        """(bytes of every aged-id bitmap, ids written into them)."""
        generations = self.generations()
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for shard in range(SHARDS):
                for g in generations:
                    pipe.strlen(f"{self.prefix}:{{s{shard}}}:aged:{g.id}")
            return sum(pipe.execute()), sum(g.count for g in generations)

    def run(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> list[Any]:
        """Call one script by its SHA1, sending its source once per node when the node lacks it.
        StoreFull without calling it when it may grow Redis and Redis is past the soft limit."""
        if script in GROWING and self.gate.closed():
            raise StoreFull(self.gate.why)
        try:
            client = self._thread_client()  # connects on first use: inside the translation
            try:
                return client.evalsha(self._shas[script], len(keys), *keys, *args)  # type: ignore[no-any-return]
            except redis.exceptions.NoScriptError:
                # First use on this node, or after SCRIPT FLUSH / a restart: EVAL runs it and caches
                # it on the node that owns the keys. (redis-py's Script would SCRIPT LOAD on every
                # node instead, which fails while one cluster master is down.)
                return client.eval(self._sources[script], len(keys), *keys, *args)  # type: ignore[no-any-return]
        except (*UNAVAILABLE, redis.ResponseError) as exc:
            raise _translated(exc) from exc

    def _thread_client(self) -> redis.Redis:
        """For script calls: a client holding one connection of the pool per thread (no pool
        checkout and return per call: bench/TUNING.md); the shared client on a cluster."""
        client: redis.Redis | None = getattr(self._local, "client", None)
        if client is None:
            pool = getattr(self.client, "connection_pool", None)
            plain = pool is not None and not isinstance(self.client, redis.RedisCluster)
            client = redis.Redis(connection_pool=pool, single_connection_client=True) if plain else self.client
            self._local.client = client
        return client

    def read_ledgers(self, after: dict[int, str], count: int) -> list[list[tuple[str, dict[str, str]]]]:
        """Per shard, up to ``count`` ledger entries after the id in ``after`` (default: from the start)."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for shard in range(SHARDS):
                pipe.xrange(self.ledger_key(shard), min=f"({after.get(shard, '0-0')}", count=count)
            shards = pipe.execute()
        return [[(entry_id, journal.expand(fields)) for entry_id, fields in entries] for entries in shards]

    def trim_ledgers(self, keep_from: dict[int, str]) -> None:
        """Delete each shard's entries before the id in ``keep_from``."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for shard, entry_id in keep_from.items():
                pipe.xtrim(self.ledger_key(shard), minid=entry_id, approximate=False)
            pipe.execute()

    @contextmanager
    def slot(self, name: str, limit: int, wait: float = 1.0, lifetime_ms: int = 30_000) -> Iterator[bool]:
        """Hold one of ``limit`` slots shared by every process for the block; yields False when none
        came free within ``wait`` seconds (the caller then reports itself busy)."""
        key, token = f"{self.prefix}:platform:{name}:slots", uuid.uuid4().hex
        deadline = time.monotonic() + wait
        while not (taken := self.run("slot", [key], ["take", token, time.time_ns() // 10**6, lifetime_ms, limit])):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        try:
            yield bool(taken)
        finally:
            if taken:
                self.run("slot", [key], ["give", token])

    def cache_get(self, name: str) -> str | None:
        with _unavailable():
            value = self.client.get(f"{self.prefix}:cache:{name}")
            return None if value is None else str(value)

    def cache_set(self, name: str, value: str, ttl: int) -> None:
        with _unavailable():
            self.client.set(f"{self.prefix}:cache:{name}", value, ex=ttl)

    def _auth_key(self, name: str) -> str:
        return f"{self.prefix}:{{auth}}:{name}"  # one slot: a failure counts against several at once

    def reserve_attempt(self, counters: list[tuple[str, int]], window: int) -> int | None:
        """Count one attempt against each (counter, limit), atomically (lua/throttle.lua); None
        when all are within their limits, else the seconds until the window ends."""
        keys = [self._auth_key(name) for name, _ in counters]
        allowed, wait = self.run("throttle", keys, ["reserve", window, *(limit for _, limit in counters)])
        return None if allowed else int(wait)

    def give_back_attempt(self, name: str) -> None:
        """Undo one reserved attempt of a counter (a right secret does not count against it); a
        counter that expired meanwhile is left absent, never re-created without its expiry."""
        self.run("throttle", [self._auth_key(name)], ["give"])

    def bootstrap_generation(self, end: bool = False) -> int:
        """The session generation of the operator key's back-office sign-ins (it has no user row);
        ``end``: move it on, ending every such session."""
        key = self._auth_key("bootstrap:gen")
        with _unavailable():
            return int(self.client.incr(key) if end else (self.client.get(key) or 0))

    def totp_once(self, user: str, step: int) -> bool:
        """True the first time a TOTP code of ``step`` (or a later one) is used by ``user``."""
        return bool(self.run("totp_step", [self._auth_key(f"totp:{user}")], [step, 300]))

    def clear_auth_failures(self, names: list[str]) -> None:
        with _unavailable():
            self.client.delete(*(self._auth_key(name) for name in names))

    def record_grant(self, player: str, grant: str, record: str) -> None:
        """Remember a free-spin grant with the player (hash wallet:{sN}:freespins:<player>)."""
        with _unavailable():
            self.client.hset(self.keys(player).free_spins, grant, record)

    def limits(self, player: str) -> dict[str, str]:
        """The player's limits hash as stored (lua/_shared.lua: Player protection); {} for none."""
        with _unavailable():
            return {str(k): str(v) for k, v in self.client.hgetall(self.keys(player).limits).items()}

    def grants(self, player: str) -> list[str]:
        with _unavailable():
            return [str(v) for v in self.client.hvals(self.keys(player).free_spins)]

    def oldest_undrained_ms(self) -> int | None:
        """Time (unix ms) of the oldest entry still in any ledger stream; None when all are drained."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for shard in range(SHARDS):
                pipe.xrange(self.ledger_key(shard), count=1)
            firsts = [entries[0][0] for entries in pipe.execute() if entries]
        return min(int(entry_id.split("-", 1)[0]) for entry_id in firsts) if firsts else None

    def lease(self, token: str, lifetime_ms: int) -> bool:
        """Take or renew the snapshot worker's lease; False while another worker holds it."""
        return bool(self.run("lease", [f"{self.prefix}:snapshot:lease"], ["take", token, lifetime_ms]))

    def release(self, token: str) -> None:
        self.run("lease", [f"{self.prefix}:snapshot:lease"], ["give", token])

    def snapshot_report(self) -> dict[str, Any] | None:
        """The snapshot job's last batch, as it recorded it (record_snapshot)."""
        with _unavailable():
            raw = self.client.get(f"{self.prefix}:snapshot:last")
        return None if raw is None else dict(json.loads(raw))

    def record_snapshot(self, entries: int, quarantined: int = 0) -> None:
        """Record the worker's last batch and how many entries wait in the quarantine; skipped
        while Redis is at maxmemory (the worker's own path must work then: this is only a report)."""
        report = json.dumps({"entries": entries, "at": time.time(), "quarantined": quarantined})
        with contextlib.suppress(StoreFull), _unavailable():
            self.client.set(f"{self.prefix}:snapshot:last", report)

    def has_keys(self) -> bool:
        """True when any key under this store's prefix exists."""
        with _unavailable():
            return next(self.client.scan_iter(match=f"{self.prefix}:*", count=1000), None) is not None

    def players(self) -> set[str]:
        """Every player with an account (a SCAN: for tools, never for callbacks)."""
        with _unavailable():
            keys = self.client.scan_iter(match=f"{self.prefix}:{{s*}}:player:*", count=1000)
            return {key.split(":player:", 1)[1] for key in keys}

    def write_accounts(self, rows: Sequence[tuple[str, int, str, str, int]]) -> None:
        """Restore accounts: (player, balance, currency, status, unit) each."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for player, balance, currency, status, unit in rows:
                fields = {"balance": balance, "currency": currency, "status": status, "unit": unit}
                pipe.hset(self.keys(player).account, mapping=fields)  # type: ignore[arg-type]
            pipe.execute()

    def write_limits(self, rows: Sequence[tuple[str, dict[str, str]]]) -> None:
        """Restore limits hashes: (player, fields) each (lua/_shared.lua: Player protection)."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for player, fields in rows:
                if fields:
                    pipe.hset(self.keys(player).limits, mapping=fields)  # type: ignore[arg-type]
            pipe.execute()

    def write_records(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Restore transaction records: (provider, player, transaction id, record) each."""
        with _unavailable():
            pipe = self.client.pipeline(transaction=False)
            for provider, player, tx, record in rows:
                pipe.hset(self.keys(player).txs(provider), tx, record)
            pipe.execute()

    def balances_and_undrained(self, players: Sequence[str], after: dict[int, str]) -> dict[str, tuple[int, int]]:
        """Per player: (Redis balance, sum of its ledger amounts after the shard's cursor), each shard
        read in one script call (lua/undrained.lua) so that a callback cannot fall between the reads."""
        by_shard: dict[int, list[str]] = {}
        for player in players:
            by_shard.setdefault(shard_of(player), []).append(player)
        found: dict[str, tuple[int, int]] = {}
        for shard, members in by_shard.items():
            keys = [self.ledger_key(shard), *(self.keys(p).account for p in members)]
            reply = self.run("undrained", keys, [after.get(shard, "0-0"), *members])
            for player, balance, undrained in zip(members, reply[0::2], reply[1::2], strict=True):
                if balance is not None:
                    found[player] = (int(balance), int(undrained))
        return found

    def live_record_bytes(self, sample: int = 20) -> float | None:
        """Redis bytes per transaction record kept in full, from MEMORY USAGE of up to ``sample``
        tx hashes; None when there are none or MEMORY is not allowed."""
        total = records = 0
        with _unavailable():
            try:
                for key in self.client.scan_iter(match=f"{self.prefix}:{{s*}}:tx:*", count=1000):
                    total += int(self.client.memory_usage(key) or 0)
                    records += int(self.client.hlen(key))
                    sample -= 1
                    if sample == 0:
                        break
            except redis.ResponseError:
                return None
        return total / records if records else None

    def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(self.client.ping())
        except UNAVAILABLE:
            return False
