"""Injected faults on real processes (redis-server, gunicorn): Redis killed and restarted with AOF,
Redis stalled or unreachable, web workers SIGKILLed under load, a cluster master lost. Every test
ends with the reconciliation passing; none applies a transaction twice or loses one acknowledged."""

from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import AGENT, Operator, Provider, fresh_sqlite, gsp_sign, make_env
from tests.servers import BIN, SERVER, RedisProcess, free_cluster_port, gunicorn_env, plain, running
from wallet import create_app
from wallet.core import signs
from wallet.core.store import close, connect, shard_of
from wallet.errors import ConfigError
from wallet.ledger import recovery
from wallet.sim import play
from wallet.sim.providers import GitSlotPark

ROOT = Path(__file__).resolve().parent.parent
if SERVER is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed here (CI has it and never skips these)", allow_module_level=True)

pytestmark = pytest.mark.once  # starts servers of its own: the first pass only (conftest)


def _role(node: RedisProcess) -> dict[str, object]:
    client = redis.Redis(port=node.port)
    try:
        return dict(client.info("replication"))
    finally:
        client.close()


def _replicated(master: RedisProcess, nodes: list[RedisProcess]) -> None:
    """Wait until the master's replica holds every write the master has: replication is
    asynchronous, so only replicated writes can survive a failover (README: the loss window)."""
    target = int(str(_role(master)["master_repl_offset"]))
    for _ in range(100):
        replicas = [r for r in map(_role, nodes) if r.get("master_port") == master.port]
        if replicas and all(int(str(r["slave_repl_offset"])) >= target for r in replicas):
            return
        time.sleep(0.05)
    raise AssertionError(f"the replica of {master.port} did not catch up")


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis", "--appendonly", "yes", "--appendfsync", "always").start()
    yield server
    server.kill()


_APPS: list[object] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close the Redis and SQL clients of the apps a test made (their servers may be dead)."""
    yield
    while _APPS:
        services = _APPS.pop().extensions["wallet"]  # type: ignore[attr-defined]
        close(services.store.client)
        services.db.dispose()
    # redis-py's cluster client drops (without closing) the node clients of a topology it replaced
    # after a failover; collect them here, quietly, rather than in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _wallet(url: str, prefix: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = create_app(make_env(prefix, fresh_sqlite(tmp_path), REDIS_URL=url))
    _APPS.append(app)
    from wallet.ledger import db

    db.migrate(app.extensions["wallet"].db)
    return app


def _reconciles(app) -> None:  # type: ignore[no-untyped-def]
    services = app.extensions["wallet"]
    players, mismatches = recovery.check(services.store, services.db)
    assert players > 0 and mismatches == []


def test_redis_killed_and_restarted_with_aof_always(aof_redis: RedisProcess, prefix: str, tmp_path: Path) -> None:
    """With appendfsync always, every acknowledged transaction survives a SIGKILL of Redis; replays
    after the restart are duplicates with their first reference."""
    app = _wallet(aof_redis.url, prefix, tmp_path)
    Operator(app.test_client()).create("p1", balance="100.00")
    gsp = Provider(app.test_client())
    refs = [gsp.withdraw("p1", "1.00", f"t{i}")["transactionID"] for i in range(40)]
    aof_redis.kill()
    assert app.test_client().get("/healthz").status_code == 503
    aof_redis.start()
    assert gsp.balance("p1")["balance"] == 60.00
    assert [gsp.withdraw("p1", "1.00", f"t{i}")["transactionID"] for i in range(40)] == refs
    assert gsp.balance("p1")["balance"] == 60.00
    _reconciles(app)


def test_redis_stalled_then_back(aof_redis: RedisProcess, prefix: str, tmp_path: Path) -> None:
    """A stalled Redis (SIGSTOP) gets callbacks a 503 well under the providers' 3 s; once it resumes,
    the retried bet is applied exactly once."""
    app = _wallet(aof_redis.url, prefix, tmp_path)
    Operator(app.test_client()).create("p1", balance="10.00")
    gsp = Provider(app.test_client())
    body = {"agentID": "Partner01", "userID": "p1", "amount": "1.00", "transactionID": "t1", "roundID": "r1"}
    from tests.conftest import gsp_sign

    body["sign"] = gsp_sign("Withdraw", body)
    aof_redis.signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = app.test_client().post("/gitslotpark/Withdraw", json=body)
        elapsed = time.monotonic() - started
    finally:
        aof_redis.signal(signal.SIGCONT)
    assert response.status_code == 503 and elapsed < 2.0, elapsed
    assert gsp.withdraw("p1", "1.00", "t1")["balance"] == 9.00  # the provider's retry; maybe a duplicate
    assert gsp.balance("p1")["balance"] == 9.00
    _reconciles(app)


def test_redis_unreachable_then_back(aof_redis: RedisProcess, prefix: str, tmp_path: Path) -> None:
    """With Redis down, callbacks answer 503 at once; when it is back they are served again."""
    app = _wallet(aof_redis.url, prefix, tmp_path)
    Operator(app.test_client()).create("p1", balance="10.00")
    gsp = Provider(app.test_client())
    aof_redis.kill()
    started = time.monotonic()
    assert app.test_client().post("/gitslotpark/GetBalance", json={}).status_code == 200  # bad input: no Redis
    from tests.conftest import AGENT, gsp_sign

    signed = {"agentID": AGENT, "userID": "p1", "sign": gsp_sign("GetBalance", {"agentID": AGENT, "userID": "p1"})}
    assert app.test_client().post("/gitslotpark/GetBalance", json=signed).status_code == 503
    assert time.monotonic() - started < 2.0
    aof_redis.start()
    assert gsp.withdraw("p1", "2.00", "t1")["balance"] == 8.00
    _reconciles(app)


def test_web_workers_sigkilled_under_load(aof_redis: RedisProcess, prefix: str, tmp_path: Path) -> None:
    """Play with retries while gunicorn workers are SIGKILLed: money is conserved for every player
    (nothing applied twice, nothing acknowledged lost) and the reconciliation passes."""
    port = free_cluster_port()
    env = gunicorn_env(
        port,
        REDIS_URL=aof_redis.url,
        OPERATOR_API_KEY="k" * 20,
        WALLET_KEY_PREFIX=prefix,
        GITSLOTPARK_AGENT_ID="A",
        GITSLOTPARK_SECRET_KEY="S",
        DATABASE_URL=fresh_sqlite(tmp_path),
        WEB_CONCURRENCY="3",
    )
    with running([str(BIN / "gunicorn"), "app:app"], env, port) as (base, master):
        app = _wallet(aof_redis.url, prefix, tmp_path)
        operator = Operator(app.test_client())
        players = [f"k{i}" for i in range(6)]
        for player in players:
            operator.create(player, balance="500.00")
        provider = GitSlotPark(base, "A", "S")
        stop = threading.Event()
        killer = threading.Thread(target=_kill_workers, args=(master.pid, stop), daemon=True)
        killer.start()
        tally = play.play(provider, players, rate=60, seconds=4, threads=6, rates=play.Rates(0.1, 0.1, 0.1), run="k")
        stop.set()
        killer.join()
        for player in players:
            expected = 50_000 + tally.applied[player]
            assert play.retrying(lambda p=player: provider.balance(p)).balance == expected, player
        assert not tally.errors
        _reconciles(app)
        provider.http.close()


def _kill_workers(master: int, stop: threading.Event) -> None:
    """SIGKILL a random gunicorn worker every 0.5 s (the master starts a new one)."""
    while not stop.wait(0.5):
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        if pids:
            os.kill(random.choice(pids), signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[RedisProcess]]:
    """3 masters and 3 replicas on loopback, failing over after 1 s."""
    options = (
        "--cluster-enabled",
        "yes",
        "--cluster-node-timeout",
        "1000",
        "--appendonly",
        "no",
        "--cluster-require-full-coverage",
        "no",  # serve the other masters' slots during a failover
        "--repl-diskless-sync-delay",
        "0",
    )
    nodes = [RedisProcess(tmp_path / f"n{i}", *options).start() for i in range(6)]
    addresses = [f"127.0.0.1:{n.port}" for n in nodes]
    subprocess.run(
        ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
        check=True,
        capture_output=True,
    )
    for _ in range(100):  # until every node agrees the cluster is up (one alone may still say fail)
        infos = [
            subprocess.run(["redis-cli", "-p", str(n.port), "cluster", "info"], capture_output=True) for n in nodes
        ]
        if all(b"cluster_state:ok" in info.stdout for info in infos):
            break
        time.sleep(0.1)
    for _ in range(100):  # until every replica has synced (a replica without data cannot take over)
        roles = [_role(n) for n in nodes]
        replicas = [r for r in roles if r["role"] == "slave"]
        if len(replicas) == 3 and all(r.get("master_link_status") == "up" for r in replicas):
            break
        time.sleep(0.1)
    yield nodes
    for node in nodes:
        if node.proc and node.proc.poll() is None:
            node.kill()


def test_cluster_master_lost(cluster: list[RedisProcess], prefix: str, tmp_path: Path) -> None:
    """Killing a master: its players get 503 until a replica takes over, everyone else is served
    throughout (but for money callbacks whose sign's registry bucket that master held: 503, and
    applied when retried), and the service recovers by itself with every balance intact."""
    app = _wallet(cluster[0].url, prefix, tmp_path)
    operator, gsp = Operator(app.test_client()), Provider(app.test_client())
    players = [f"c{i}" for i in range(40)]
    for player in players:
        operator.create(player, balance="10.00")
    client = connect(cluster[0].url)
    victim_port = int(client.get_node_from_key(app.extensions["wallet"].store.keys("c0").account).port)
    victim = next(n for n in cluster if n.port == victim_port)
    on_victim = [p for p in players if _port_of(client, app, p) == victim_port]
    elsewhere = [p for p in players if p not in on_victim]
    _replicated(victim, cluster)
    victim.kill()
    assert app.test_client().post("/gitslotpark/GetBalance", json=_signed(on_victim[0])).status_code == 503
    served, refused = _split_by_claim(app, client, elsewhere[0], victim_port)
    assert gsp.withdraw(elsewhere[0], "1.00", served)["balance"] == 9.00
    # a bet whose sign's registry bucket (wallet/core/signs.py) the dead master held: 503, nothing moves
    body = {"agentID": AGENT, "userID": elsewhere[0], "amount": "1.00", "transactionID": refused, "roundID": "r1"}
    body["sign"] = gsp_sign("Withdraw", body)
    assert app.test_client().post("/gitslotpark/Withdraw", json=body).status_code == 503
    for _ in range(150):  # failover: cluster-node-timeout 1 s plus the election
        if app.test_client().post("/gitslotpark/GetBalance", json=_signed(on_victim[0])).status_code == 200:
            break
        time.sleep(0.1)
    close(client)
    assert gsp.withdraw(on_victim[0], "1.00", "t1")["balance"] == 9.00
    assert gsp.withdraw(elsewhere[0], "1.00", refused)["balance"] == 8.00  # its retry, after the failover
    assert {gsp.balance(p)["balance"] for p in players if p not in (on_victim[0], elsewhere[0])} == {10.00}
    _reconciles(app)


def _split_by_claim(app, client, player: str, port: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Two bet ids of ``player``: one whose sign's registry bucket is on another master than
    ``port``, one whose bucket is on that master."""
    store, found = app.extensions["wallet"].store, {}
    for i in range(200):
        body = {"agentID": AGENT, "userID": player, "amount": "1.00", "transactionID": f"t{i}", "roundID": "r1"}
        bucket, _ = signs.claim_id(gsp_sign("Withdraw", body))
        key = store.keys(bucket).txs(signs.registry("gitslotpark"))
        found.setdefault(int(client.get_node_from_key(key).port) == port, f"t{i}")
    return found[False], found[True]


def _port_of(client, app, player: str) -> int:  # type: ignore[no-untyped-def]
    return int(client.get_node_from_key(app.extensions["wallet"].store.keys(player).account).port)


def _signed(player: str) -> dict[str, str]:
    body = {"agentID": AGENT, "userID": player}
    return {**body, "sign": gsp_sign("GetBalance", body)}


def test_eviction_policy_read_on_every_master(cluster: list[RedisProcess], prefix: str, tmp_path: Path) -> None:
    """One master of three on allkeys-lru is enough for the wallet to refuse to start, naming it."""
    masters = [n for n in cluster if _role(n)["role"] == "master"]
    plain(masters[-1].port, "config", "set", "maxmemory-policy", "allkeys-lru")
    with pytest.raises(ConfigError, match=r"^maxmemory-policy: .*allkeys-lru"):
        _wallet(cluster[0].url, prefix, tmp_path)
    plain(masters[-1].port, "config", "set", "maxmemory-policy", "noeviction")
    assert _wallet(cluster[0].url, prefix, tmp_path).test_client().get("/healthz").status_code == 200


def test_shards_spread_over_the_cluster(cluster: list[RedisProcess]) -> None:
    """The 64 ledger shards land on every master, so the journal load is spread."""
    client = connect(cluster[0].url)
    ports = {int(client.get_node_from_key(f"wallet:{{s{shard}}}:ledger").port) for shard in range(64)}
    close(client)
    assert len(ports) == 3
    assert shard_of("c0") in range(64)


def test_resharding_while_playing(cluster: list[RedisProcess], prefix: str, tmp_path: Path) -> None:
    """A player's slot migrates to another master key by key while bets arrive: a bet caught while the
    player's keys are split answers 503 (TRYAGAIN), ASK/MOVED are followed, every retried bet is
    applied exactly once and the money reconciles."""
    app = _wallet(cluster[0].url, prefix, tmp_path)
    operator, gsp = Operator(app.test_client()), Provider(app.test_client())
    operator.create("mover", balance="100.00")
    store = app.extensions["wallet"].store
    slot = int(
        subprocess.run(
            ["redis-cli", "-p", str(cluster[0].port), "cluster", "keyslot", store.keys("mover").account],
            capture_output=True,
            text=True,
        ).stdout
    )
    source, target = _owner_and_other(cluster, slot)
    node_id = lambda node: _cli(node, "cluster", "myid").strip()  # noqa: E731
    _cli(target, "cluster", "setslot", str(slot), "importing", node_id(source))
    _cli(source, "cluster", "setslot", str(slot), "migrating", node_id(target))
    keys = _cli(source, "cluster", "getkeysinslot", str(slot), "100").split()
    during = []
    for n, key in enumerate(keys):
        _cli(source, "migrate", "127.0.0.1", str(target.port), key, "0", "5000")
        during.append(_withdraw(gsp, n).code)  # OK, or 503 (TRYAGAIN) while the keys are split
    for node in cluster:
        if _role(node)["role"] == "master":
            _cli(node, "cluster", "setslot", str(slot), "node", node_id(target))
    assert set(during) <= {"OK", "HTTP 503"}
    bets = len(keys) + 3
    for n in range(bets):  # the providers' retries (and new bets) after the move
        assert _withdraw(gsp, n).code == "OK"
    assert gsp.balance("mover")["balance"] == 100.00 - bets  # each bet applied exactly once
    assert int(_cli(source, "cluster", "countkeysinslot", str(slot))) == 0  # all moved
    _reconciles(app)


def _withdraw(gsp: Provider, n: int):  # type: ignore[no-untyped-def]
    """One bet as a simulator Answer (HTTP 503 becomes code 'HTTP 503', retried by play.retrying)."""
    from wallet.sim.providers import Answer

    response = gsp.client.post("/gitslotpark/Withdraw", json=_signed_withdraw("mover", n))
    payload = response.get_json()
    code = "OK" if response.status_code == 200 and payload.get("result") == 0 else f"HTTP {response.status_code}"
    return Answer(code, None, 0.0, payload)


def _signed_withdraw(player: str, n: int) -> dict[str, str]:
    from tests.conftest import AGENT, gsp_sign

    body = {"agentID": AGENT, "userID": player, "amount": "1.00", "transactionID": f"m{n}", "roundID": "r"}
    return {**body, "sign": gsp_sign("Withdraw", body)}


def _cli(node: RedisProcess, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(node.port), *args], capture_output=True, text=True, check=True).stdout


def _owner_and_other(cluster: list[RedisProcess], slot: int) -> tuple[RedisProcess, RedisProcess]:
    masters = [n for n in cluster if _role(n)["role"] == "master"]
    owner = next(n for n in masters if int(_cli(n, "cluster", "countkeysinslot", str(slot))) > 0)
    return owner, next(n for n in masters if n is not owner)
