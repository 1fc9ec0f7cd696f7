"""Redis (and PostgreSQL) one network hop away: `make bench`'s comparison where a PaaS puts them.

A PaaS Redis is another machine: every script call waits a round trip. This starts a private
redis-server behind bench/delayproxy.c (BENCH_REMOTE_DELAY_US each way, default 500: ~1 ms of
added round trip, a managed Redis in the same region), and puts the PostgreSQL row-lock wallet's
database behind a second proxy with the same delay, so every store is as far away. Then it
measures, exactly as bench/run.py does (one run, targets alternated, CPU per process), the floor
(b), the mix (d) and the PostgreSQL wallet (e) under every worker model of run.MODELS, and the
refusal-heavy mix (h) at the wallet's defaults; and states issue 24's ratios: the wallet at its
defaults against each baseline at its best.
Writes bench/REMOTE.md, which bench/run.py puts into bench/RESULTS.md. Run: `make bench-remote`.
Settings: BENCH_SECONDS (per measurement, default 6), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS,
BENCH_REMOTE_DELAY_US, BENCH_DATABASE_URL; needs a C compiler (cc) for the proxy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("BENCH_SECONDS", "6")
os.environ.setdefault("BENCH_ROUNDS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run

DELAY_US = int(os.environ.get("BENCH_REMOTE_DELAY_US", "500"))
OUT = Path(os.environ.get("BENCH_REMOTE_RESULTS", run.ROOT / "bench" / "REMOTE.md"))


def proxy(folder: Path, listen: int, upstream: int) -> subprocess.Popen[bytes]:
    binary = folder / "delayproxy"
    if not binary.exists():
        source = run.ROOT / "bench" / "delayproxy.c"
        subprocess.run(["cc", "-O2", "-pthread", "-o", str(binary), str(source)], check=True)
    return subprocess.Popen([str(binary), str(listen), str(upstream), str(DELAY_US)])


def behind(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's on loopback."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{port}"))


def round_trip_ms(url: str) -> float:
    """Median PING time through the proxy, as a web worker sees it."""
    client = run.redis.Redis.from_url(url)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        client.ping()
        times.append(time.perf_counter() - start)
    return median(times) * 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="wallet-remote-"))
    redis_port, redis_proxy = run.free_port(), run.free_port()
    procs = [subprocess.Popen(run.redis_command(redis_port, folder, "--appendonly", "no"), stdout=subprocess.DEVNULL)]
    with_pg = run.pg_wallet_ready()
    try:
        procs.append(proxy(folder, redis_proxy, redis_port))
        extra = {"proxy": procs[-1].pid}
        database_url = run.DATABASE_URL
        if with_pg:
            pg_proxy = run.free_port()
            procs.append(proxy(folder, pg_proxy, urlsplit(run.DATABASE_URL).port or 5432))
            extra["pg_proxy"], database_url = procs[-1].pid, behind(run.DATABASE_URL, pg_proxy)
        time.sleep(0.5)
        redis_url = f"redis://127.0.0.1:{redis_proxy}/0"
        rtt = round_trip_ms(redis_url)
        print(f"Redis round trip through the proxy: {rtt:.2f} ms")
        run.fund(redis_url, "bench")
        steps = run.plan("bdeh" if with_pg else "bdh")
        servers = run.serve(steps, run.service_env(redis_url, database_url))
        procs += [proc for proc, _ in servers.values()]
        report(run.measure_all(steps, servers, run.request_files(folder), procs[0].pid, extra), rtt)
    finally:
        run.stop(procs)
        if with_pg:
            run.pg_wallet_drop()


def report(runs: run.Runs, rtt: float) -> None:
    figures = run.medians(runs)
    best = run.best_of(figures)
    d = best["d"][1]
    proxies = ", ".join(
        f"{name.replace('_', ' ')} {d[f'{name}_us']:.0f}" for name in ("proxy", "pg_proxy") if f"{name}_us" in d
    )
    text = f"""## Redis a network hop away (bench/remote.py, `make bench-remote`)

Generated on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}: {run.CORES} cores, {run.CONNECTIONS} connections,
{run.SECONDS:.0f} s per measurement, {run.ROUNDS} rounds (medians), Redis (and the PostgreSQL
wallet's database) behind bench/delayproxy.c holding every chunk {DELAY_US} us each way: a PING
takes {rtt:.2f} ms as the workers see it (on loopback: ~0.1 ms). The proxies share the
{run.CORES} cores (CPU us per mixed callback: {proxies}).

The same targets as on loopback, the wallet at its defaults against each baseline at its best:
{run.targets_text(best)}

Every worker model (req/s / p99 ms; the best of each column in bold): {run.best_wallet_model(figures)}.

{run.models_text(figures)}
"""
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
