"""The package is whole: a built wheel, installed in a fresh virtualenv and started from another
folder, has its Lua scripts, migrations and templates, and moves money."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.once

CHECK = """
import json, sys, wallet
from wallet import create_app
app = create_app({})
client = app.test_client()
headers = {"Authorization": "Bearer " + app.extensions["wallet"].settings.operator_api_key}
client.post("/api/v1/players", json={"id": "w1", "currency": "EUR"}, headers=headers)
paid = client.post("/api/v1/players/w1/deposits", json={"amount": "12.30"}, headers={**headers, "Idempotency-Key": "k"})
print(json.dumps({"file": wallet.__file__, "status": paid.status_code, "balance": paid.get_json()["balance"]}))
"""


def test_wheel_installs_and_runs_from_another_folder(tmp_path: Path) -> None:
    """pip builds the wheel; in a new virtualenv (dependencies taken from this one, the project's
    own source out of reach) the installed package answers a deposit from a temporary folder."""
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies come from this virtualenv as a plain path (its .pth files, the editable
    # install of this checkout among them, are not read), after the new venv's own packages.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PYTHONPATH")}
    ran = subprocess.run(
        [str(python), "-c", CHECK], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    found = ran.stdout.strip().splitlines()[-1]
    assert str(venv) in found and '"status": 201' in found and '"balance": "12.30"' in found
