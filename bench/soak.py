"""The soak: sustained play on a Redis capped with --maxmemory, records moving out after a short
retention, the snapshot worker running; prints Redis memory over time and the bytes per live and
aged transaction, then the sizing table docs/benchmarks.md quotes (and writes it to bench/SOAK.md).

    gunicorn app:app  <-- wallet simulate --play (GitSlotPark, retries, duplicates, rollbacks)
         |                                  money conservation is checked at the end
    redis-server --maxmemory SOAK_MAXMEMORY --maxmemory-policy noeviction
         |
    wallet snapshot --every 1  --> SQLite in a temporary folder (or SOAK_DATABASE_URL)

Then a burst: SOAK_BURST_SECONDS more at SOAK_BURST_RATE rounds per second (600+ callbacks/s),
Redis memory read every second. The rule it shows (docs: Redis memory): money writes stop at the
soft limit (WALLET_REDIS_SOFT_LIMIT, 80 %) and a new aged-id generation takes at most a quarter of
the room left below it, so Redis never passes 90 % of maxmemory, whatever the burst.

Run: `make soak`. Settings: SOAK_SECONDS (default 300), SOAK_RATE (rounds per second, 120),
SOAK_RETENTION (WALLET_RETENTION, 20s), SOAK_AGED_HORIZON (WALLET_AGED_HORIZON, 6m: generations
of 2 minutes, so they fill, rotate and are dropped within the run), SOAK_MAXMEMORY (24mb, the
smallest PaaS plans), SOAK_BURST_SECONDS (120), SOAK_BURST_RATE (300), SOAK_RESULTS (bench/SOAK.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import requests
from run import free_port, redis_command

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECONDS = float(os.environ.get("SOAK_SECONDS", "300"))
RATE = float(os.environ.get("SOAK_RATE", "120"))
RETENTION = os.environ.get("SOAK_RETENTION", "20s")
MAXMEMORY = os.environ.get("SOAK_MAXMEMORY", "24mb")
BURST_SECONDS = float(os.environ.get("SOAK_BURST_SECONDS", "120"))
BURST_RATE = float(os.environ.get("SOAK_BURST_RATE", "300"))
CEILING = 0.9  # of maxmemory: what the burst must never pass
RESULTS = Path(os.environ.get("SOAK_RESULTS", ROOT / "bench" / "SOAK.md"))
#: A short aged-id horizon (generations of 2 minutes) so that generations fill, rotate and drop.
HORIZON = os.environ.get("SOAK_AGED_HORIZON", "6m")
KEY, AGENT, SECRET, PREFIX = "soak-operator-key-0123", "soak-agent", "soak-secret", "wallet"
#: Sizing table rows: callbacks per day (all money-moving: the worst case); columns: retention
#: and aged-id horizon (seconds, days).
DAILY = (100_000, 1_200_000, 10_000_000)
COLUMNS = (("1h", 3600, 30), ("24h", 86400, 30), ("48h", 172800, 30), ("24h", 86400, 7))
STEADY_SECONDS = 180.0  # shorter runs (the test suite's) report the figures without judging them
PLANNED_AGED = 14 / 8 * 1.5  # bytes per aged id at the planned fill, with the sizing slack


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def sample(client: redis.Redis) -> dict[str, float]:
    """Redis memory now, with the records kept in full and the ids in the aged-id filter."""
    used = int(client.info("memory")["used_memory"])
    records = record_bytes = 0
    for key in client.scan_iter(match=f"{PREFIX}:{{s*}}:tx:*", count=1000):
        records += int(client.hlen(key))
        record_bytes += int(client.memory_usage(key) or 0)
    counts = client.hgetall(f"{PREFIX}:aged:count")
    aged_ids = sum(int(n) for n in counts.values())
    aged_bytes = sum(int(client.strlen(key)) for key in client.scan_iter(match=f"{PREFIX}:{{s*}}:aged:*", count=1000))
    streams = sum(int(client.xlen(f"{PREFIX}:{{s{s}}}:ledger")) for s in range(64))
    return {
        "used": used,
        "records": records,
        "per_live": record_bytes / records if records else 0.0,
        "aged": aged_ids,
        "per_aged": aged_bytes / aged_ids if aged_ids else 0.0,
        "aged_bytes": aged_bytes,
        "stream": streams,
    }


def row(f: dict[str, float]) -> str:
    return (
        f"{f['used'] / 2**20:8.2f} {f['records']:8.0f} {f['per_live']:7.1f} "
        f"{f['aged']:9.0f} {f['per_aged']:7.2f} {f['stream']:7.0f}"
    )


def per_record_by_encoding(redis_url: str) -> dict[int, float]:
    """Bytes per record with 20-character ids in one player's hash of 50 records (listpack) and of
    500 (past hash-max-listpack-entries: a hashtable), written through the wallet itself."""
    sys.path.insert(0, str(ROOT))
    from wallet.core.store import Store, close, connect
    from wallet.core.wallet import Move, Wallet

    client = connect(redis_url)
    store, found = Store(client, "encoding"), {}
    wallet = Wallet(store)
    for count in (50, 500):
        player = f"enc-{count}"
        wallet.create_player(player, "EUR")
        for i in range(count):
            wallet.credit(Move("gitslotpark", player, f"{player}-{i:016d}"[-20:], win=1234, round=f"round-{i:014d}"))
        key = store.keys(player).txs("gitslotpark")
        found[count] = int(client.memory_usage(key) or 0) / int(client.hlen(key))
    for key in client.scan_iter(match="encoding:*"):
        client.delete(key)
    close(client)
    return found


def callbacks(url: str) -> dict[str, float]:
    """Callback and aged-lookup counters from /metrics."""
    text = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEY}"}, timeout=5).text
    totals: dict[str, float] = {"callbacks": 0.0, "false_positive": 0.0, "full": 0.0}
    for line in text.splitlines():
        if line.startswith("wallet_callbacks_total{"):
            totals["callbacks"] += float(line.rsplit(" ", 1)[1])
        if line.startswith("wallet_redis_full_total{"):
            totals["full"] += float(line.rsplit(" ", 1)[1])
        if line.startswith('wallet_aged_lookups_total{result="false_positive"}'):
            totals["false_positive"] += float(line.rsplit(" ", 1)[1])
    return totals


#: Records a money callback leaves: its transaction's, and its signature's claim (wallet/core/signs.py).
RECORDS_PER_CALLBACK = 2


def table(base_mb: float, per_live: float, per_aged: float) -> str:
    """Steady-state Redis MB: base + records kept (retention + one prune pass) + the aged-id filter
    (4/3 of the horizon, the most it holds), RECORDS_PER_CALLBACK records and aged ids a callback."""
    head = "| callbacks per day | " + " | ".join(f"retention {r}, horizon {h}d" for r, _, h in COLUMNS) + " |"
    rows = [head, "|---:|" + "---:|" * len(COLUMNS)]
    for daily in DAILY:
        ids = daily * RECORDS_PER_CALLBACK
        cells = [
            base_mb + (ids * (seconds + 60) / 86400 * per_live + ids * days * 4 / 3 * per_aged) / 2**20
            for _, seconds, days in COLUMNS
        ]
        rows.append(f"| {daily:,} | " + " | ".join(f"{mb:,.0f} MB" for mb in cells) + " |")
    return "\n".join(rows)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="wallet-soak-"))
    redis_port, web_port = free_port(), free_port()
    server = start(
        redis_command(redis_port, folder, "--maxmemory", MAXMEMORY, "--maxmemory-policy", "noeviction"),
        dict(os.environ),
        folder / "redis.log",
    )
    url = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATABASE_URL": os.environ.get("SOAK_DATABASE_URL", f"sqlite:///{folder / 'wallet.db'}"),
        "WALLET_FILE_DATABASE": "1",  # the soak's own ledger, in its temporary folder
        "OPERATOR_API_KEY": KEY,
        "GITSLOTPARK_AGENT_ID": AGENT,
        "GITSLOTPARK_SECRET_KEY": SECRET,
        "WALLET_RETENTION": RETENTION,
        "WALLET_AGED_HORIZON": HORIZON,
        "PORT": str(web_port),
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
        "LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    client = redis.Redis(port=redis_port, decode_responses=True)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    subprocess.run([str(BIN / "wallet"), "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    base = int(client.info("memory")["used_memory"])
    web = start([str(BIN / "gunicorn"), "app:app"], env, folder / "web.log")
    worker = start([str(BIN / "wallet"), "snapshot", "--every", "1"], env, folder / "worker.log")
    try:
        for _ in range(200):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        play = simulate(url, env, folder / "play.log", "soak-player-0000", RATE, SECONDS)
        print(f"soak: {SECONDS:.0f} s at {RATE:.0f} rounds/s, WALLET_RETENTION={RETENTION}, maxmemory {MAXMEMORY}")
        print(f"{'t (s)':>6} {'used MB':>8} {'records':>8} {'B/live':>7} {'aged ids':>9} {'B/aged':>7} {'stream':>7}")
        started, rows = time.monotonic(), []
        while play.poll() is None:
            time.sleep(10)
            figures = sample(client)
            rows.append(figures)
            print(f"{time.monotonic() - started:6.0f} " + row(figures), flush=True)
        counters = callbacks(url)
        burst = run_burst(url, env, folder, client, counters)
        encodings = per_record_by_encoding(env["REDIS_URL"])
    finally:
        for proc in (web, worker, server):
            proc.terminate()
            proc.wait(15)
    play_out = (folder / "play.log").read_text().strip().splitlines()
    print("\n".join(line for line in play_out if not line.startswith("playing")))
    if play.returncode != 0 or not rows or burst["exit"] != 0:
        print(f"soak FAILED (simulator exit {play.returncode}, burst {burst['exit']}); logs in {folder}")
        return 1
    return report(rows, base, counters, play_out, encodings, burst)


def simulate(url: str, env: dict[str, str], log: Path, first: str, rate: float, seconds: float) -> Any:
    """`wallet simulate --play` on 200 players (ids of 20 characters and more, as the issue measures)."""
    options = ["--url", url, "--api-key", KEY, "--agent-id", AGENT, "--secret", SECRET, "--players", "200"]
    pace = ["--player", first, "--rate", str(rate), "--seconds", str(seconds), "--threads", "16"]
    return start([str(BIN / "wallet"), "simulate", "--play", *options, *pace], env, log)


def run_burst(url: str, env: dict[str, str], folder: Path, client: redis.Redis, before: dict[str, float]) -> dict:
    """The burst phase: play at BURST_RATE, reading Redis memory every second; its figures."""
    found: dict[str, float] = {"exit": 0, "peak": 0.0, "seconds": 0.0, "callbacks": 0.0, "full": 0.0}
    if BURST_SECONDS <= 0:
        return found
    maxmemory = int(client.config_get("maxmemory")["maxmemory"])
    burst = simulate(url, env, folder / "burst.log", "soak-burst-00000", BURST_RATE, BURST_SECONDS)
    started = time.monotonic()
    print(f"burst: {BURST_SECONDS:.0f} s at {BURST_RATE:.0f} rounds/s; used memory every second (MB):")
    while burst.poll() is None:
        time.sleep(1)
        used = int(client.info("memory")["used_memory"])
        found["peak"] = max(found["peak"], used / maxmemory)
        print(f"{used / 2**20:.1f}", end=" ", flush=True)
    found["seconds"] = time.monotonic() - started
    after = callbacks(url)
    found.update(exit=float(burst.returncode), callbacks=after["callbacks"] - before["callbacks"])
    found["full"] = after["full"] - before["full"]
    found["peak"] = max(found["peak"], int(client.info("memory")["used_memory_peak"]) / maxmemory)
    print(f"\nburst: peak {found['peak']:.1%} of maxmemory (the run's used_memory_peak included)")
    return found


def report(
    rows: list[dict[str, float]],
    base: int,
    counters: dict[str, float],
    play_out: list[str],
    encodings: dict[int, float],
    burst: dict[str, float],
) -> int:
    last = rows[-1]
    steady = rows[len(rows) // 2 :]
    per_live = max(max(r["per_live"] for r in steady), *encodings.values())
    per_aged = max(r["per_aged"] for r in steady if r["aged"]) if any(r["aged"] for r in steady) else 0.0
    fp = counters["false_positive"] / counters["callbacks"] if counters["callbacks"] else 0.0
    sizing = table(base / 2**20, per_live, max(per_aged, PLANNED_AGED))
    lines = [
        "# Soak results",
        "",
        f"`make soak`: {SECONDS:.0f} s of `wallet simulate --play` at {RATE:.0f} rounds/s on 200 players, "
        f"WALLET_RETENTION={RETENTION}, the snapshot worker running, Redis capped at {MAXMEMORY} (noeviction).",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| callbacks answered | {counters['callbacks']:,.0f} |",
        f"| Redis used memory at the end | {last['used'] / 2**20:.1f} MB (empty wallet: {base / 2**20:.1f} MB) |",
        f"| records kept in full at the end | {last['records']:,.0f} |",
        f"| bytes per live record (second half, worst sample) | {max(r['per_live'] for r in steady):.1f} |",
        f"| bytes per record, 20-character ids, 50 in a hash (listpack) | {encodings[50]:.1f} |",
        f"| bytes per record, 20-character ids, 500 in a hash (hashtable) | {encodings[500]:.1f} |",
        f"| ids in the aged-id filter at the end | {last['aged']:,.0f} |",
        f"| bytes per aged id (second half, worst sample) | {per_aged:.2f} |",
        f"| aged-id false positives per callback | {fp:.4f} |",
        f"| ledger entries waiting in the streams at the end | {last['stream']:,.0f} |",
        "",
        "Simulator: " + " / ".join(play_out[-2:]),
        "",
        "Steady-state Redis (WALLET_RETENTION, WALLET_AGED_HORIZON), every callback money-moving "
        f"(the worst case), from the figures above ({per_live:.0f} B per live record, "
        f"{max(per_aged, PLANNED_AGED):.2f} B per aged id: the measured figure or 14 bits x 1.5 sizing slack, "
        "whichever is larger; the filter holds at most 4/3 of the horizon; two records and two aged ids "
        "a callback: its transaction's and its signature's claim):",
        "",
        sizing,
        "",
    ]
    bounded = burst["peak"] <= CEILING
    if BURST_SECONDS > 0:
        rate = burst["callbacks"] / burst["seconds"] if burst["seconds"] else 0.0
        lines += [
            f"Burst: {burst['seconds']:.0f} s at {BURST_RATE:.0f} rounds/s, {rate:,.0f} callbacks/s answered, "
            f"{burst['full']:,.0f} answered 503 store_full (the soft limit; the simulator retries them). "
            f"Peak Redis memory {burst['peak']:.1%} of maxmemory ({MAXMEMORY}; used_memory_peak of the whole "
            f"run): {'at most' if bounded else 'PAST'} {CEILING:.0%}.",
            "",
        ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    budget = per_live <= 120 and per_aged <= 4
    verdict = "met" if budget else "NOT met"
    if SECONDS < STEADY_SECONDS:
        verdict += f" (not judged: a steady state needs SOAK_SECONDS >= {STEADY_SECONDS:.0f})"
    print(f"budget (<= 120 B per live record, <= 4 B per aged id): {verdict}")
    print(f"bounded (Redis never past {CEILING:.0%} of maxmemory): {'met' if bounded else 'NOT met'}")
    return 0 if (budget or SECONDS < STEADY_SECONDS) and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
