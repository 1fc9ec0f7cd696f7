"""Redis one network hop away: which gunicorn worker model serves the callbacks best there.

A PaaS Redis is another machine: every script call waits a round trip. This starts a private
redis-server behind bench/delayproxy.c (BENCH_REMOTE_DELAY_US each way, default 500: ~1 ms of
added round trip, a managed Redis in the same region), then for each worker model below starts
the floor app and the wallet with that model and measures (b) the floor and (d) the mix with wrk,
exactly as bench/run.py does (fresh Redis state per model, targets alternated, CPU per process).
Writes bench/REMOTE.md, which bench/run.py puts into bench/RESULTS.md. Run: `make bench-remote`.
Settings: BENCH_SECONDS (per measurement, default 6), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS,
BENCH_REMOTE_DELAY_US; needs a C compiler (cc) for the proxy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

os.environ.setdefault("BENCH_SECONDS", "6")
os.environ.setdefault("BENCH_ROUNDS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run

DELAY_US = int(os.environ.get("BENCH_REMOTE_DELAY_US", "500"))
CORES = os.cpu_count() or 1


def _model(per_core: int, threads: int) -> tuple[str, list[str]]:
    """A label and gunicorn's flags for ``per_core`` workers per core of ``threads`` threads each."""
    workers, kind = per_core * CORES, "sync" if threads == 1 else "gthread"
    label = f"sync, {workers} workers" if threads == 1 else f"gthread, {workers} workers x {threads} threads"
    label += " (the default)" if (per_core, threads) == (1, 16) else ""
    return label, ["--workers", str(workers), "--worker-class", kind, "--threads", str(threads)]


MODELS = [_model(2, 1), _model(4, 1), _model(8, 1), _model(2, 4), _model(2, 8), _model(1, 16)]
OUT = Path(os.environ.get("BENCH_REMOTE_RESULTS", run.ROOT / "bench" / "REMOTE.md"))


def proxy(folder: Path, listen: int, upstream: int) -> subprocess.Popen[bytes]:
    binary = folder / "delayproxy"
    source = run.ROOT / "bench" / "delayproxy.c"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(binary), str(source)], check=True)
    return subprocess.Popen([str(binary), str(listen), str(upstream), str(DELAY_US)])


def round_trip_ms(url: str) -> float:
    """Median PING time through the proxy, as a web worker sees it."""
    client = run.redis.Redis.from_url(url)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        client.ping()
        times.append(time.perf_counter() - start)
    return median(times) * 1000


def measure_model(tuning: list[str], redis_url: str, pids: dict[str, int], files: dict[str, Path]) -> dict[str, list]:
    """(b) and (d) under one worker model, BENCH_ROUNDS rounds alternated, on a freshly funded Redis."""
    run.redis.Redis.from_url(redis_url).flushall()
    run.fund(redis_url, "bench")
    env = run.service_env(redis_url)
    servers = {
        "b": (run.gunicorn(port := run.free_port(), tuning, run.MINIMAL, env, "/a"), port),
        "d": (run.gunicorn(port := run.free_port(), tuning, ["app:app"], env, "/healthz"), port),
    }
    figures: dict[str, list] = {"b": [], "d": []}
    try:
        for round_no in range(run.ROUNDS):
            for target, (proc, port) in servers.items():
                before = run.cpu_seconds([pids["proxy"]])
                url = f"http://127.0.0.1:{port}"
                f = run.measured(url, files[target], round_no, run.process_tree(proc.pid), pids["redis"])
                f["proxy_us"] = (run.cpu_seconds([pids["proxy"]]) - before) / f["requests"] * 1e6
                figures[target].append(f)
                print(
                    f"  {target}: {f['rps']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, "
                    f"web {f['web_us']:.0f} us/request, errors {f['errors']:.0f}, non-2xx {f['non2xx']:.0f}"
                )
    finally:
        for proc, _ in servers.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    return figures


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="wallet-remote-"))
    redis_port, proxy_port = run.free_port(), run.free_port()
    procs = [subprocess.Popen(run.redis_command(redis_port, folder, "--appendonly", "no"), stdout=subprocess.DEVNULL)]
    try:
        procs.append(proxy(folder, proxy_port, redis_port))
        time.sleep(0.5)
        redis_url = f"redis://127.0.0.1:{proxy_port}/0"
        rtt = round_trip_ms(redis_url)
        print(f"Redis round trip through the proxy: {rtt:.2f} ms")
        files = run.request_files(folder)
        pids = {"redis": procs[0].pid, "proxy": procs[1].pid}
        results = {}
        for label, tuning in MODELS:
            print(label)
            results[label] = measure_model(tuning, redis_url, pids, files)
        report(results, rtt)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)


HEADER = (
    "| worker model | (b) floor req/s | (b) p99 ms | (d) mix req/s | (d) p50 ms | (d) p99 ms | (d) of (b) |"
    " web CPU us per mixed callback | proxy CPU us | errors + non-2xx |\n" + "|---" * 10 + "|"
)


def report(results: dict[str, dict[str, list]], rtt: float) -> None:
    def mid(rows: list[dict[str, float]], key: str) -> float:
        return median(r[key] for r in rows)

    lines = []
    for label, figures in results.items():
        b, d = figures["b"], figures["d"]
        errors = sum(r["errors"] + r["non2xx"] for r in b + d)
        lines.append(
            f"| {label} | {mid(b, 'rps'):.0f} | {mid(b, 'p99_ms'):.1f} | {mid(d, 'rps'):.0f} | "
            f"{mid(d, 'p50_ms'):.1f} | {mid(d, 'p99_ms'):.1f} | {mid(d, 'rps') / mid(b, 'rps'):.0%} | "
            f"{mid(d, 'web_us'):.0f} | {mid(d, 'proxy_us'):.0f} | {errors:.0f} |"
        )
    best = max(results, key=lambda label: mid(results[label]["d"], "rps"))
    text = f"""## Redis a network hop away (bench/remote.py, `make bench-remote`)

Generated on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}: {CORES} cores, {run.CONNECTIONS} connections,
{run.SECONDS:.0f} s per measurement, {run.ROUNDS} rounds (medians), Redis behind bench/delayproxy.c holding every
chunk {DELAY_US} us each way: a PING takes {rtt:.2f} ms as the workers see it (on loopback: ~0.1 ms).
The proxy shares the two cores; its CPU per request is shown.

{HEADER}
{chr(10).join(lines)}

Most mixed callbacks per second here: **{best}**.
"""
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
