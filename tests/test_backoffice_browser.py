"""The back office in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium):
an admin made with `wallet user` signs in with a TOTP code, searches, makes a confirmed deposit and
an adjustment with its reason, blocks the player and finds it all in the audit trail. Screenshots
go to artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests

from tests.servers import BIN, free_port, running

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
KEY = "demo-operator-key"
PASSWORD = "a long enough password"

if not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("WALLET_REQUIRE_BROWSER"):
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed here (.ci/run installs them and sets "
        "WALLET_REQUIRE_BROWSER=1, so CI never skips this)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.once  # starts servers of its own: the first pass only (conftest)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def admin_secret(tmp_path: Path) -> str:
    """An admin `rita` with a second factor, made with the command line: its TOTP secret."""
    env = _env(tmp_path)

    def wallet(*args: str, stdin: str = "") -> str:
        run = subprocess.run([str(BIN / "wallet"), *args], env=env, input=stdin, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout

    wallet("migrate")
    wallet("user", "add", "rita", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    found = re.search(r"secret \(shown once.*\): ([A-Z2-7]+)", wallet("user", "2fa", "rita"))
    assert found
    return found[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "OPERATOR_API_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'wallet.db'}"
    return env


@pytest.fixture
def served(tmp_path: Path, admin_secret: str) -> Iterator[str]:
    """`wallet serve` on its embedded store, as `make run` starts it."""
    port = free_port()
    with running([str(BIN / "wallet"), "serve", "--port", str(port)], _env(tmp_path), port) as (base, _):
        yield base


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chrome'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def wait_text(browser: webdriver.Chrome, element_id: str, text: str) -> None:
    """Wait (up to 10 s) for the page that a click loads to show ``text`` in the element."""
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element((By.ID, element_id), text))


def shot(browser: webdriver.Chrome, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def test_login_search_deposit_block(served: str, admin_secret: str, browser: webdriver.Chrome) -> None:
    """An admin signs in with a TOTP code, finds a player, deposits 15.00 after confirming, takes
    5.00 back as an adjustment with a reason, blocks the player, and sees the audit trail."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {KEY}"
    api.post(f"{served}/api/v1/players", json={"id": "shopper", "currency": "EUR"}, timeout=5)
    api.post(
        f"{served}/api/v1/players/shopper/deposits",
        json={"amount": "10.00"},
        headers={"Idempotency-Key": "seed"},
        timeout=5,
    )
    _drained(served, api, "shopper", entries=1)  # search reads SQL
    browser.get(f"{served}/backoffice/")
    shot(browser, "01-login")
    browser.find_element(By.ID, "name").send_keys("rita")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(admin_secret).now())
    browser.find_element(By.ID, "login").click()
    wait_text(browser, "who", "rita (admin)")
    browser.find_element(By.ID, "q").send_keys("shop")
    browser.find_element(By.ID, "search").click()
    shot(browser, "02-players")
    browser.find_element(By.LINK_TEXT, "shopper").click()
    wait_text(browser, "balance", "10.00 EUR")
    browser.find_element(By.ID, "amount").send_keys("15.00")
    browser.find_element(By.ID, "cashier").click()
    wait_text(browser, "question", "Deposit of 15.00 to shopper?")
    shot(browser, "03-confirm")
    browser.find_element(By.ID, "confirm").click()
    wait_text(browser, "balance", "25.00 EUR")
    Select(browser.find_element(By.ID, "kind")).select_by_value("adjustment")
    browser.find_element(By.ID, "amount").send_keys("-5.00")
    browser.find_element(By.ID, "reason").send_keys("duplicate deposit, ticket 42")
    browser.find_element(By.ID, "cashier").click()
    wait_text(browser, "question", "Adjustment of -5.00 for shopper?")
    browser.find_element(By.ID, "confirm").click()
    wait_text(browser, "balance", "20.00 EUR")
    browser.find_element(By.ID, "block").click()
    wait_text(browser, "status", "blocked")
    _drained(served, api, "shopper", entries=3)  # the page's ledger reads SQL
    browser.refresh()
    shot(browser, "04-player")
    assert api.get(f"{served}/api/v1/players/shopper", timeout=5).json() == {
        "id": "shopper",
        "currency": "EUR",
        "balance": "20.00",
        "status": "blocked",
    }
    browser.find_element(By.LINK_TEXT, "Audit").click()
    trail = browser.find_element(By.ID, "audit").text
    assert "rita admin adjustment shopper -5.00 EUR duplicate deposit, ticket 42 ok" in trail
    assert "rita admin block shopper" in trail and "rita admin login" in trail
    shot(browser, "05-audit")
    _play_a_little(served, api)
    browser.find_element(By.LINK_TEXT, "Reports").click()
    row = browser.find_element(By.CSS_SELECTOR, "#ggr tbody tr").text
    assert "gitslotpark" in row and "10.00 9.00 0.00 1.00 3 1" in row  # bets, wins, rollbacks, GGR, rounds, players
    shot(browser, "06-reports")
    browser.find_element(By.LINK_TEXT, "Health").click()
    browser.find_element(By.ID, "reconcile").click()
    wait_text(browser, "check", "all reconcile")
    shot(browser, "07-health")


def _play_a_little(served: str, api: requests.Session) -> None:
    """A few GitSlotPark rounds (demo account) so that the report has figures, then a drain."""
    from wallet.sim.providers import GitSlotPark

    api.post(f"{served}/api/v1/players", json={"id": "gamer", "currency": "EUR"}, timeout=5)
    api.post(
        f"{served}/api/v1/players/gamer/deposits", json={"amount": "50.00"}, headers={"Idempotency-Key": "g"}, timeout=5
    )
    gsp = GitSlotPark(served, "demo-agent", "demo-secret")
    for n, (bet, win) in enumerate([(500, 0), (200, 900), (300, 0)]):
        gsp.bet("gamer", bet, f"b{n}", f"r{n}")
        if win:
            gsp.win("gamer", win, f"w{n}", f"r{n}")
    _drained(served, api, "gamer", entries=5)


def _drained(served: str, api: requests.Session, player: str, entries: int) -> None:
    """Wait until the embedded worker (draining every second) has the player's entries in SQL."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = api.get(f"{served}/api/v1/players/{player}/transactions", timeout=5).json()
        if len(page["items"]) >= entries:
            return
        time.sleep(0.1)
    raise AssertionError(f"{player}'s {entries} ledger entries were not drained into SQL in 20 s")
