"""`make bench` end to end, shortened: every target is measured and reported, and the wallet
answers the whole pre-signed mix without a transport error or a non-2xx status."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if not (shutil.which("wrk") and shutil.which("redis-server")) and not os.environ.get("CI"):
    pytest.skip("wrk or redis-server is missing here (.ci/run installs wrk; CI never skips)", allow_module_level=True)

pytestmark = pytest.mark.once  # starts servers of its own: the first pass only (conftest)


def test_short_benchmark_reports_every_target(tmp_path: Path) -> None:
    """One 1-second round per target: rows with traffic and no errors (the PostgreSQL wallet's when
    PostgreSQL answers, and Hub88's RSA-signed mix), the issue's three targets with their figures, a
    CPU table, script costs, and the cost of one Hub88 signature check."""
    results = tmp_path / "RESULTS.md"
    env = {
        **os.environ,
        "BENCH_SECONDS": "1",
        "BENCH_ROUNDS": "1",
        "BENCH_SCRIPT_CALLS": "300",
        "BENCH_RESULTS": str(results),
    }
    env.pop("REDIS_URL", None)  # the benchmark starts a Redis of its own
    done = subprocess.run(
        [sys.executable, "bench/run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = results.read_text()
    rows = re.findall(r"^\| \(([a-h])\) [^|]+\| (\d+) \|.*\| (\d+) / (\d+) \|$", text, re.MULTILINE)
    with_pg = "against a PostgreSQL row-lock wallet: not measured" not in text
    assert [row[0] for row in rows] == ["a", "b", "c", "d", *(["e"] if with_pg else []), "f", "g", "h"]
    assert re.search(
        r"^- players without money, \(h\), at least as fast as \(d\): \d+%: \*\*(met|NOT met)\*\*$", text, re.M
    )
    assert re.search(r"^- players with limits, \(g\), at least 90 % of \(b\): \d+%: \*\*(met|NOT met)\*\*$", text, re.M)
    assert re.search(
        r"^Hub88's signature check alone .*\n2,000\): \*\*\d+ us per callback\*\* of web CPU, \d+%", text, re.M
    )
    targets = re.findall(
        r"^- (web CPU per mixed callback|the mix at least 80 %|the mix .*PostgreSQL).*\*\*(met|NOT met)\*\*$",
        text,
        re.MULTILINE,
    )
    assert len(targets) == 3, text
    assert all(int(rps) > 0 and (errors, non2xx) == ("0", "0") for _, rps, errors, non2xx in rows), rows
    assert re.search(r"^\| d \| \d+ \| \d+ \| \d+ \| \d+ \|$", text, re.MULTILINE)
    assert len(re.findall(r"^\| \w+\.lua \| [\d,]+ \|$", text, re.MULTILINE)) == 5
    assert re.search(r"^\| debit\.lua, new ids, 4 aged-id generations half full \| [\d,]+ \|$", text, re.MULTILINE)
