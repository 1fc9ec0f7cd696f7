"""The benchmark: gunicorn + a real Redis on loopback, driven by wrk, targets alternated in one run.

    (a) framework ceiling: minimal Flask app parsing the JSON body   (bench/minimal_app.py /a)
    (b) floor of a Redis-backed callback: (a) + one trivial EVALSHA   (bench/minimal_app.py /b)
    (c) GitSlotPark GetBalance on the wallet
    (d) a realistic Withdraw/Deposit/BetWin/Rollback/GetBalance mix on 1,000 players
    (e) the same mix on a PostgreSQL row-lock wallet (bench/pg_app.py), when PostgreSQL answers
    Each baseline ((a), (b), (e)) and the mix (d) run under every worker model of MODELS (sync at 1,
    2 and 4 workers per core; gthread at the wallet's defaults and at 2 per core x 8 threads): the
    baselines are compared at their best, the wallet at its defaults (issue 24); the mix's row per
    model says whether the defaults should move.
    (f) a Hub88 mix (bet/win/rollback/balance, RSA-signed bodies, session tokens) on the wallet
    (g) the mix of (d) on players who all have limits (stake, loss and deposit: checked, never hit)
    (h) the mix of (d) on players without money: bets mostly refused for funds (issue 24)
    then the Redis-side cost of each money script: calls per second on the server (INFO commandstats)

Prints the figures and writes bench/RESULTS.md (with bench/REMOTE.md, the remote-Redis study of
bench/remote.py, and bench/TUNING.md appended). Run: `make bench` (or python bench/run.py).
Settings: BENCH_SECONDS (per measurement, default 8), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS
(default 32), BENCH_MODELS (the worker models, 'workers-per-core x threads', default
1x1,2x1,4x1,1x16,2x8; the wallet's defaults, 1x16, always run), BENCH_SCRIPT_CALLS
(per script cost measurement, default 10,000), BENCH_RESULTS (where to write, default
bench/RESULTS.md), BENCH_DATABASE_URL (PostgreSQL for (e), default
postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import psycopg
import redis
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from wallet import create_app  # noqa: E402
from wallet.core import aged  # noqa: E402
from wallet.core.money import format_amount  # noqa: E402
from wallet.core.store import SHARDS, Store  # noqa: E402
from wallet.core.wallet import Move  # noqa: E402
from wallet.providers.hub88 import signature  # noqa: E402
from wallet.sim.providers import Cents, GitSlotPark  # noqa: E402

AGENT, SECRET, KEY = "bench-agent", "bench-secret", "bench-operator-key"
PLAYERS = 1000
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SCRIPT_CALLS = int(os.environ.get("BENCH_SCRIPT_CALLS", "10000"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "RESULTS.md"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_PREFIX = "wallet_bench"
THREADS = 2  # wrk threads; each replays its own slice of the request file
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Model:
    """A gunicorn worker model: ``per_core`` workers per core, ``threads`` threads each."""

    per_core: int
    threads: int

    @property
    def label(self) -> str:
        workers = self.per_core * CORES
        return (
            f"sync, {workers} workers" if self.threads == 1 else f"gthread, {workers} workers x {self.threads} threads"
        )

    def flags(self) -> list[str]:
        """gunicorn's own worker classes at this model: how a baseline runs."""
        kind = "sync" if self.threads == 1 else "gthread"
        return ["--workers", str(self.per_core * CORES), "--worker-class", kind, "--threads", str(self.threads)]

    def env(self) -> dict[str, str]:
        """The wallet's settings for this model (gunicorn.conf.py then picks its own worker classes)."""
        return {"WEB_CONCURRENCY": str(self.per_core * CORES), "WEB_THREADS": str(self.threads)}


DEFAULT = Model(1, 16)  # gunicorn.conf.py's defaults: one worker per core, 16 threads


def _models(text: str) -> tuple[Model, ...]:
    """BENCH_MODELS: 'workers-per-core x threads' items, comma-separated; the defaults always in."""
    try:
        models = [Model(*(int(n) for n in item.split("x"))) for item in text.replace(" ", "").split(",") if item]
    except (TypeError, ValueError):
        raise SystemExit(f"BENCH_MODELS: {text!r} is not a list like 1x1,2x1,1x16") from None
    return tuple(dict.fromkeys([*models, DEFAULT]))


MODELS = _models(os.environ.get("BENCH_MODELS", "1x1,2x1,4x1,1x16,2x8"))
#: Targets measured under every model: the baselines, at their best, and the mix, to see whether
#: another model should be the wallet's default. The others run at the defaults only.
SWEPT = ("a", "b", "d", "e")
# Enough for 4,000 req/s in every measurement (the best mix so far: 3,916), so no measurement of
# a run replays a transaction another one played.
MIXED_REQUESTS = int(SECONDS * 4_000) * ROUNDS
#: Hub88 lines are RSA-signed here (~0.5 ms each): enough for ~1,500 callbacks/s per measurement;
#: past that wrk wraps around and replays (answered as repeats).
HUB88_REQUESTS = int(SECONDS * 1_500) * ROUNDS
#: The key pair playing Hub88 (its public half is the wallet's HUB88_PUBLIC_KEY); made per run.
HUB88_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], port: int, path: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.post(f"http://127.0.0.1:{port}{path}", json={}, timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"{' '.join(cmd)} did not start")


def request_files(folder: Path) -> dict[str, Path]:
    """Pre-signed request files for wrk: one 'path<TAB>body' per line."""
    gsp = GitSlotPark("", AGENT, SECRET)
    rng = random.Random(7)
    files = {"a": [("/a", '{"agentID":"x","userID":"p1","sign":"00"}')]}
    files["b"] = [("/b", files["a"][0][1])]
    balance = []
    for i in range(PLAYERS):
        player = f"p{i}"
        body = {"agentID": AGENT, "userID": player, "sign": gsp.sign(AGENT, player)}
        balance.append(("/gitslotpark/GetBalance", json.dumps(body)))
    files["c"] = balance
    files["d"] = [_mixed(gsp, rng, n) for n in range(MIXED_REQUESTS * len(MODELS))]  # (e) plays it too
    files["g"] = [_mixed(gsp, random.Random(9), n, "q") for n in range(MIXED_REQUESTS)]
    files["h"] = [_mixed(gsp, random.Random(10), n, "z") for n in range(MIXED_REQUESTS)]
    paths = {}
    for name, lines in files.items():
        paths[name] = folder / f"{name}.txt"
        paths[name].write_text("".join(f"{path}\t{body}\n" for path, body in lines))
    hub88 = _hub88_mix(random.Random(8))
    paths["f"] = folder / "f.txt"
    paths["f"].write_text(
        "".join(f"{path}\t{body}\t{signature.sign(HUB88_KEY, body.encode())}\n" for path, body in hub88)
    )
    return paths


def _hub88_mix(rng: random.Random) -> list[tuple[str, str]]:
    """Hub88 has no bet-win: bet 45 %, win 30 % (of the player's last bet), rollback 5 %, balance 20 %."""
    last_bet: dict[str, str] = {}
    lines = []
    for n in range(HUB88_REQUESTS):
        i = rng.randrange(PLAYERS)
        player, pick = f"p{i}", rng.random()
        base = {"user": player, "token": f"bench-token-{i}", "request_uuid": f"q{n}", "game_code": "g1"}
        money = {
            **base,
            "transaction_uuid": f"h{n}",
            "currency": "EUR",
            "round": f"r{n}",
            "amount": rng.randint(1, 50) * 1000,
        }
        if pick < 0.45:
            last_bet[player] = f"h{n}"
            lines.append(("/hub88/transaction/bet", json.dumps(money)))
        elif pick < 0.75 and player in last_bet:
            lines.append(
                ("/hub88/transaction/win", json.dumps({**money, "reference_transaction_uuid": last_bet[player]}))
            )
        elif pick < 0.80 and player in last_bet:
            body = {**money, "amount": 0, "reference_transaction_uuid": last_bet.pop(player)}
            lines.append(("/hub88/transaction/rollback", json.dumps(body)))
        else:
            lines.append(("/hub88/user/balance", json.dumps(base)))
    return lines


def _mixed(gsp: GitSlotPark, rng: random.Random, n: int, prefix: str = "p") -> tuple[str, str]:
    """Round-robin over Withdraw 35%, Deposit 25%, BetWin 15%, Rollback 5%, GetBalance 20%."""
    player, tx, rnd = f"{prefix}{rng.randrange(PLAYERS)}", f"t{n}", f"r{n}"
    amount = rng.randint(10, 500)
    pick = rng.random()
    if pick < 0.35:
        body = {"userID": player, "amount": format_amount(amount), "transactionID": tx, "roundID": rnd}
        return "/gitslotpark/Withdraw", json.dumps(
            {"agentID": AGENT, **body, "sign": gsp.sign(AGENT, player, Cents(amount), tx, rnd)}
        )
    if pick < 0.60:
        body = {"userID": player, "amount": format_amount(amount), "transactionID": tx, "roundID": rnd}
        return "/gitslotpark/Deposit", json.dumps(
            {"agentID": AGENT, **body, "sign": gsp.sign(AGENT, player, Cents(amount), tx, rnd)}
        )
    if pick < 0.75:
        win = rng.choice((0, amount * 2))
        body = {
            "userID": player,
            "betAmount": format_amount(amount),
            "winAmount": format_amount(win),
            "transactionID": tx,
            "roundID": rnd,
        }
        sign = gsp.sign(AGENT, player, Cents(amount), Cents(win), tx, rnd)
        return "/gitslotpark/BetWin", json.dumps({"agentID": AGENT, **body, "sign": sign})
    if pick < 0.80:
        target = f"t{max(0, n - rng.randint(1, 50))}"
        body = {"agentID": AGENT, "userID": player, "transactionID": target, "sign": gsp.sign(AGENT, player, target)}
        return "/gitslotpark/RollbackTransaction", json.dumps(body)
    return "/gitslotpark/GetBalance", json.dumps({"agentID": AGENT, "userID": player, "sign": gsp.sign(AGENT, player)})


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(stat[11]) + int(stat[12])
    return total / TICK


def process_tree(pid: int) -> list[int]:
    """A gunicorn master and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def measured(url: str, file: Path, part: tuple[int, int], web: list[int], redis_pid: int) -> dict[str, float]:
    """wrk's figures plus the CPU microseconds per request spent by the web server, Redis and wrk."""
    before = cpu_seconds(web), cpu_seconds([redis_pid]), _children_cpu()
    figures = wrk(url, file, part)
    after = cpu_seconds(web), cpu_seconds([redis_pid]), _children_cpu()
    for name, start, end in zip(("web_us", "redis_us", "wrk_us"), before, after, strict=True):
        figures[name] = (end - start) / figures["requests"] * 1e6
    return figures


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, file: Path, part: tuple[int, int]) -> dict[str, float]:
    """One wrk run replaying part ``part[0]`` of ``part[1]`` equal parts of the file, so that no two
    measurements of one run play the same transaction."""
    out = subprocess.run(
        [
            "wrk",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS:.0f}s",
            f"-t{THREADS}",
            "--latency",
            "-s",
            str(ROOT / "bench" / "requests.lua"),
            url,
            "--",
            str(file),
            str(part[0] * THREADS),
            str(part[1] * THREADS),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def fund(redis_url: str, prefix: str) -> None:
    env = {
        "REDIS_URL": redis_url,
        "OPERATOR_API_KEY": KEY,
        "WALLET_KEY_PREFIX": prefix,
        "DATABASE_URL": "sqlite://",
        "WALLET_FILE_DATABASE": "1",
    }
    wallet = create_app(env).extensions["wallet"].wallet
    for i in range(PLAYERS):
        wallet.create_player(f"p{i}", "EUR")
        wallet.credit(Move("cashier", f"p{i}", "seed", win=10**11), kind="deposit")
        wallet.open_session(f"p{i}", 24 * 3600, f"bench-token-{i}")  # the token of the Hub88 lines
        wallet.create_player(f"q{i}", "EUR")  # (g)'s players: limits checked on every bet, never reached
        wallet.credit(Move("cashier", f"q{i}", "seed", win=10**11), kind="deposit")
        high = {"stake": 10**9, "loss:day": 10**11, "loss:week": 10**11, "loss:month": 10**11, "deposit:day": 10**11}
        wallet.set_limits(f"q{i}", high)
        wallet.create_player(f"z{i}", "EUR")  # (h)'s players: no money, so their bets are refused


def script_costs(redis_url: str) -> dict[str, float]:
    """Server-side calls/s of each money script: 1e6 / usec_per_call of its EVALSHA, best of 3 x SCRIPT_CALLS."""
    env = {
        "REDIS_URL": redis_url,
        "OPERATOR_API_KEY": KEY,
        "WALLET_KEY_PREFIX": "cost",
        "DATABASE_URL": "sqlite://",
        "WALLET_FILE_DATABASE": "1",
    }
    services = create_app(env).extensions["wallet"]
    client, wallet = services.store.client, services.wallet
    for i in range(200):
        wallet.create_player(f"c{i}", "EUR")
        wallet.credit(Move("cashier", f"c{i}", "seed", win=10**11), kind="deposit")
    calls = {
        "balance": lambda n: wallet.player(f"c{n % 200}"),
        "debit": lambda n: wallet.debit(Move("gitslotpark", f"c{n % 200}", f"d{n}", bet=100, round=f"r{n}")),
        "credit": lambda n: wallet.credit(Move("gitslotpark", f"c{n % 200}", f"w{n}", win=100, round=f"r{n}")),
        "betwin": lambda n: wallet.bet_win(Move("gitslotpark", f"c{n % 200}", f"b{n}", bet=100, win=50)),
        "rollback": lambda n: wallet.rollback("gitslotpark", f"c{n % 200}", f"d{n}"),
    }
    costs = {f"{name}.lua": _calls_per_second(client, call, 0) for name, call in calls.items()}
    _half_full_generations(services.store, 4)
    costs["debit.lua, new ids, 4 aged-id generations half full"] = _calls_per_second(client, calls["debit"], 3)
    return costs


def rsa_verify_us() -> float:
    """In-process cost of checking one X-Hub88-Signature (RSA-2048 PKCS#1 v1.5 SHA-256, Base64),
    best of three rounds of 2,000: what Hub88 adds to each callback's web CPU."""
    body = json.dumps({"user": "p1", "token": "t", "request_uuid": "q", "amount": 100000}).encode()
    header, public = signature.sign(HUB88_KEY, body), HUB88_KEY.public_key()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(2000):
            signature.valid(public, body, header)
        best = min(best, (time.perf_counter() - started) / 2000 * 1e6)
    return best


def _calls_per_second(client: redis.Redis, call: object, first_round: int) -> float:
    """Best of three rounds of SCRIPT_CALLS calls (rounds from ``first_round``: fresh ids each)."""
    best = 0.0
    for attempt in range(first_round, first_round + 3):  # best of three: the server's cost, not the noise
        client.config_resetstat()
        for n in range(attempt * SCRIPT_CALLS, (attempt + 1) * SCRIPT_CALLS):
            call(n)  # type: ignore[operator]
        usec = client.info("commandstats").get("cmdstat_evalsha", {}).get("usec_per_call") or 1.0
        best = max(best, 1e6 / usec)
    return best


def _half_full_generations(store: Store, count: int) -> None:
    """``count`` aged-id generations with half their bits set: what a new id is checked against in
    production (a full generation has ~38 % of its bits set, so this is the pessimistic side)."""
    live = [aged.Generation(g, aged.bits_for(4_000_000, SHARDS), 4_000_000, time.time()) for g in range(count, 0, -1)]
    store.save_generations(live, [])
    pipe = store.client.pipeline(transaction=False)
    for g in live:
        for shard in range(SHARDS):
            pipe.set(f"{store.prefix}:{{s{shard}}}:aged:{g.id}", b"\x55" * (g.bits // 8))
    pipe.execute()


def redis_command(port: int, folder: Path, *settings: str) -> list[str]:
    """A private redis-server on loopback ``port``, keeping nothing on disk but in ``folder``."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder), *settings]


def pg_wallet_ready() -> bool:
    """Create and fund target (e)'s tables; False (and a line saying why) when PostgreSQL does not answer."""
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {PG_PREFIX}_players, {PG_PREFIX}_txs")
            conn.execute(f"CREATE TABLE {PG_PREFIX}_players (player text PRIMARY KEY, balance bigint NOT NULL)")
            conn.execute(
                f"CREATE TABLE {PG_PREFIX}_txs (player text, tx text, delta bigint NOT NULL,"
                " rolled_back boolean NOT NULL DEFAULT false, PRIMARY KEY (player, tx))"
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {PG_PREFIX}_players VALUES (%s, %s)", [(f"p{i}", 10**13) for i in range(PLAYERS)]
                )
        return True
    except psycopg.OperationalError as exc:
        print(f"target (e) skipped: PostgreSQL at {DATABASE_URL} does not answer ({exc})".splitlines()[0])
        return False


def pg_wallet_drop() -> None:
    with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {PG_PREFIX}_players, {PG_PREFIX}_txs")


def gunicorn(port: int, tuning: list[str], app: list[str], env: dict[str, str], path: str) -> subprocess.Popen[bytes]:
    """gunicorn with the wallet's gunicorn.conf.py (plus ``tuning``), started and answering."""
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "-c", "gunicorn.conf.py", *tuning, *app]
    return start(command, env, port, path)


def service_env(redis_url: str, database_url: str = DATABASE_URL) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("WEB_CONCURRENCY", "WEB_THREADS")}
    return {
        **env,
        "REDIS_URL": redis_url,
        "OPERATOR_API_KEY": KEY,
        "GITSLOTPARK_AGENT_ID": AGENT,
        "GITSLOTPARK_SECRET_KEY": SECRET,
        "WALLET_KEY_PREFIX": "bench",
        "DATABASE_URL": "sqlite://",
        "WALLET_FILE_DATABASE": "1",
        "BENCH_DATABASE_URL": database_url,
        "BENCH_PG_PREFIX": PG_PREFIX,
        "HUB88_PUBLIC_KEY": HUB88_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }


MINIMAL = ["--chdir", "bench", "minimal_app:app"]
PG_WALLET = ["--chdir", "bench", "pg_app:app"]
#: Which app serves each target, and the path that answers once it is up.
APPS = {"minimal": (MINIMAL, "/a"), "wallet": (["app:app"], "/healthz"), "pg": (PG_WALLET, "/gitslotpark/GetBalance")}
SERVED_BY = {"a": "minimal", "b": "minimal", "c": "wallet", "d": "wallet", "e": "pg"}
Server = tuple[subprocess.Popen[bytes], int]
Runs = dict[tuple[str, Model], list[dict[str, float]]]


def plan(targets: str) -> list[tuple[str, Model]]:
    """Each target under each model it runs with, in the order one round measures them."""
    return [(t, model) for t in targets for model in (MODELS if t in SWEPT else (DEFAULT,))]


def serve(plan: list[tuple[str, Model]], env: dict[str, str]) -> dict[tuple[str, Model], Server]:
    """One gunicorn per app and model the plan needs: the baselines with gunicorn's own worker
    classes at the model's flags, the wallet with its settings for the model (none: its defaults)."""
    servers = {}
    for app in dict.fromkeys((SERVED_BY.get(t, "wallet"), model) for t, model in plan):
        name, model = app
        command, path = APPS[name]
        if name == "wallet":
            app_env, flags = {**env, **(model.env() if model != DEFAULT else {})}, []
        else:
            app_env, flags = env, model.flags()
        servers[app] = (gunicorn(port := free_port(), flags, command, app_env, path), port)
    return servers


def measure_all(
    plan: list[tuple[str, Model]],
    servers: dict[tuple[str, Model], Server],
    files: dict[str, Path],
    redis_pid: int,
    extra: dict[str, int] | None = None,
) -> Runs:
    """ROUNDS rounds of every (target, model) of the plan, alternated. ``extra``: more processes
    whose CPU per request is reported (name -> pid: a proxy)."""
    runs: Runs = {step: [] for step in plan}
    for round_no in range(ROUNDS):
        for target, model in plan:
            proc, port = servers[SERVED_BY.get(target, "wallet"), model]
            models = [m for t, m in plan if t == target]  # each measurement its own part of the file
            part = (round_no * len(models) + models.index(model), ROUNDS * len(models))
            before = {name: cpu_seconds([pid]) for name, pid in (extra or {}).items()}
            file = files["d" if target == "e" else target]
            figures = measured(f"http://127.0.0.1:{port}", file, part, process_tree(proc.pid), redis_pid)
            for name, pid in (extra or {}).items():
                figures[f"{name}_us"] = (cpu_seconds([pid]) - before[name]) / figures["requests"] * 1e6
            runs[target, model].append(figures)
            print(
                f"round {round_no + 1} ({target}, {model.label}): {figures['rps']:.0f} req/s, "
                f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, errors {figures['errors']}, "
                f"non-2xx {figures['non2xx']}, CPU us/request: web {figures['web_us']:.0f}, "
                f"redis {figures['redis_us']:.0f}, wrk {figures['wrk_us']:.0f}"
            )
    return runs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def main() -> None:
    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    data = Path(tempfile.mkdtemp(prefix="wallet-bench-"))
    procs = [subprocess.Popen(redis_command(redis_port, data, "--appendonly", "no"), stdout=subprocess.DEVNULL)]
    with_pg = pg_wallet_ready()
    try:
        time.sleep(0.5)
        fund(redis_url, "bench")
        steps = plan("abcdefgh" if with_pg else "abcdfgh")
        servers = serve(steps, service_env(redis_url))
        procs += [proc for proc, _ in servers.values()]
        runs = measure_all(steps, servers, request_files(data), procs[0].pid)
        report(runs, script_costs(redis_url), rsa_verify_us())
    finally:
        stop(procs)
        if with_pg:
            pg_wallet_drop()


CPU = ("web_us", "redis_us", "wrk_us")
NAMES = {
    "a": "(a) framework ceiling: Flask, parse JSON, constant answer",
    "b": "(b) floor: (a) + one trivial EVALSHA",
    "c": "(c) GitSlotPark GetBalance",
    "d": "(d) mix: Withdraw 35 / Deposit 25 / BetWin 15 / Rollback 5 / GetBalance 20 %, 1,000 players",
    "e": "(e) the same mix on a PostgreSQL row-lock wallet (SELECT ... FOR UPDATE)",
    "f": "(f) Hub88 mix: bet 45 / win 30 / rollback 5 / balance 20 %, RSA-2048 signed bodies, 1,000 players",
    "g": "(g) the mix of (d) on 1,000 players with stake, loss and deposit limits (checked, never reached)",
    "h": "(h) the mix of (d) on 1,000 players without money (bets refused for funds, wins paid)",
}
Figures = dict[str, float]


def medians(runs: Runs) -> dict[tuple[str, Model], Figures]:
    keys = ("rps", "p50_ms", "p99_ms", "errors", "non2xx")
    return {
        step: {k: median(r[k] for r in rs) for k in (*keys, *(k for k in rs[0] if k.endswith("_us")))}
        for step, rs in runs.items()
    }


def best_of(figures: dict[tuple[str, Model], Figures]) -> dict[str, tuple[Model, Figures]]:
    """Per target: the baselines at their best model (most req/s), the wallet's targets at its defaults."""
    chosen: dict[str, tuple[Model, Figures]] = {}
    for (target, model), f in figures.items():
        if SERVED_BY.get(target, "wallet") == "wallet":
            if model == DEFAULT:
                chosen[target] = (model, f)
        elif target not in chosen or f["rps"] > chosen[target][1]["rps"]:
            chosen[target] = (model, f)
    return {t: chosen[t] for t in sorted(chosen)}


def verdict(text: str, ok: bool) -> str:
    return f"- {text}: **{'met' if ok else 'NOT met'}**"


def targets_text(best: dict[str, tuple[Model, Figures]]) -> str:
    """Issue 24's targets (and issue 23's) with their figures: the wallet at its defaults against
    each baseline at its best, all of one run."""
    (b_model, b), (_, d) = best["b"], best["d"]
    lines = [
        verdict(
            f"the mix at least 95 % of the best floor ((b), {b_model.label}): {d['rps'] / b['rps']:.0%}",
            d["rps"] >= 0.95 * b["rps"],
        ),
    ]
    if "e" in best:
        e_model, e = best["e"]
        ratio = d["rps"] / e["rps"]
        lines.append(
            verdict(
                f"the mix at least 2x the best PostgreSQL row-lock wallet ((e), {e_model.label}): {ratio:.2f}x",
                ratio >= 2,
            )
        )
    else:
        lines.append(verdict("the mix against a PostgreSQL row-lock wallet: not measured (no PostgreSQL)", False))
    tail = d["p99_ms"] / b["p99_ms"]
    lines.append(
        verdict(
            f"the mix's p99 at most 1.5x the best floor's: {d['p99_ms']:.1f} / {b['p99_ms']:.1f} ms = {tail:.2f}x",
            tail <= 1.5,
        )
    )
    if "h" in best:  # a refusal writes nothing, so it should be no slower than a payment
        ratio = best["h"][1]["rps"] / d["rps"]
        lines.append(verdict(f"players without money, (h), at least as fast as (d): {ratio:.0%}", ratio >= 1.0))
    if "g" in best:  # issue 23: limits checked on every bet keep the mix at least 90 % of the floor
        share = best["g"][1]["rps"] / b["rps"]
        lines.append(verdict(f"players with limits, (g), at least 90 % of the best floor: {share:.0%}", share >= 0.9))
    return "\n".join(lines)


def models_text(figures: dict[tuple[str, Model], Figures]) -> str:
    """Every swept target under every model: req/s and p99 ms; the best of each column in bold."""
    swept = [t for t in SWEPT if any(step[0] == t for step in figures)]
    best = {t: max((m for tt, m in figures if tt == t), key=lambda m: figures[t, m]["rps"]) for t in swept}
    rows = []
    for model in MODELS:
        cells = []
        for t in swept:
            f = figures[t, model]
            cell = f"{f['rps']:.0f} / {f['p99_ms']:.1f}"
            cells.append(f"**{cell}**" if best[t] == model else cell)
        name = model.label + (" (the wallet's default)" if model == DEFAULT else "")
        rows.append(f"| {name} | {' | '.join(cells)} |")
    head = " | ".join(f"({t}) req/s / p99 ms" for t in swept)
    return f"| worker model | {head} |\n|---{'|---' * len(swept)}|\n" + "\n".join(rows)


def best_wallet_model(figures: dict[tuple[str, Model], Figures]) -> str:
    """Which model served the mix best, and how the defaults compare."""
    model = max((m for t, m in figures if t == "d"), key=lambda m: figures["d", m]["rps"])
    rps, default = figures["d", model]["rps"], figures["d", DEFAULT]["rps"]
    if model == DEFAULT:
        return f"the wallet's mix did best at its defaults ({model.label}: {rps:.0f} req/s)"
    return (
        f"the wallet's mix did best under {model.label} ({rps:.0f} req/s; "
        f"the defaults {default:.0f}, {default / rps:.0%})"
    )


def report(runs: Runs, costs: dict[str, float], rsa_us: float) -> None:
    figures = medians(runs)
    best = best_of(figures)
    a, b = best["a"][1]["rps"], best["b"][1]["rps"]
    rows = [
        f"| {NAMES[t]} | {m.label} | {f['rps']:.0f} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['rps'] / a:.0%} | "
        f"{f['rps'] / b:.0%} | {f['errors']:.0f} / {f['non2xx']:.0f} |"
        for t, (m, f) in best.items()
    ]
    cpu_rows = [
        f"| {t} | {' | '.join(f'{f[k]:.0f}' for k in CPU)} | {sum(f[k] for k in CPU):.0f} |"
        for t, (_, f) in best.items()
    ]
    cost_rows = [f"| {label} | {rate:,.0f} |" for label, rate in costs.items()]
    scripts_ok = min(costs.values()) >= 30_000
    text = f"""# Benchmark results

Generated by `make bench` (bench/run.py) on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}:
{CORES} cores, {CONNECTIONS} connections, wrk -t{THREADS}, {SECONDS:.0f} s per measurement, {ROUNDS} rounds
alternating the targets (medians shown), Redis {redis.__version__} client, Redis server on
loopback without persistence. The baselines (a), (b) and (e) ran under each worker model below
with gunicorn's own worker classes and are shown at their best; the wallet's rows ran at its
defaults (gunicorn.conf.py: {DEFAULT.label}).

| target | worker model | req/s | p50 ms | p99 ms | of (a) | of (b) | errors / non-2xx |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Targets (issue 24, and issue 23's (g)), measured in this run:
{targets_text(best)}

Every worker model (req/s / p99 ms; the best of each column in bold): {best_wallet_model(figures)}.

{models_text(figures)}

Where the time goes: CPU microseconds per request (user + system, from /proc), by process. On
{CORES} cores a target can serve at most {CORES} s / its total per request.

| target | web server (gunicorn workers) | Redis | wrk | total |
|---|---|---|---|---|
{chr(10).join(cpu_rows)}

Hub88's signature check alone (RSA-2048 verification of the raw body, in process, best of 3 x
2,000): **{rsa_us:.0f} us per callback** of web CPU{_hub88_share(best, rsa_us)}.

Redis-side cost of each script (calls/s on the server = 1e6 / usec_per_call of EVALSHA, best of 3 x {SCRIPT_CALLS:,}):

| script | calls/s on the server |
|---|---|
{chr(10).join(cost_rows)}

Target: every money script at least 30,000 calls/s: **{"met" if scripts_ok else "NOT met"}**.

{_appendix("REMOTE.md")}{(ROOT / "bench" / "TUNING.md").read_text()}"""
    RESULTS.write_text(text)
    print(text)


def _hub88_share(best: dict[str, tuple[Model, Figures]], rsa_us: float) -> str:
    """The check's share of (f)'s web CPU per callback, and (f) against the GitSlotPark mix (d)."""
    if "f" not in best:
        return ""
    f, d = best["f"][1], best["d"][1]
    return (
        f", {rsa_us / f['web_us']:.0%} of (f)'s {f['web_us']:.0f} us; (f) serves {f['rps'] / d['rps']:.0%} "
        f"of (d)'s callbacks per second"
    )


def _appendix(name: str) -> str:
    path = ROOT / "bench" / name
    return path.read_text() + "\n" if path.exists() else ""


if __name__ == "__main__":
    main()
