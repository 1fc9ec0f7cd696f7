"""`make soak` end to end, shortened: the soak plays, records age out, money is conserved, and the
report has every figure and the sizing table (so the soak cannot rot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if not shutil.which("redis-server") and not os.environ.get("CI"):
    pytest.skip("redis-server is missing here (CI has it and never skips this)", allow_module_level=True)
pytestmark = pytest.mark.once


def test_short_soak_reports_memory_and_conserves_money(tmp_path: Path) -> None:
    """15 seconds at a 5 s retention and an 8-second burst: ids reach the aged-id filter, the simulator
    finds every balance right, and SOAK.md has the per-record figures, the sizing table and the
    burst's peak memory under 90 % of maxmemory."""
    results = tmp_path / "SOAK.md"
    env = {
        **os.environ,
        **{"SOAK_SECONDS": "15", "SOAK_RETENTION": "5s", "SOAK_RATE": "60", "SOAK_RESULTS": str(results)},
        **{"SOAK_BURST_SECONDS": "8", "SOAK_BURST_RATE": "120"},
    }
    done = subprocess.run(
        [sys.executable, "bench/soak.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = results.read_text()
    assert "money conserved for all 200 players" in text
    aged = next(line for line in text.splitlines() if line.startswith("| ids in the aged-id filter"))
    assert int(aged.split("|")[2].strip().replace(",", "")) > 0
    assert "| bytes per live record" in text and "| callbacks per day |" in text
    burst = next(line for line in text.splitlines() if line.startswith("Burst: "))
    assert "at most 90%" in burst, burst
